import { Alert, Button, Checkbox, Group, Modal, Select, Stack, TagsInput, TextInput } from "@mantine/core";
import { useState } from "react";
import { ApiError, type Entity, type Field, type FieldCreate, errorMessage } from "../../../api/client";
import { useCreateField } from "./mutations";

const TYPES: Field["type"][] = ["string", "text", "integer", "decimal", "boolean", "date", "datetime", "enum", "email", "url", "reference", "json"];
const KEY = /^[a-z][a-z0-9_]{0,62}$/;

type Props = {
  opened: boolean;
  workspaceId: number;
  entityKey: string;
  column: string | null;
  proposed: Record<string, unknown> | null | undefined;
  inferredType: string | undefined;
  samples: unknown[];
  existingKeys: string[];
  entityKeys: string[];
  onClose: () => void;
  onCreated: (entity: Entity, fieldKey: string) => void;
};

type Draft = { key: string; label: string; type: Field["type"]; required: boolean; enumValues: string[]; reference: string | null };

function suggestKey(column: string): string {
  const k = column.trim().toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "");
  return (/^[a-z]/.test(k) ? k : `f_${k}`).slice(0, 63);
}

function initialDraft(column: string, proposed: Record<string, unknown> | null | undefined, inferred: string | undefined, samples: unknown[]): Draft {
  const type = (typeof proposed?.type === "string" ? proposed.type : inferred) as Field["type"];
  return {
    key: typeof proposed?.key === "string" ? proposed.key : suggestKey(column),
    label: typeof proposed?.label === "string" ? proposed.label : column,
    type: TYPES.includes(type) ? type : "string",
    required: false,
    enumValues: Array.isArray(proposed?.enum_values)
      ? (proposed.enum_values as string[])
      : type === "enum"
        ? [...new Set(samples.map(String))].slice(0, 20)
        : [],
    reference: typeof proposed?.reference_entity === "string" ? proposed.reference_entity : null,
  };
}

/** Checks a definition as the API would, so mistakes show beside the control before anything is sent. */
export function validateField(d: Draft, existingKeys: string[]): Record<string, string> {
  const errors: Record<string, string> = {};
  if (!KEY.test(d.key)) errors.key = "A lower-case letter, then letters, digits or _ (at most 63).";
  else if (existingKeys.includes(d.key)) errors.key = `The entity already has a field “${d.key}”.`;
  if (d.label.length > 200) errors.label = "At most 200 characters.";
  if (d.type === "enum" && d.enumValues.length === 0) errors.enumValues = "List the allowed values.";
  if (d.type === "reference" && !d.reference) errors.reference = "Choose the entity it refers to.";
  return errors;
}

/** An admin turns a column with no matching field into a new custom field of the entity. */
export function CreateFieldModal(props: Props) {
  return (
    <Modal opened={props.opened} onClose={props.onClose} title={props.column ? `New field from “${props.column}”` : "New field"} size="md">
      {props.column && <CreateFieldForm key={props.column} {...props} column={props.column} />}
    </Modal>
  );
}

function CreateFieldForm({ workspaceId, entityKey, column, proposed, inferredType, samples, existingKeys, entityKeys, onClose, onCreated }: Props & { column: string }) {
  const [draft, setDraft] = useState<Draft>(() => initialDraft(column, proposed, inferredType, samples));
  const [touched, setTouched] = useState(false);
  const create = useCreateField(workspaceId, entityKey);
  // The API's word on each control; gone once the control is changed.
  const [serverFields, setServerFields] = useState<Record<string, string>>({});
  const errors = { ...validateField(draft, existingKeys), ...serverFields };
  const shown = touched ? errors : {};
  const set = (patch: Partial<Draft>) => {
    setDraft((d) => ({ ...d, ...patch }));
    setServerFields({});
  };

  const submit = () => {
    setTouched(true);
    if (Object.keys(validateField(draft, existingKeys)).length) return;
    const body: FieldCreate = {
      key: draft.key,
      label: draft.label || null,
      description: `Added while importing the column “${column}”.`,
      type: draft.type,
      required: draft.required,
      unique: false,
      indexed: false,
      aliases: draft.key === column ? [] : [column],
      enum_values: draft.type === "enum" ? draft.enumValues : null,
      reference_entity: draft.type === "reference" ? draft.reference : null,
    };
    create.mutate(body, {
      onSuccess: (entity) => onCreated(entity, draft.key),
      onError: (err) => {
        if (err instanceof ApiError) {
          setServerFields(Object.fromEntries(err.fields.map((f) => [f.field.replace(/^body\./, "").replace("enum_values", "enumValues"), f.message])));
        }
      },
    });
  };

  return (
    <form
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <Stack gap="sm">
        <TextInput label="Key" description="Used in the API and files." required value={draft.key} error={shown.key} onChange={(e) => set({ key: e.currentTarget.value })} data-autofocus />
        <TextInput label="Label" description="Shown in the app." value={draft.label} error={shown.label} onChange={(e) => set({ label: e.currentTarget.value })} />
        <Select
          label="Type"
          required
          allowDeselect={false}
          value={draft.type}
          data={TYPES}
          onChange={(v) => v && set({ type: v as Field["type"] })}
          comboboxProps={{ withinPortal: true }}
        />
        {draft.type === "enum" && (
          <TagsInput label="Allowed values" value={draft.enumValues} error={shown.enumValues} onChange={(v) => set({ enumValues: v })} />
        )}
        {draft.type === "reference" && (
          <Select label="Refers to" required data={entityKeys} value={draft.reference} error={shown.reference} onChange={(v) => set({ reference: v })} comboboxProps={{ withinPortal: true }} />
        )}
        <Checkbox label="Required" checked={draft.required} onChange={(e) => set({ required: e.currentTarget.checked })} />
        {create.error !== null && (
          <Alert color="red" role="alert" title="The field was not created">
            {errorMessage(create.error)}
          </Alert>
        )}
        <Group justify="flex-end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button type="submit" loading={create.isPending}>
            Create field
          </Button>
        </Group>
      </Stack>
    </form>
  );
}
