import { Alert, Button, Group, List, Paper, Select, Skeleton, Stack, Text } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { type Entity, errorMessage } from "../../../api/client";
import { entitiesQuery, entityQuery } from "../../../api/queries";
import { ErrorState } from "../../../components/error-state";
import type { ImportSession } from "../api";
import { FileOptions } from "../upload/file-options";
import { useSetReadOptions } from "../upload/mutations";
import { CreateFieldModal } from "./create-field-modal";
import { MappingBuckets } from "./mapping-buckets";
import {
  acceptSuggestion,
  assignField,
  countByBucket,
  exactMapping,
  ignoreColumn,
  initialMapping,
  type MappingState,
  mappingProblems,
  mappingToSave,
  restoreColumn,
} from "./mapping-state";
import { useSaveMappingAndStage } from "./mutations";

type Props = { workspaceId: number; session: ImportSession; isAdmin: boolean; onStaged: (s: ImportSession) => void };

/** The map screen: the entity, how the file is read, and where each column goes. */
export function MapStep({ workspaceId, session, isAdmin, onStaged }: Props) {
  const entities = useQuery(entitiesQuery(workspaceId));
  // The entity the server's suggestions are for: the declared one, else the best fit.
  const matches = session.entity_matches ?? [];
  const suggestedFor = session.entity ?? matches[0]?.entity ?? null;
  const [entityKey, setEntityKey] = useState<string | null>(suggestedFor);

  const readAgain = useSetReadOptions(workspaceId, session.id);

  // A new reading of the file (other options) starts the options and the mapping afresh.
  const p = session.profile;
  const reading = `${session.file_sha256}:${p?.sheet}:${p?.header_row}:${p?.encoding}:${p?.delimiter}:${p?.records_path}:${p?.columns.map((c) => c.name).join("\u001f")}`;

  return (
    <Stack gap="md">
      <Paper withBorder radius="md" p="sm">
        <Group align="flex-end" gap="md" wrap="wrap">
          <Select
            label="Import into"
            w={280}
            allowDeselect={false}
            value={entityKey}
            onChange={setEntityKey}
            data={(entities.data ?? []).map((e) => ({ value: e.key, label: e.label }))}
            placeholder={entities.isPending ? "Loading…" : "Choose an entity"}
            comboboxProps={{ withinPortal: true }}
          />
          <Text size="sm" c="dimmed" maw={640}>
            {session.entity ? "Chosen when the import started. " : "Proposed from the file. "}
            {matches[0] && (
              <span data-testid="entity-match">
                Best fit: <b>{matches[0].entity}</b> ({Math.round(matches[0].score * 100)}%) — {matches[0].reason}.
              </span>
            )}
          </Text>
        </Group>
        {session.entity_warning && (
          <Alert color="yellow" mt="sm" title="The file looks like another entity" data-testid="entity-warning">
            {session.entity_warning}
          </Alert>
        )}
        {entityKey && suggestedFor && entityKey !== suggestedFor && (
          <Alert color="blue" mt="sm" p="xs">
            Suggestions were made for {suggestedFor}; for {entityKey}, columns are matched by field key, label and alias.
          </Alert>
        )}
      </Paper>
      <FileOptions
        key={reading}
        session={session}
        onApply={(options) =>
          readAgain.mutate(options, {
            onSuccess: (next) => notifications.show({ message: `The file was read again: ${next.profile?.columns.length ?? 0} columns.` }),
          })
        }
        applying={readAgain.isPending}
        error={readAgain.error}
      />
      {entityKey ? (
        <EntityMapping
          key={`${entityKey}:${reading}`}
          workspaceId={workspaceId}
          session={session}
          entityKey={entityKey}
          useSuggestions={entityKey === suggestedFor}
          isAdmin={isAdmin}
          entityKeys={(entities.data ?? []).map((e) => e.key)}
          onStaged={onStaged}
        />
      ) : (
        <Alert color="blue">Choose the entity to import into; then map the columns.</Alert>
      )}
    </Stack>
  );
}

