import { Alert, Badge, Box, Button, Chip, Drawer, Group, SegmentedControl, Skeleton, Stack, Table, Text } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import type { GridApi } from "ag-grid-community";
import { useCallback, useMemo, useRef, useState } from "react";
import { ApiError, errorMessage } from "../../api/client";
import { entityQuery } from "../../api/queries";
import { ErrorState } from "../../components/error-state";
import {
  type BulkEdit,
  bulkEdit,
  editRow,
  errorSummaryQuery,
  fetchRows,
  type ImportSession,
  importKeys,
  type RowFilter,
  rowCountQuery,
  rowsVersionQuery,
  type StagedRow,
  stagedRowQuery,
} from "./api";
import { BulkDrawer } from "./bulk-drawer";
import { formatInt, plural } from "./format";
import { cellError, ReviewGrid } from "./review-grid";
import { isRowStatusFilter } from "./search";
import { createStagedDatasource } from "./staged-datasource";

type Props = {
  workspaceId: number;
  session: ImportSession;
  filter: RowFilter;
  openRow: number | undefined;
  onFilterChange: (filter: RowFilter) => void;
  onOpenRow: (row: number | undefined) => void;
  onContinue: () => void;
};

/** Undo of the last bulk action: how to put it back, as API calls. */
type Undo = { label: string; run: () => Promise<unknown> };

const STATUS_FILTERS = [
  { value: "", label: "All rows" },
  { value: "problems", label: "Problems" },
  { value: "invalid", label: "Invalid" },
  { value: "duplicate", label: "Duplicates" },
  { value: "discarded", label: "Discarded" },
  { value: "valid", label: "Valid" },
];
const UNDO_ROWS = 1000;

