import { Badge, Button, Group, Paper, Select, SimpleGrid, Stack, Text, Title, Tooltip } from "@mantine/core";
import type { Field } from "../../../api/client";
import type { ColumnMapping, ColumnProfile } from "../api";
import type { Bucket, MappingState } from "./mapping-state";

type Props = {
  columns: ColumnProfile[];
  suggestions: ColumnMapping[];
  fields: Field[];
  state: MappingState;
  canCreateFields: boolean;
  onAccept: (column: string) => void;
  onAssign: (column: string, field: string | null) => void;
  onIgnore: (column: string) => void;
  onRestore: (column: string) => void;
  onCreateField: (column: string) => void;
};

const BUCKETS: { bucket: Bucket; title: string; hint: string; color: string }[] = [
  { bucket: "mapped", title: "Mapped", hint: "These columns fill these fields.", color: "green" },
  { bucket: "suggested", title: "Suggested", hint: "Close matches: accept them, choose another field, or ignore them.", color: "yellow" },
  { bucket: "new", title: "New", hint: "No field fits: create one, choose a field, or ignore the column.", color: "violet" },
  { bucket: "ignored", title: "Ignored", hint: "Not imported.", color: "gray" },
];

/** Every column of the file in one bucket — mapped, suggested, new or ignored — with why, and what to do. */
export function MappingBuckets(props: Props) {
  const byColumn = new Map(props.suggestions.map((s) => [s.column, s]));
  return (
    <Stack gap="lg">
      {BUCKETS.map(({ bucket, title, hint, color }) => {
        const cols = props.columns.filter((c) => props.state[c.name]?.bucket === bucket);
        return (
          <section key={bucket} aria-labelledby={`bucket-${bucket}`} data-testid={`bucket-${bucket}`}>
            <Group gap="xs" mb={4}>
              <Title order={4} id={`bucket-${bucket}`}>
                {title}
              </Title>
              <Badge color={color} variant="light" aria-label={`${cols.length} columns`}>
                {cols.length}
              </Badge>
            </Group>
            <Text size="sm" c="dimmed" mb="xs">
              {hint}
            </Text>
            {cols.length === 0 ? (
              <Text size="sm" c="dimmed" fs="italic">
                No columns here.
              </Text>
            ) : (
              <SimpleGrid cols={{ base: 1, md: 2, xl: 3 }} spacing="sm">
                {cols.map((c) => (
                  <ColumnCard key={c.name} column={c} suggestion={byColumn.get(c.name)} {...props} />
                ))}
              </SimpleGrid>
            )}
          </section>
        );
      })}
    </Stack>
  );
}

function ColumnCard({
  column,
  suggestion,
  fields,
  state,
  canCreateFields,
  onAccept,
  onAssign,
  onIgnore,
  onRestore,
  onCreateField,
}: Props & { column: ColumnProfile; suggestion: ColumnMapping | undefined }) {
  const choice = state[column.name] ?? { field: null, bucket: "ignored" as const };
  const taken = new Map(
    Object.entries(state)
      .filter(([col, c]) => col !== column.name && c.bucket === "mapped" && c.field)
      .map(([col, c]) => [c.field!, col]),
  );
  const label = `Field for column ${column.name}`;
  const showSuggestion = suggestion && suggestion.field === choice.field && choice.bucket !== "ignored";
  return (
    <Paper withBorder radius="md" p="sm" data-testid={`column-${column.name}`} aria-label={`Column ${column.name}`} component="article">
      <Stack gap={6}>
        <Group justify="space-between" wrap="nowrap" gap="xs">
          <Text fw={600} truncate title={column.name}>
            {column.name}
          </Text>
          <Group gap={4} wrap="nowrap">
            <Badge size="sm" variant="outline" color="gray" title={`Inferred type, ${Math.round(column.confidence * 100)}% sure`}>
              {column.inferred_type}
            </Badge>
            {suggestion && showSuggestion && (
              <Tooltip label={suggestion.reason} multiline w={280}>
                <Badge size="sm" color={confidenceColor(suggestion.confidence)} variant="light" aria-label={`Confidence ${Math.round(suggestion.confidence * 100)}%`}>
                  {Math.round(suggestion.confidence * 100)}%
                </Badge>
              </Tooltip>
            )}
          </Group>
        </Group>
        <Text size="xs" c="dimmed" lineClamp={2} title={column.samples.map(String).join(", ")}>
          {column.samples.length ? column.samples.slice(0, 4).map((s) => (typeof s === "string" ? s : JSON.stringify(s))).join(" · ") : "(no values)"}
          {column.blank_count > 0 && ` — ${column.blank_count} blank`}
        </Text>
        {suggestion && (showSuggestion || choice.bucket === "new") && (
          <Text size="xs" data-testid="reason">
            {suggestion.reason}
          </Text>
        )}
        <Select
          aria-label={label}
          placeholder="Choose a field…"
          size="xs"
          searchable
          clearable
          value={choice.bucket === "ignored" || choice.bucket === "new" ? null : choice.field}
          data={fields.map((f) => ({
            value: f.key,
            label: taken.has(f.key) ? `${f.label} (now: ${taken.get(f.key)})` : f.label,
          }))}
          onChange={(v) => onAssign(column.name, v)}
          comboboxProps={{ withinPortal: true }}
        />
        <Group gap="xs">
          {choice.bucket === "suggested" && (
            <Button size="compact-xs" color="green" variant="light" onClick={() => onAccept(column.name)} aria-label={`Accept ${column.name} → ${fieldLabel(fields, choice.field)}`}>
              Accept
            </Button>
          )}
          {choice.bucket === "new" && canCreateFields && (
            <Button size="compact-xs" variant="light" color="violet" onClick={() => onCreateField(column.name)} aria-label={`Create a field from ${column.name}`}>
              Create field…
            </Button>
          )}
          {choice.bucket === "ignored" ? (
            <Button size="compact-xs" variant="subtle" onClick={() => onRestore(column.name)} aria-label={`Restore ${column.name}`}>
              Restore
            </Button>
          ) : (
            <Button size="compact-xs" variant="subtle" color="gray" onClick={() => onIgnore(column.name)} aria-label={`Ignore ${column.name}`}>
              Ignore
            </Button>
          )}
        </Group>
      </Stack>
    </Paper>
  );
}

function fieldLabel(fields: Field[], key: string | null): string {
  return fields.find((f) => f.key === key)?.label ?? key ?? "";
}

function confidenceColor(c: number): string {
  if (c >= 0.9) return "green";
  if (c >= 0.7) return "yellow";
  return "orange";
}
