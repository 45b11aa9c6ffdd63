import { Avatar, Menu, Text, UnstyledButton } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { api, errorMessage, unwrap } from "../../api/client";
import { meQuery } from "../../api/queries";

/** The signed-in user, and signing out. */
export function UserMenu({ onSignedOut }: { onSignedOut: () => void }) {
  const me = useQuery(meQuery());
  const queryClient = useQueryClient();
  const logout = useMutation({
    mutationFn: () => unwrap(api.POST("/api/v1/auth/logout")),
    onSuccess: () => {
      queryClient.clear();
      onSignedOut();
    },
    onError: (err) => notifications.show({ color: "red", title: "Could not sign out", message: errorMessage(err) }),
  });
  const user = me.data?.user;
  const initials = (user?.name || user?.email || "?").slice(0, 2).toUpperCase();

  return (
    <Menu position="bottom-end" width={240} withinPortal>
      <Menu.Target>
        <UnstyledButton aria-label="Account menu">
          <Avatar radius="xl" size="md" color="blue">
            {initials}
          </Avatar>
        </UnstyledButton>
      </Menu.Target>
      <Menu.Dropdown>
        <Menu.Label>Signed in as</Menu.Label>
        <Text size="sm" px="sm" pb="xs" truncate="end">
          {user ? user.name || user.email : "…"}
        </Text>
        {user?.name && (
          <Text size="xs" c="dimmed" px="sm" pb="xs" truncate="end">
            {user.email}
          </Text>
        )}
        <Menu.Divider />
        <Menu.Item color="red" onClick={() => logout.mutate()} disabled={logout.isPending}>
          Sign out
        </Menu.Item>
      </Menu.Dropdown>
    </Menu>
  );
}