/** The review screen: the staged rows in a grid, filtered to problems, fixed inline or in bulk. */
export default function ReviewStep({ workspaceId, session, filter, openRow, onFilterChange, onOpenRow, onContinue }: Props) {
  const queryClient = useQueryClient();
  const entity = useQuery(entityQuery(workspaceId, session.entity ?? ""));
  const summary = useQuery(errorSummaryQuery(workspaceId, session.id));
  const count = useQuery(rowCountQuery(workspaceId, session.id, filter));
  const [selected, setSelected] = useState<number[]>([]);
  const [bulkOpen, setBulkOpen] = useState(false);
  const [undo, setUndo] = useState<Undo | null>(null);
  const [undoing, setUndoing] = useState(false);
  const [loadError, setLoadError] = useState<unknown>(null);
  const grid = useRef<GridApi<StagedRow> | null>(null);
  // Edits carry the rows' version: what someone else changed meanwhile is not overwritten unseen.
  const versionQuery = rowsVersionQuery(workspaceId, session.id);
  const version = useQuery(versionQuery);
  const keepVersion = useCallback((v: string | null) => v && queryClient.setQueryData(versionQuery.queryKey, v), [queryClient, versionQuery.queryKey]);

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

  /** After a change: fresh counts, summary and session; the grid reloads the blocks it shows. */
  const refresh = useCallback(() => {
    void queryClient.invalidateQueries({ queryKey: importKeys.rows(workspaceId, session.id) });
    void queryClient.invalidateQueries({ queryKey: importKeys.one(workspaceId, session.id), exact: true });
    datasource.invalidate();
    grid.current?.refreshInfiniteCache();
  }, [queryClient, workspaceId, session.id, datasource]);

  /** A 412: the rows moved on elsewhere. Show what they are now, and say so. */
  const onConflict = useCallback(
    (err: unknown) => {
      if (!(err instanceof ApiError && err.status === 412)) return false;
      void queryClient.invalidateQueries({ queryKey: versionQuery.queryKey });
      refresh();
      notifications.show({
        color: "orange",
        title: "The rows changed meanwhile",
        message: "Someone (or another tab) edited this import's rows. The grid and counts are up to date now; check, then try again.",
      });
      return true;
    },
    [queryClient, versionQuery.queryKey, refresh],
  );

  const onCellEdit = useCallback(
    (row: StagedRow, field: string, value: unknown, _previous: unknown, revert: () => void, apply: (r: StagedRow) => void) => {
      const label = entity.data?.fields.find((f) => f.key === field)?.label ?? field;
      editRow(workspaceId, session.id, row.row, { [field]: value === "" ? null : value }, version.data).then(
        ({ data: updated, version: next }) => {
          keepVersion(next);
          apply(updated);
          const problem = cellError(updated, field);
          if (problem) notifications.show({ color: "orange", title: `Row ${formatInt(row.row)}, ${label}: still invalid`, message: problem });
          else notifications.show({ color: "green", message: `Row ${formatInt(row.row)}: ${label} saved${updated.status === "valid" ? "; the row is valid now" : ""}.` });
          void queryClient.invalidateQueries({ queryKey: importKeys.rows(workspaceId, session.id) });
          void queryClient.invalidateQueries({ queryKey: importKeys.one(workspaceId, session.id), exact: true });
        },
        (err: unknown) => {
          revert();
          if (!onConflict(err)) notifications.show({ color: "red", title: `Row ${formatInt(row.row)}, ${label}: not saved`, message: errorMessage(err) });
        },
      );
    },
    [workspaceId, session.id, queryClient, entity.data, version.data, keepVersion, onConflict],
  );

  const undoFor = (edit: BulkEdit): Undo | null => {
    const rows = edit.selection.rows;
    if (edit.action === "discard") {
      if (rows) return { label: `restore ${plural(rows.length, "row")}`, run: async () => keepVersion((await bulkEdit(workspaceId, session.id, { action: "restore", selection: { rows } })).version) };
      // With no row discarded before, "every discarded row" is exactly what this discards.
      if (!session.counts.discarded) return { label: "restore the discarded rows", run: async () => keepVersion((await bulkEdit(workspaceId, session.id, { action: "restore", selection: { status: "discarded" } })).version) };
      return null;
    }
    if ((edit.action === "set" || edit.action === "replace") && rows && rows.length <= UNDO_ROWS && edit.field) {
      const key = edit.field;
      const before = rows.map((r) => ({ row: r, value: grid.current?.getRowNode(String(r))?.data?.data[key] ?? null }));
      return {
        label: `put back ${plural(rows.length, "earlier value")}`,
        run: async () => {
          for (const b of before) keepVersion((await editRow(workspaceId, session.id, b.row, { [key]: b.value })).version);
        },
      };
    }
    return null;
  };

  const undoHint = (edit: BulkEdit) => {
    const rows = edit.selection.rows;
    if (edit.action === "discard") return rows || !session.counts.discarded ? "You can undo it right after (restore)." : null;
    if ((edit.action === "set" || edit.action === "replace") && rows && rows.length <= UNDO_ROWS) return "You can undo it right after: the earlier values are kept here.";
    if (edit.action === "restore") return "Discard the rows again to undo it.";
    return null;
  };

  const applyBulk = async (edit: BulkEdit) => {
    const u = undoFor(edit);
    let result;
    try {
      const done = await bulkEdit(workspaceId, session.id, edit, version.data);
      keepVersion(done.version);
      result = done.data;
    } catch (err) {
      onConflict(err);
      throw err;
    }
    setUndo(u);
    grid.current?.deselectAll();
    setSelected([]);
    refresh();
    notifications.show({ color: "green", message: `${formatInt(result.changed)} rows changed${edit.action === "set" || edit.action === "replace" ? `, ${formatInt(result.now_valid)} now valid` : ""}.` });
    return result;
  };

  const runUndo = async () => {
    if (!undo) return;
    setUndoing(true);
    try {
      await undo.run();
      notifications.show({ message: "The last bulk change was undone." });
      setUndo(null);
      refresh();
    } catch (err) {
      notifications.show({ color: "red", title: "Could not undo", message: errorMessage(err) });
    } finally {
      setUndoing(false);
    }
  };

  if (entity.isPending) return <Skeleton height={480} />;
  if (entity.isError) return <ErrorState title="Could not load the entity's fields" error={entity.error} onRetry={() => void entity.refetch()} />;

  const c = session.counts;
  const filtered = !!(filter.status || filter.field || filter.code);
  const describeFilter = filtered ? describe(filter, fields) : "in the file";
  const fieldLabel = (k: string) => (k === "_row" ? "Row" : fields.find((f) => f.key === k)?.label ?? k);

  return (
    <Stack gap="sm" h="calc(100dvh - 220px)" mih={520}>
      <Group gap="xs" wrap="wrap" data-testid="row-counts">
        <Badge color="green" variant="light">{formatInt(c.valid ?? 0)} valid</Badge>
        <Badge color="red" variant="light">{formatInt(c.invalid ?? 0)} invalid</Badge>
        <Badge color="orange" variant="light">{formatInt(c.duplicates ?? 0)} duplicates</Badge>
        <Badge color="gray" variant="light">{formatInt(c.discarded ?? 0)} discarded</Badge>
        {(c.rejected ?? 0) > 0 && <Badge color="red" variant="outline">{formatInt(c.rejected ?? 0)} rejected</Badge>}
      </Group>
      {summary.isError ? (
        <ErrorState title="Could not load the error summary" error={summary.error} onRetry={() => void summary.refetch()} />
      ) : summary.data && summary.data.by_field.length > 0 ? (
        <Group gap={6} wrap="wrap" role="group" aria-label="Errors by field">
          {summary.data.by_field.map((e) => {
            const active = filter.field === e.field && filter.code === e.code;
            return (
              <Chip
                key={`${e.field}:${e.code}`}
                size="xs"
                color="red"
                checked={active}
                onChange={() => onFilterChange(active ? {} : { field: e.field, code: e.code })}
                title={e.example}
              >
                {fieldLabel(e.field)} · {e.code} ({formatInt(e.count)})
              </Chip>
            );
          })}
        </Group>
      ) : null}
      <Group justify="space-between" wrap="wrap" gap="xs">
        <Group gap="xs">
          <SegmentedControl
            size="xs"
            aria-label="Show rows"
            value={filter.field || filter.code ? "" : filter.status ?? ""}
            onChange={(v) => onFilterChange(isRowStatusFilter(v) ? { status: v } : {})}
            data={STATUS_FILTERS}
          />
          {filtered && (
            <Button size="compact-sm" variant="subtle" onClick={() => onFilterChange({})}>
              Clear filter
            </Button>
          )}
          <Text size="sm" c="dimmed" data-testid="filter-count" aria-live="polite">
            {count.data ? `${plural(count.data.count, "row")} ${describeFilter}` : "Counting…"}
          </Text>
        </Group>
        <Group gap="xs">
          {undo && (
            <Button size="xs" variant="light" color="gray" loading={undoing} onClick={() => void runUndo()}>
              Undo: {undo.label}
            </Button>
          )}
          <Button size="xs" variant="light" onClick={() => setBulkOpen(true)}>
            Bulk edit{selected.length ? ` (${formatInt(selected.length)} selected)` : "…"}
          </Button>
          <Button size="xs" onClick={onContinue} disabled={!c.valid}>
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
        describeFilter={describeFilter}
        undoHint={undoHint}
        onApply={applyBulk}
      />
      <RowDrawer workspaceId={workspaceId} importId={session.id} rowNo={openRow} fieldLabel={fieldLabel} onClose={() => onOpenRow(undefined)} />
    </Stack>
  );
}

