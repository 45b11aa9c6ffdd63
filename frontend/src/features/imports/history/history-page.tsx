import { ActionIcon, Badge, Button, Group, Menu, Modal, Paper, Skeleton, Stack, Table, Text, Title, Tooltip } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useInfiniteQuery, useQueryClient } from "@tanstack/react-query";
import { getRouteApi, useNavigate } from "@tanstack/react-router";
import { useEffect, useState } from "react";
import { errorMessage } from "../../../api/client";
import { EmptyState } from "../../../components/empty-state";
import { ErrorState } from "../../../components/error-state";
import { AnchorLink, ButtonLink } from "../../../components/links";
import { FINISHED_STATUSES, type ImportSession, importKeys, importListPage, RUNNING_STATUSES } from "../api";
import { formatExact, formatInt, formatRelative, statusLabel, STATUS_COLORS } from "../format";
import { useCancelImport, useDeleteImport, useRetryImport } from "../mutations";

const route = getRouteApi("/w/$workspaceId/imports");

type Pending = { kind: "cancel" | "delete"; session: ImportSession } | null;

/** Import sessions, newest first: status, counts, when, and what can be done with each. */
export default function HistoryPage() {
  const { workspaceId } = route.useParams();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const [pending, setPending] = useState<Pending>(null);
  const retry = useRetryImport(workspaceId);
  const cancel = useCancelImport(workspaceId);
  const remove = useDeleteImport(workspaceId);
  // One action at a time, whichever row it is on.
  const busy = retry.isPending || cancel.isPending || remove.isPending;
  const [, setTick] = useState(0);

  const list = useInfiniteQuery({
    queryKey: importKeys.list(workspaceId),
    queryFn: ({ pageParam, signal }) => importListPage(workspaceId, pageParam, signal),
    initialPageParam: undefined as number | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    // While one runs, its row follows it.
    refetchInterval: (q) => (q.state.data?.pages.some((p) => p.items.some((i) => RUNNING_STATUSES.has(i.status))) ? 2000 : false),
  });
  // Relative times move on by themselves.
  useEffect(() => {
    const t = setInterval(() => setTick((n) => n + 1), 30_000);
    return () => clearInterval(t);
  }, []);

  const items = list.data?.pages.flatMap((p) => p.items) ?? [];

  const act = async (write: Promise<unknown>, done: string) => {
    try {
      await write;
      notifications.show({ message: done });
    } catch (err) {
      notifications.show({ color: "red", title: "That did not work", message: errorMessage(err) });
    } finally {
      setPending(null);
    }
  };
  /** Cancel or retry: besides the session and the list, its rows, progress and version may have moved on. */
  const changed = (s: ImportSession) => void queryClient.invalidateQueries({ queryKey: importKeys.one(workspaceId, s.id) });

  const open = (s: ImportSession) => void navigate({ to: "/w/$workspaceId/imports/$importId", params: { workspaceId, importId: s.id }, search: {} });

  return (
    <Stack gap="md">
      <Group justify="space-between">
        <div>
          <Title order={2}>Imports</Title>
          <Text size="sm" c="dimmed">
            Every import session{list.isSuccess ? ` (${formatInt(items.length)}${list.hasNextPage ? "+" : ""})` : ""}; running ones update by themselves.
          </Text>
        </div>
        <ButtonLink to="/w/$workspaceId/imports/new" params={{ workspaceId }}>
          New import
        </ButtonLink>
      </Group>
      {list.isPending ? (
        <Stack gap={6} aria-busy="true" aria-label="Loading">
          {Array.from({ length: 5 }, (_, i) => (
            <Skeleton key={i} height={40} />
          ))}
        </Stack>
      ) : list.isError ? (
        <ErrorState title="Could not load the imports" error={list.error} onRetry={() => void list.refetch()} retrying={list.isFetching} />
      ) : items.length === 0 ? (
        <EmptyState
          title="No imports yet"
          action={
            <ButtonLink to="/w/$workspaceId/imports/new" params={{ workspaceId }} variant="light">
              Import a file
            </ButtonLink>
          }
        >
          Upload a CSV, Excel, OpenDocument or JSON file to create or update records.
        </EmptyState>
      ) : (
        <Paper withBorder radius="md">
          <Table highlightOnHover verticalSpacing="xs" data-testid="import-history">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>File</Table.Th>
                <Table.Th>Entity</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th ta="right">Rows</Table.Th>
                <Table.Th ta="right">Written</Table.Th>
                <Table.Th ta="right">Problems</Table.Th>
                <Table.Th>Started</Table.Th>
                <Table.Th aria-label="Actions" />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {items.map((s) => {
                const c = s.counts;
                const problems = (c.invalid ?? 0) + (c.rejected ?? 0) + (c.failed ?? 0);
                const canRetry = s.status === "failed" || (s.status === "completed_with_errors" && (c.chunks_failed ?? 0) > 0);
                return (
                  <Table.Tr key={s.id} data-testid={`import-${s.id}`}>
                    <Table.Td>
                      <AnchorLink to="/w/$workspaceId/imports/$importId" params={{ workspaceId, importId: s.id }} search={{}} size="sm" fw={500}>
                        {s.file_name || `Import ${s.id}`}
                      </AnchorLink>
                    </Table.Td>
                    <Table.Td>{s.entity ?? "–"}</Table.Td>
                    <Table.Td>
                      <Badge color={STATUS_COLORS[s.status] ?? "gray"} variant="light">
                        {statusLabel(s.status)}
                      </Badge>
                    </Table.Td>
                    <Table.Td ta="right">{c.rows !== undefined ? formatInt(c.rows) : "–"}</Table.Td>
                    <Table.Td ta="right">{c.created !== undefined ? formatInt((c.created ?? 0) + (c.updated ?? 0)) : "–"}</Table.Td>
                    <Table.Td ta="right" c={problems ? "red" : undefined}>
                      {c.rows !== undefined ? formatInt(problems) : "–"}
                    </Table.Td>
                    <Table.Td>
                      <Tooltip label={formatExact(s.created_at)}>
                        <Text size="sm" component="time" dateTime={s.created_at}>
                          {formatRelative(s.created_at)}
                        </Text>
                      </Tooltip>
                    </Table.Td>
                    <Table.Td>
                      <Group gap={4} justify="flex-end" wrap="nowrap">
                        {canRetry && (
                          <Button size="compact-xs" variant="light" color="orange" loading={busy} onClick={() => void act(retry.mutateAsync(s.id).then(changed), `Import ${s.id} is retrying.`)}>
                            Retry
                          </Button>
                        )}
                        {!FINISHED_STATUSES.has(s.status) && (
                          <Button size="compact-xs" variant="light" color="red" onClick={() => setPending({ kind: "cancel", session: s })}>
                            Cancel
                          </Button>
                        )}
                        <Menu position="bottom-end" withinPortal>
                          <Menu.Target>
                            <ActionIcon variant="subtle" color="gray" aria-label={`More actions for import ${s.id}`}>
                              ⋯
                            </ActionIcon>
                          </Menu.Target>
                          <Menu.Dropdown>
                            <Menu.Item onClick={() => open(s)}>Open</Menu.Item>
                            <Menu.Item color="red" disabled={RUNNING_STATUSES.has(s.status)} onClick={() => setPending({ kind: "delete", session: s })}>
                              Delete…
                            </Menu.Item>
                          </Menu.Dropdown>
                        </Menu>
                      </Group>
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
          {list.hasNextPage && (
            <Group justify="center" p="sm">
              <Button variant="subtle" onClick={() => void list.fetchNextPage()} loading={list.isFetchingNextPage}>
                Load older imports
              </Button>
            </Group>
          )}
        </Paper>
      )}
      <Modal opened={pending !== null} onClose={() => setPending(null)} title={pending?.kind === "delete" ? "Delete this import?" : "Cancel this import?"}>
        <Stack gap="md">
          <Text size="sm">
            {pending?.kind === "delete"
              ? `${pending.session.file_name}: the session, its staged rows and its file are deleted. Records it wrote stay.`
              : `${pending?.session.file_name}: work not started yet is not done; what was written stays.`}
          </Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setPending(null)}>
              Keep it
            </Button>
            <Button
              color="red"
              loading={busy}
              onClick={() => {
                if (!pending) return;
                const s = pending.session;
                void (pending.kind === "delete"
                  ? act(remove.mutateAsync(s.id), `Import ${s.id} deleted.`)
                  : act(cancel.mutateAsync(s.id).then(changed), `Import ${s.id} cancelled.`));
              }}
            >
              {pending?.kind === "delete" ? "Delete" : "Cancel import"}
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}
