import { Alert, Badge, Button, Group, Modal, Paper, Select, Stack, Table, Text } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { errorMessage } from "../../api/client";
import { changeRole, type Member, memberKeys, removeMember, type Role, ROLES } from "./api";
import { lastAdminReason } from "./logic";

type Props = { workspaceId: number; members: Member[]; canManage: boolean; myUserId: number | undefined };

/** Who is in the workspace; admins change roles and remove people (a workspace keeps one admin). */
export function MembersTable({ workspaceId, members, canManage, myUserId }: Props) {
  const queryClient = useQueryClient();
  const [removing, setRemoving] = useState<Member | null>(null);
  const refresh = () => queryClient.invalidateQueries({ queryKey: memberKeys.members(workspaceId) });
  const roleChange = useMutation({
    mutationFn: ({ member, role }: { member: Member; role: Role }) => changeRole(workspaceId, member.user_id, role),
    onSuccess: (m) => {
      notifications.show({ message: `${m.email} is now ${m.role}.` });
      void refresh();
    },
  });
  const removal = useMutation({
    mutationFn: (member: Member) => removeMember(workspaceId, member.user_id),
    onSuccess: (_, member) => {
      notifications.show({ message: `${member.email} was removed.` });
      setRemoving(null);
      void refresh();
    },
  });
  const reason = removing ? lastAdminReason(members, removing) : null;

  return (
    <Stack gap="sm">
      {roleChange.isError && (
        <Alert color="red" variant="light" role="alert" title="The role was not changed" withCloseButton onClose={() => roleChange.reset()}>
          {errorMessage(roleChange.error)}
        </Alert>
      )}
      <Paper withBorder radius="md">
        <Table verticalSpacing="xs" data-testid="members">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>Email</Table.Th>
              <Table.Th>Role</Table.Th>
              {canManage && <Table.Th aria-label="Actions" />}
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {members.map((m) => (
              <Table.Tr key={m.user_id} data-testid={`member-${m.email}`}>
                <Table.Td>
                  <Group gap="xs" wrap="nowrap">
                    <Text size="sm">{m.name || "–"}</Text>
                    {m.user_id === myUserId && (
                      <Badge size="xs" variant="light">
                        you
                      </Badge>
                    )}
                  </Group>
                </Table.Td>
                <Table.Td>
                  <Text size="sm">{m.email}</Text>
                </Table.Td>
                <Table.Td w={180}>
                  {canManage ? (
                    <Select
                      aria-label={`Role of ${m.email}`}
                      size="xs"
                      allowDeselect={false}
                      data={ROLES.map((r) => ({ value: r.value, label: r.label }))}
                      value={m.role}
                      disabled={roleChange.isPending}
                      onChange={(value) => {
                        if (value && value !== m.role) roleChange.mutate({ member: m, role: value as Role });
                      }}
                    />
                  ) : (
                    <Text size="sm">{ROLES.find((r) => r.value === m.role)?.label ?? m.role}</Text>
                  )}
                </Table.Td>
                {canManage && (
                  <Table.Td ta="right">
                    <Button size="compact-xs" variant="light" color="red" onClick={() => setRemoving(m)}>
                      Remove
                    </Button>
                  </Table.Td>
                )}
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Paper>
      <Modal
        opened={removing !== null}
        onClose={() => {
          setRemoving(null);
          removal.reset();
        }}
        title={`Remove ${removing?.email ?? ""}?`}
      >
        <Stack gap="md">
          {reason ? (
            <Alert color="orange" variant="light" role="alert">
              {reason}
            </Alert>
          ) : (
            <Text size="sm">They lose access to this workspace at once, and the API keys they made here are revoked. Invite them again to bring them back.</Text>
          )}
          {removal.isError && (
            <Alert color="red" variant="light" role="alert">
              {errorMessage(removal.error)}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setRemoving(null)}>
              Keep
            </Button>
            {!reason && (
              <Button color="red" loading={removal.isPending} onClick={() => removing && removal.mutate(removing)}>
                Remove
              </Button>
            )}
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}
