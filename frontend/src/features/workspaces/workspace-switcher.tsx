import { Button, Group, Select, Skeleton, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { workspacesQuery } from "../../api/queries";

type Props = { currentId: number; onSwitch: (workspaceId: number) => void };

/** Choose the workspace; the current one is the `/w/$workspaceId` part of the URL. */
export function WorkspaceSwitcher({ currentId, onSwitch }: Props) {
  const workspaces = useQuery(workspacesQuery());

  if (workspaces.isPending) return <Skeleton height={34} width={220} aria-label="Loading workspaces" />;
  if (workspaces.isError) {
    return (
      <Group gap="xs" wrap="nowrap">
        <Text size="sm" c="red">
          Workspaces unavailable
        </Text>
        <Button size="compact-xs" variant="light" color="red" onClick={() => void workspaces.refetch()}>
          Retry
        </Button>
      </Group>
    );
  }

  return (
    <Select
      aria-label="Workspace"
      w={240}
      allowDeselect={false}
      checkIconPosition="right"
      comboboxProps={{ withinPortal: true }}
      data={workspaces.data.map((w) => ({ value: String(w.id), label: w.name }))}
      placeholder="Choose a workspace"
      value={workspaces.data.some((w) => w.id === currentId) ? String(currentId) : null}
      onChange={(value) => {
        if (value && Number(value) !== currentId) onSwitch(Number(value));
      }}
      renderOption={({ option }) => {
        const ws = workspaces.data.find((w) => String(w.id) === option.value);
        return (
          <Group justify="space-between" w="100%" wrap="nowrap" gap="xs">
            <Text size="sm" truncate="end">
              {option.label}
            </Text>
            {ws && (
              <Text size="xs" c="dimmed">
                {ws.role}
              </Text>
            )}
          </Group>
        );
      }}
    />
  );
}
