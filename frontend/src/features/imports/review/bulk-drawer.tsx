import { Alert, Button, Drawer, Group, Radio, SegmentedControl, Select, Stack, Text, TextInput } from "@mantine/core";
import { useState } from "react";
import { errorMessage, type Field } from "../../../api/client";
import type { BulkEdit, BulkEditResult, RowFilter } from "../api";
import { formatInt, plural } from "../format";

type Action = BulkEdit["action"];
type Scope = "selected" | "filter";

type Props = {
  opened: boolean;
  onClose: () => void;
  fields: Field[];
  selectedRows: number[];
  filter: RowFilter;
  /** Rows matching the filter (every row when there is none); undefined while counting. */
  filterCount: number | undefined;
  describeFilter: string;
  /** Whether this edit can be undone afterwards, and how; null when it cannot. */
  undoHint: (edit: BulkEdit) => string | null;
  /** Sends the edit; resolves with what it did, rejects when it was refused. */
  onApply: (edit: BulkEdit) => Promise<BulkEditResult>;
  /** The edit is being sent; and why the last one was refused (null when it was not). */
  applying: boolean;
  error: Error | null;
};

const ACTIONS: { value: Action; label: string }[] = [
  { value: "set", label: "Set value" },
  { value: "replace", label: "Find & replace" },
  { value: "discard", label: "Discard" },
  { value: "restore", label: "Restore" },
];

/** One change to many rows: what, where (the selection or the filter), how many, then a confirmation. */
export function BulkDrawer(props: Props) {
  return (
    <Drawer opened={props.opened} onClose={props.onClose} position="right" size="md" title="Change many rows" closeButtonProps={{ "aria-label": "Close" }}>
      {props.opened && <BulkForm {...props} />}
    </Drawer>
  );
}

function BulkForm({ onClose, fields, selectedRows, filter, filterCount, describeFilter, undoHint, onApply, applying, error }: Props) {
  const [action, setAction] = useState<Action>("set");
  const [scope, setScope] = useState<Scope>(selectedRows.length ? "selected" : "filter");
  const [field, setField] = useState<string | null>(filter.field && fields.some((f) => f.key === filter.field) ? filter.field : null);
  const [value, setValue] = useState("");
  const [find, setFind] = useState("");
  const [replace, setReplace] = useState("");
  const [confirming, setConfirming] = useState(false);
  const [result, setResult] = useState<BulkEditResult | null>(null);

  const count = scope === "selected" ? selectedRows.length : filterCount;
  const needsField = action === "set" || action === "replace";
  const missing = needsField && !field ? "Choose a field." : action === "replace" && !find ? "Say what text to find." : count === 0 ? "No rows to change." : null;
  const edit: BulkEdit = {
    action,
    selection: scope === "selected" ? { rows: selectedRows } : { status: filter.status ?? null, field: filter.field ?? null, code: filter.code ?? null },
    field: needsField ? field : null,
    value: action === "set" ? (value === "" ? null : value) : null,
    find: action === "replace" ? find : null,
    replace: action === "replace" ? replace : null,
  };
  const fieldLabel = fields.find((f) => f.key === field)?.label ?? field ?? "";
  const rowsText = count === undefined ? "the matching rows" : plural(count, "row");
  const summary =
    action === "set"
      ? `Set ${fieldLabel} to ${value === "" ? "empty" : `“${value}”`} on ${rowsText}`
      : action === "replace"
        ? `Replace “${find}” with “${replace}” in ${fieldLabel} on ${rowsText}`
        : action === "discard"
          ? `Discard ${rowsText}: they will not be imported`
          : `Restore ${rowsText} that were discarded`;
  const undo = undoHint(edit);

  const apply = () =>
    onApply(edit).then(
      (done) => {
        setResult(done);
        setConfirming(false);
      },
      // Refused: the message is `error`, shown above the confirmation.
      () => {},
    );

  if (result) {
    return (
      <Stack gap="md">
        <Alert color="green" title="Done" data-testid="bulk-result">
          {formatInt(result.matched)} rows matched, {formatInt(result.changed)} changed
          {action === "set" || action === "replace" || action === "restore"
            ? `; ${formatInt(result.now_valid)} now valid, ${formatInt(result.now_invalid)} still invalid.`
            : "."}
        </Alert>
        <Group justify="flex-end">
          <Button variant="default" onClick={() => setResult(null)}>
            Another change
          </Button>
          <Button onClick={onClose}>Close</Button>
        </Group>
      </Stack>
    );
  }

  return (
    <Stack gap="md">
      <SegmentedControl
        aria-label="Action"
        fullWidth
        value={action}
        onChange={(v) => {
          setAction(v as Action);
          setConfirming(false);
        }}
        data={ACTIONS}
      />
      <Radio.Group label="Rows" value={scope} onChange={(v) => { setScope(v as Scope); setConfirming(false); }}>
        <Stack gap={6} mt={6}>
          <Radio value="selected" disabled={selectedRows.length === 0} label={`The ${plural(selectedRows.length, "selected row")}`} />
          <Radio value="filter" label={`All ${filterCount === undefined ? "…" : formatInt(filterCount)} rows ${describeFilter}`} />
        </Stack>
      </Radio.Group>
      {needsField && (
        <Select label="Field" required searchable data={fields.map((f) => ({ value: f.key, label: f.label }))} value={field} onChange={(v) => { setField(v); setConfirming(false); }} comboboxProps={{ withinPortal: true }} />
      )}
      {action === "set" && <TextInput label="New value" description="Leave empty to clear the cell." value={value} onChange={(e) => { setValue(e.currentTarget.value); setConfirming(false); }} />}
      {action === "replace" && (
        <>
          <TextInput label="Find" required value={find} onChange={(e) => { setFind(e.currentTarget.value); setConfirming(false); }} />
          <TextInput label="Replace with" value={replace} onChange={(e) => { setReplace(e.currentTarget.value); setConfirming(false); }} />
        </>
      )}
      <Text size="sm" data-testid="bulk-count" aria-live="polite">
        Touches <b>{count === undefined ? "…" : formatInt(count)}</b> {count === 1 ? "row" : "rows"}.
      </Text>
      {error !== null && (
        <Alert color="red" role="alert" title="Nothing was changed">
          {errorMessage(error)}
        </Alert>
      )}
      {confirming ? (
        <Alert color="orange" title="Confirm" data-testid="bulk-confirm">
          <Stack gap="sm">
            <Text size="sm">{summary}?</Text>
            <Text size="xs">{undo ?? "This cannot be undone from here: the rows keep no earlier values."}</Text>
            <Group justify="flex-end">
              <Button variant="default" size="xs" onClick={() => setConfirming(false)}>
                Back
              </Button>
              <Button size="xs" color="orange" loading={applying} onClick={() => void apply()}>
                Yes, change {rowsText}
              </Button>
            </Group>
          </Stack>
        </Alert>
      ) : (
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button disabled={missing !== null || count === undefined} title={missing ?? undefined} onClick={() => setConfirming(true)}>
            Apply…
          </Button>
        </Group>
      )}
    </Stack>
  );
}
