import { Button, Group, Skeleton, Stack, Text, Title } from "@mantine/core";
import { useInfiniteQuery, useQuery } from "@tanstack/react-query";
import { getRouteApi } from "@tanstack/react-router";
import { useCallback } from "react";
import { ApiError } from "../../api/client";
import { entitiesQuery } from "../../api/queries";
import { EmptyState } from "../../components/empty-state";
import { ErrorState } from "../../components/error-state";
import { auditQuery } from "./api";
import { AuditFilters } from "./audit-filters";
import { AuditTable } from "./audit-table";
import { auditProblem, hasFilters, NO_FILTERS } from "./logic";
import type { AuditSearch } from "./search";

const route = getRouteApi("/w/$workspaceId/audit");

/** The workspace's audit trail (admins): every change, newest first, filtered by what is in the URL. */
export default function AuditPage() {
  const { workspaceId } = route.useParams();
  const search = route.useSearch();
  const navigate = route.useNavigate();
  const entities = useQuery(entitiesQuery(workspaceId));
  const list = useInfiniteQuery(auditQuery(workspaceId, search));

  const entityLabel = useCallback((key: string) => entities.data?.find((e) => e.key === key)?.label ?? key, [entities.data]);
  const onChange = useCallback(
    (patch: Partial<AuditSearch>) => void navigate({ search: (prev) => ({ ...prev, ...patch }), replace: true }),
    [navigate],
  );
  const events = list.data?.pages.flatMap((p) => p.items) ?? [];
  const filtered = hasFilters(search);
  // Filters mean nothing to someone who may not read the trail at all.
  const forbidden = list.error instanceof ApiError && list.error.status === 403;

  return (
    <Stack gap="md">
      <div>
        <Title order={2}>Audit trail</Title>
        <Text size="sm" c="dimmed">
          Every change in this workspace, newest first: records, imports and the schema. Each line links to what it is about.
        </Text>
      </div>
      {!forbidden && <AuditFilters workspaceId={workspaceId} search={search} onChange={onChange} />}
      {list.isPending ? (
        <Stack gap={6} aria-busy="true" aria-label="Loading">
          {Array.from({ length: 6 }, (_, i) => (
            <Skeleton key={i} height={40} />
          ))}
        </Stack>
      ) : list.isError && !list.isFetchNextPageError ? (
        <AuditError error={list.error} onRetry={() => void list.refetch()} retrying={list.isFetching} />
      ) : events.length === 0 ? (
        filtered ? (
          <EmptyState
            title="No events match these filters"
            action={
              <Button variant="light" onClick={() => onChange(NO_FILTERS)}>
                Clear filters
              </Button>
            }
          >
            Nothing recorded in this workspace matches every filter above. Widen the time range or remove a filter.
          </EmptyState>
        ) : (
          <EmptyState title="No events yet">Changes to records, imports and the schema appear here as they happen.</EmptyState>
        )
      ) : (
        <Stack gap="sm">
          <AuditTable workspaceId={workspaceId} events={events} entityLabel={entityLabel} busy={list.isPlaceholderData} />
          <Group justify="space-between">
            <Text size="sm" c="dimmed" aria-live="polite">
              {list.hasNextPage ? `The newest ${events.length} events` : events.length === 1 ? "1 event" : `All ${events.length} events`}
              {filtered ? " matching these filters" : ""}
            </Text>
            {list.hasNextPage && (
              <Button variant="light" onClick={() => void list.fetchNextPage()} loading={list.isFetchingNextPage}>
                Load older events
              </Button>
            )}
          </Group>
          {list.isFetchNextPageError && <ErrorState title="Could not load older events" error={list.error} onRetry={() => void list.fetchNextPage()} />}
        </Stack>
      )}
    </Stack>
  );
}

function AuditError({ error, onRetry, retrying }: { error: unknown; onRetry: () => void; retrying: boolean }) {
  const { title, retry } = auditProblem(error);
  return <ErrorState title={title} error={error} onRetry={retry ? onRetry : undefined} retrying={retrying} />;
}