function EntityMapping({
  workspaceId,
  session,
  entityKey,
  useSuggestions,
  isAdmin,
  entityKeys,
  onStaged,
}: {
  workspaceId: number;
  session: ImportSession;
  entityKey: string;
  useSuggestions: boolean;
  isAdmin: boolean;
  entityKeys: string[];
  onStaged: (s: ImportSession) => void;
}) {
  const entity = useQuery(entityQuery(workspaceId, entityKey));
  const suggestions = session.suggestions ?? [];
  const columns = session.profile?.columns ?? [];
  const names = columns.map((c) => c.name);
  const [state, setState] = useState<MappingState | null>(null);
  const [creating, setCreating] = useState<string | null>(null);
  const save = useSaveMappingAndStage(workspaceId, session.id);

  if (entity.isPending) return <Skeleton height={320} />;
  if (entity.isError) return <ErrorState title="Could not load the entity's fields" error={entity.error} onRetry={() => void entity.refetch()} />;

  const fields = entity.data.fields;
  const mapping =
    state ??
    (useSuggestions
      ? initialMapping(names, suggestions, session.entity === entityKey ? session.mapping : null)
      : exactMapping(names, fields));
  const problems = mappingProblems(mapping, fields, entity.data.key_fields);
  const counts = countByBucket(mapping);
  const suggestionFor = (col: string) => (useSuggestions ? suggestions.find((s) => s.column === col) : undefined);
  const creatingColumn = creating ? columns.find((c) => c.name === creating) : undefined;

  // The entity's cache is updated by the mutation; here the column gets its new field.
  const onCreated = (updated: Entity, fieldKey: string) => {
    const column = creating;
    setCreating(null);
    const field = updated.fields.find((f) => f.key === fieldKey) ?? { key: fieldKey, label: fieldKey };
    if (column) setState(assignField(mapping, column, field.key));
    notifications.show({ color: "green", title: "Field created", message: `${entity.data.label} now has the field “${field.label}”; column “${column}” fills it.` });
  };

  return (
    <Stack gap="md">
      <MappingBuckets
        columns={columns}
        suggestions={useSuggestions ? suggestions : []}
        fields={fields}
        state={mapping}
        canCreateFields={isAdmin}
        onAccept={(c) => setState(acceptSuggestion(mapping, c))}
        onAssign={(c, f) => setState(assignField(mapping, c, f))}
        onIgnore={(c) => setState(ignoreColumn(mapping, c))}
        onRestore={(c) => setState(restoreColumn(mapping, c, suggestionFor(c)))}
        onCreateField={setCreating}
      />
      <Paper withBorder radius="md" p="sm" pos="sticky" bottom={0} style={{ zIndex: 5 }}>
        <Stack gap="xs">
          {problems.length > 0 && (
            <List size="sm" c="orange.8" aria-label="Mapping problems">
              {problems.map((p) => (
                <List.Item key={p}>{p}</List.Item>
              ))}
            </List>
          )}
          {counts.suggested > 0 && (
            <Text size="sm" c="dimmed">
              {counts.suggested === 1 ? "One suggestion is" : `${counts.suggested} suggestions are`} not accepted yet and will be ignored.
            </Text>
          )}
          {save.error !== null && (
            <Alert color="red" role="alert" title="The mapping was not saved">
              {errorMessage(save.error)}
            </Alert>
          )}
          <Group justify="space-between">
            <Text size="sm">
              {counts.mapped} of {columns.length} columns mapped
            </Text>
            <Button
              onClick={() => save.mutate({ entity: entityKey, columns: mappingToSave(mapping) }, { onSuccess: onStaged })}
              loading={save.isPending}
              disabled={problems.length > 0}
            >
              Save mapping and check rows
            </Button>
          </Group>
        </Stack>
      </Paper>
      <CreateFieldModal
        opened={creating !== null}
        workspaceId={workspaceId}
        entityKey={entityKey}
        column={creating}
        proposed={suggestionFor(creating ?? "")?.proposed_field}
        inferredType={creatingColumn?.inferred_type}
        samples={creatingColumn?.samples ?? []}
        existingKeys={fields.map((f) => f.key)}
        entityKeys={entityKeys}
        onClose={() => setCreating(null)}
        onCreated={onCreated}
      />
    </Stack>
  );
}
