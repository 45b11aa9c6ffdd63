import { Box, Button, Group, Skeleton, Stack, Text } from "@mantine/core";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import type { GridApi } from "ag-grid-community";
import { useMemo, useRef, useState } from "react";
import { entityQuery } from "../../../api/queries";
import { ErrorState } from "../../../components/error-state";
import { errorSummaryQuery, fetchRows, type ImportSession, type RowFilter, rowCountQuery, type StagedRow } from "../api";
import { formatInt } from "../format";
import { BulkDrawer } from "./bulk-drawer";
import { describeFilter, ErrorChips, RowCounts, StatusFilter } from "./review-filters";
import { ReviewGrid } from "./review-grid";
import { RowDrawer } from "./row-drawer";
import { createStagedDatasource } from "./staged-datasource";
import { useRowEdits } from "./use-row-edits";

type Props = {
  workspaceId: number;
  session: ImportSession;
  filter: RowFilter;
  openRow: number | undefined;
  onFilterChange: (filter: RowFilter) => void;
  onOpenRow: (row: number | undefined) => void;
  onContinue: () => void;
};

/** The review screen: the staged rows in a grid, filtered to problems, fixed inline or in bulk. */
export default function ReviewStep({ workspaceId, session, filter, openRow, onFilterChange, onOpenRow, onContinue }: Props) {
  const queryClient = useQueryClient();
  const entity = useQuery(entityQuery(workspaceId, session.entity ?? ""));
  const summary = useQuery(errorSummaryQuery(workspaceId, session.id));
  const count = useQuery(rowCountQuery(workspaceId, session.id, filter));
  const [selected, setSelected] = useState<number[]>([]);
  const [bulkOpen, setBulkOpen] = useState(false);
  const [loadError, setLoadError] = useState<unknown>(null);
  const grid = useRef<GridApi<StagedRow> | null>(null);

  const mapped = useMemo(() => new Set(Object.values(session.mapping ?? {}).filter(Boolean)), [session.mapping]);
  const fields = useMemo(() => (entity.data?.fields ?? []).filter((f) => mapped.has(f.key)), [entity.data, mapped]);

  const datasource = useMemo(
    () =>
      createStagedDatasource({
        filter,
        fetchPage: (cursor, limit) => fetchRows(workspaceId, session.id, { cursor, limit, filter }),
        fetchCount: async () => (await queryClient.fetchQuery(rowCountQuery(workspaceId, session.id, filter))).count,
        onLoaded: () => setLoadError(null),
        onError: setLoadError,
      }),
    // A new filter is a new datasource: the grid starts again from the top.
    [workspaceId, session.id, filter.status, filter.field, filter.code, queryClient], // eslint-disable-line react-hooks/exhaustive-deps
  );

  const { refresh, onCellEdit, bulk, undo } = useRowEdits({
    workspaceId,
    session,
    fields: entity.data?.fields,
    grid,
    datasource,
    onBulkApplied: () => {
      grid.current?.deselectAll();
      setSelected([]);
    },
  });

  if (entity.isPending) return <Skeleton height={480} />;
  if (entity.isError) return <ErrorState title="Could not load the entity's fields" error={entity.error} onRetry={() => void entity.refetch()} />;

  const described = describeFilter(filter, fields);
  const fieldLabel = (k: string) => (k === "_row" ? "Row" : fields.find((f) => f.key === k)?.label ?? k);

  return (
    <Stack gap="sm" h="calc(100dvh - 220px)" mih={520}>
      <RowCounts counts={session.counts} />
      <ErrorChips summary={summary} filter={filter} onFilterChange={onFilterChange} fieldLabel={fieldLabel} />
      <Group justify="space-between" wrap="wrap" gap="xs">
        <StatusFilter filter={filter} onFilterChange={onFilterChange} count={count.data?.count} described={described} />
        <Group gap="xs">
          {undo.label !== undefined && (
            <Button size="xs" variant="light" color="gray" loading={undo.running} onClick={undo.run}>
              Undo: {undo.label}
            </Button>
          )}
          <Button
            size="xs"
            variant="light"
            onClick={() => {
              // A new drawer: no message left from the last edit.
              bulk.reset();
              setBulkOpen(true);
            }}
          >
            Bulk edit{selected.length ? ` (${formatInt(selected.length)} selected)` : "…"}
          </Button>
          <Button size="xs" onClick={onContinue} disabled={!session.counts.valid}>
            Preview import
          </Button>
        </Group>
      </Group>
      {loadError !== null && (
        <ErrorState
          title="Could not load rows"
          error={loadError}
          onRetry={() => {
            setLoadError(null);
            refresh();
          }}
        />
      )}
      <Box flex={1} mih={320} data-testid="review-grid">
        <ReviewGrid
          fields={fields}
          datasource={datasource}
          onCellEdit={onCellEdit}
          onSelectionChange={setSelected}
          onOpenRow={onOpenRow}
          onReady={(api) => {
            grid.current = api;
          }}
        />
      </Box>
      <Text size="xs" c="dimmed">
        Arrow keys move, Enter or typing edits a cell, Escape cancels an edit. Click a row number to see the whole row.
      </Text>
      <BulkDrawer
        opened={bulkOpen}
        onClose={() => setBulkOpen(false)}
        fields={fields}
        selectedRows={selected}
        filter={filter}
        filterCount={count.data?.count}
        describeFilter={described}
        undoHint={bulk.undoHint}
        onApply={bulk.apply}
        applying={bulk.applying}
        error={bulk.error}
      />
      <RowDrawer workspaceId={workspaceId} importId={session.id} rowNo={openRow} fieldLabel={fieldLabel} onClose={() => onOpenRow(undefined)} />
    </Stack>
  );
}