function describe(filter: RowFilter, fields: { key: string; label: string }[]): string {
  const parts: string[] = [];
  if (filter.status) parts.push(filter.status === "problems" ? "with problems" : `that are ${filter.status}`);
  if (filter.field) parts.push(`with an error on ${fields.find((f) => f.key === filter.field)?.label ?? filter.field}`);
  if (filter.code) parts.push(`of rule “${filter.code}”`);
  return parts.join(" ");
}

function RowDrawer({ workspaceId, importId, rowNo, fieldLabel, onClose }: { workspaceId: number; importId: number; rowNo: number | undefined; fieldLabel: (k: string) => string; onClose: () => void }) {
  const row = useQuery({ ...stagedRowQuery(workspaceId, importId, rowNo ?? 0), enabled: rowNo !== undefined });
  return (
    <Drawer opened={rowNo !== undefined} onClose={onClose} position="right" size="md" title={rowNo ? `Row ${formatInt(rowNo)}` : ""} closeButtonProps={{ "aria-label": "Close" }}>
      {row.isPending ? (
        <Skeleton height={200} />
      ) : row.isError ? (
        <ErrorState title="Could not load the row" error={row.error} onRetry={() => void row.refetch()} />
      ) : row.data === null ? (
        <Alert color="gray">The file has no staged row {rowNo}.</Alert>
      ) : (
        <Stack gap="sm">
          <Text size="sm">
            Status: <b>{row.data.status}</b>
          </Text>
          {row.data.errors?._row && <Alert color="red">{row.data.errors._row[1] ?? row.data.errors._row[0]}</Alert>}
          <Table withTableBorder fz="sm">
            <Table.Tbody>
              {Object.entries(row.data.data)
                .filter(([k]) => !k.startsWith("_"))
                .map(([k, v]) => (
                  <Table.Tr key={k}>
                    <Table.Th w={140}>{fieldLabel(k)}</Table.Th>
                    <Table.Td>
                      {v === null || v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v)}
                      {row.data?.errors?.[k] && (
                        <Text size="xs" c="red">
                          {row.data.errors[k][1] ?? row.data.errors[k][0]}
                        </Text>
                      )}
                    </Table.Td>
                  </Table.Tr>
                ))}
            </Table.Tbody>
          </Table>
        </Stack>
      )}
    </Drawer>
  );
}
