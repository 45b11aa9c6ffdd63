import { Badge, Button, Skeleton, Stack, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { entitiesQuery } from "../../api/queries";
import { NavLinkLink } from "../../components/links";

const countFormat = new Intl.NumberFormat("en-US", { notation: "compact", maximumFractionDigits: 1 });

/** The workspace's entities with their record counts, for the navbar. */
export function EntityNav({ workspaceId, onNavigate }: { workspaceId: number; onNavigate?: () => void }) {
  const entities = useQuery(entitiesQuery(workspaceId));

  if (entities.isPending) {
    return (
      <Stack gap={6} aria-busy="true" aria-label="Loading entities">
        {Array.from({ length: 4 }, (_, i) => (
          <Skeleton key={i} height={32} radius="sm" />
        ))}
      </Stack>
    );
  }
  if (entities.isError) {
    return (
      <Stack gap="xs" p="xs">
        <Text size="sm" c="red">
          Could not load entities.
        </Text>
        <Button size="compact-sm" variant="light" onClick={() => void entities.refetch()}>
          Retry
        </Button>
      </Stack>
    );
  }
  if (entities.data.length === 0) {
    return (
      <Text size="sm" c="dimmed" p="xs">
        No entities yet.
      </Text>
    );
  }

  return (
    <Stack gap={2} component="nav" aria-label="Entities">
      <NavLinkLink
        to="/w/$workspaceId"
        params={{ workspaceId }}
        activeOptions={{ exact: true }}
        label="All entities"
        onClick={onNavigate}
      />
      {entities.data.map((e) => (
        <NavLinkLink
          key={e.key}
          to="/w/$workspaceId/e/$entityKey"
          params={{ workspaceId, entityKey: e.key }}
          label={e.label}
          onClick={onNavigate}
          rightSection={
            <Badge size="sm" variant="light" color="gray" title={`${e.record_count.toLocaleString("en-US")} records`}>
              {countFormat.format(e.record_count)}
            </Badge>
          }
        />
      ))}
    </Stack>
  );
}
