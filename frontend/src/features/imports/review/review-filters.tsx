import { Badge, Button, Chip, Group, SegmentedControl, Text } from "@mantine/core";
import type { UseQueryResult } from "@tanstack/react-query";
import type { Schemas } from "../../../api/client";
import { ErrorState } from "../../../components/error-state";
import type { ImportSession, RowFilter } from "../api";
import { formatInt, plural } from "../format";
import { isRowStatusFilter } from "../search";

/** The review grid's filters (they live in the URL): by status, or by field and rule from the error summary. */

const STATUS_FILTERS = [
  { value: "", label: "All rows" },
  { value: "problems", label: "Problems" },
  { value: "invalid", label: "Invalid" },
  { value: "duplicate", label: "Duplicates" },
  { value: "discarded", label: "Discarded" },
  { value: "valid", label: "Valid" },
];

export const isFiltered = (filter: RowFilter) => !!(filter.status || filter.field || filter.code);

/** "with problems", "with an error on Price of rule “min”": the rows a filter keeps, in words. */
export function describeFilter(filter: RowFilter, fields: { key: string; label: string }[]): string {
  if (!isFiltered(filter)) return "in the file";
  const parts: string[] = [];
  if (filter.status) parts.push(filter.status === "problems" ? "with problems" : `that are ${filter.status}`);
  if (filter.field) parts.push(`with an error on ${fields.find((f) => f.key === filter.field)?.label ?? filter.field}`);
  if (filter.code) parts.push(`of rule “${filter.code}”`);
  return parts.join(" ");
}

/** The session's rows by status. */
export function RowCounts({ counts: c }: { counts: ImportSession["counts"] }) {
  return (
    <Group gap="xs" wrap="wrap" data-testid="row-counts">
      <Badge color="green" variant="light">{formatInt(c.valid ?? 0)} valid</Badge>
      <Badge color="red" variant="light">{formatInt(c.invalid ?? 0)} invalid</Badge>
      <Badge color="orange" variant="light">{formatInt(c.duplicates ?? 0)} duplicates</Badge>
      <Badge color="gray" variant="light">{formatInt(c.discarded ?? 0)} discarded</Badge>
      {(c.rejected ?? 0) > 0 && <Badge color="red" variant="outline">{formatInt(c.rejected ?? 0)} rejected</Badge>}
    </Group>
  );
}

type Summary = UseQueryResult<Schemas["ErrorSummary"]>;

/** The error summary as chips: one per field and rule, each a filter. */
export function ErrorChips({ summary, filter, onFilterChange, fieldLabel }: { summary: Summary; filter: RowFilter; onFilterChange: (f: RowFilter) => void; fieldLabel: (k: string) => string }) {
  if (summary.isError) return <ErrorState title="Could not load the error summary" error={summary.error} onRetry={() => void summary.refetch()} />;
  if (!summary.data || summary.data.by_field.length === 0) return null;
  return (
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
  );
}

/** Rows by status, a way back to all rows, and how many the filter keeps. */
export function StatusFilter({ filter, onFilterChange, count, described }: { filter: RowFilter; onFilterChange: (f: RowFilter) => void; count: number | undefined; described: string }) {
  return (
    <Group gap="xs">
      <SegmentedControl
        size="xs"
        aria-label="Show rows"
        value={filter.field || filter.code ? "" : filter.status ?? ""}
        onChange={(v) => onFilterChange(isRowStatusFilter(v) ? { status: v } : {})}
        data={STATUS_FILTERS}
      />
      {isFiltered(filter) && (
        <Button size="compact-sm" variant="subtle" onClick={() => onFilterChange({})}>
          Clear filter
        </Button>
      )}
      <Text size="sm" c="dimmed" data-testid="filter-count" aria-live="polite">
        {count !== undefined ? `${plural(count, "row")} ${described}` : "Counting…"}
      </Text>
    </Group>
  );
}
