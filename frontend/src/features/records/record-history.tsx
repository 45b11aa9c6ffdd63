import { Badge, Button, Group, Paper, Skeleton, Stack, Table, Text, VisuallyHidden } from "@mantine/core";
import { useInfiniteQuery } from "@tanstack/react-query";
import type { Entity } from "../../api/client";
import { actorLabel } from "../../components/actor-label";
import { EmptyState } from "../../components/empty-state";
import { ErrorState } from "../../components/error-state";
import { AnchorLink } from "../../components/links";
import { formatTimestamp } from "./format";
import { CHANGE_COLORS, CHANGE_LABELS, entryNote, type FieldChange, fieldChanges, type HistoryEntry, recordHistoryQuery } from "./history";

type Props = { workspaceId: number; entity: Entity; recordId: number };

/** Every change to one record, newest first: what, who, when, which import, and each field's before → after. */
export function RecordHistory({ workspaceId, entity, recordId }: Props) {
  const history = useInfiniteQuery(recordHistoryQuery(workspaceId, entity.key, recordId));
  const entries = history.data?.pages.flatMap((p) => p.items) ?? [];

  if (history.isPending) {
    return (
      <Stack gap="sm" aria-busy="true" aria-label="Loading">
        {Array.from({ length: 3 }, (_, i) => (
          <Skeleton key={i} height={72} />
        ))}
      </Stack>
    );
  }
  if (history.isError && !history.isFetchNextPageError) {
    return <ErrorState title="Could not load the history" error={history.error} onRetry={() => void history.refetch()} retrying={history.isFetching} />;
  }
  if (entries.length === 0) {
    return <EmptyState title="No recorded changes">Changes made to this record from now on are listed here: who, when and what.</EmptyState>;
  }
  return (
    <Stack gap="sm">
      <Stack gap="sm" component="ol" aria-label="Changes, newest first" style={{ listStyle: "none", padding: 0, margin: 0 }}>
        {entries.map((entry) => (
          <Entry key={entry.event_id} workspaceId={workspaceId} entity={entity} entry={entry} />
        ))}
      </Stack>
      {history.isFetchNextPageError && <ErrorState title="Could not load older changes" error={history.error} onRetry={() => void history.fetchNextPage()} />}
      {history.hasNextPage && (
        <Group justify="center">
          <Button variant="light" onClick={() => void history.fetchNextPage()} loading={history.isFetchingNextPage}>
            Load older changes
          </Button>
        </Group>
      )}
    </Stack>
  );
}

function Entry({ workspaceId, entity, entry }: { workspaceId: number; entity: Entity; entry: HistoryEntry }) {
  const changes = fieldChanges(entry, entity);
  const note = entryNote(entry, entity);
  return (
    <Paper component="li" withBorder radius="md" p="sm" data-testid="history-entry" data-change={entry.change}>
      <Group gap="xs" wrap="wrap">
        <Badge color={CHANGE_COLORS[entry.change]} variant="light">
          {CHANGE_LABELS[entry.change]}
        </Badge>
        {entry.bulk && (
          <Badge color="gray" variant="outline">
            bulk change
          </Badge>
        )}
        {entry.import_id && (
          <AnchorLink to="/w/$workspaceId/imports/$importId" params={{ workspaceId, importId: entry.import_id }} search={{}} size="sm">
            by import #{entry.import_id}
          </AnchorLink>
        )}
      </Group>
      <Text size="sm" mt={4}>
        {actorLabel(entry.actor)}
        <Text span c="dimmed" inherit>
          {" · "}
          <time dateTime={entry.at}>{formatTimestamp(entry.at)}</time>
        </Text>
      </Text>
      {note && (
        <Text size="sm" c="dimmed" mt={4}>
          {note}
        </Text>
      )}
      {changes.length > 0 && <ChangeTable changes={changes} />}
    </Paper>
  );
}

function ChangeTable({ changes }: { changes: FieldChange[] }) {
  return (
    <Table mt="xs" layout="fixed" verticalSpacing={4} fz="sm">
      <Table.Tbody>
        {changes.map((c) => (
          <Table.Tr key={c.key}>
            <Table.Th w={150} fw={500}>
              {c.label}
            </Table.Th>
            <Table.Td style={{ overflowWrap: "anywhere", whiteSpace: "pre-wrap" }}>
              {c.before !== undefined && c.after !== undefined ? (
                <>
                  <Value text={c.before} dimmed />
                  <Text span c="dimmed" aria-hidden>
                    {" → "}
                  </Text>
                  <VisuallyHidden>changed to</VisuallyHidden>
                  <Value text={c.after} />
                </>
              ) : c.after !== undefined ? (
                <Value text={c.after} />
              ) : (
                <Value text={c.before ?? ""} dimmed />
              )}
            </Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

function Value({ text, dimmed }: { text: string; dimmed?: boolean }) {
  if (text === "") {
    return (
      <Text span c="dimmed" fs="italic" inherit>
        empty
      </Text>
    );
  }
  return (
    <Text span c={dimmed ? "dimmed" : undefined} inherit>
      {text}
    </Text>
  );
}
