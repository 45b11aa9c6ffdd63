import { Autocomplete, Button, Group, Paper, Select, Stack, Text, TextInput, type TextInputProps } from "@mantine/core";
import { useDebouncedCallback } from "@mantine/hooks";
import { useQuery } from "@tanstack/react-query";
import { type KeyboardEvent, useMemo, useState } from "react";
import { entitiesQuery, membersQuery } from "../../api/queries";
import { ACTION_PREFIXES, ACTIONS, actionLabel, actorProblem, fromLocalInput, hasFilters, idProblem, NO_FILTERS, rangeProblem, toLocalInput } from "./logic";
import { type AuditSearch, positiveId } from "./search";

type Props = { workspaceId: number; search: AuditSearch; onChange: (patch: Partial<AuditSearch>) => void };

const FIELD_WIDTH = 200;

/** The audit trail's filters; each one lives in the URL and applies as soon as it is complete. */
export function AuditFilters({ workspaceId, search, onChange }: Props) {
  const entities = useQuery(entitiesQuery(workspaceId));
  const members = useQuery(membersQuery(workspaceId));

  const actionData = useMemo(() => {
    const known = [...ACTION_PREFIXES, ...ACTIONS].some((a) => a.value === search.action);
    const option = (a: { value: string }) => ({ value: a.value, label: actionLabel(a.value) });
    return [
      { group: "Groups", items: ACTION_PREFIXES.map(option) },
      { group: "Actions", items: [...ACTIONS.map(option), ...(search.action && !known ? [option({ value: search.action })] : [])] },
    ];
  }, [search.action]);
  const descriptions = useMemo(() => new Map([...ACTION_PREFIXES, ...ACTIONS].map((a) => [a.value, a.description])), []);

  const entityData = useMemo(() => {
    const list = (entities.data ?? []).map((e) => ({ value: e.key, label: e.label }));
    // A link may name an entity that is gone: keep it visible (and clearable).
    if (search.entity && !list.some((e) => e.value === search.entity)) list.push({ value: search.entity, label: search.entity });
    return list;
  }, [entities.data, search.entity]);

  const people = useMemo(() => {
    const names = new Map<string, string>([["system", "System (the command line, jobs)"]]);
    for (const m of members.data ?? []) names.set(`user:${m.user_id}`, m.name ? `${m.name} <${m.email}>` : m.email);
    return names;
  }, [members.data]);

  const range = rangeProblem(search.since, search.until);

  return (
    <Paper withBorder radius="md" p="sm" component="form" role="search" aria-label="Filter events" onSubmit={(e) => e.preventDefault()}>
      <Group gap="sm" align="flex-start" wrap="wrap">
        <Select
          label="Action"
          placeholder="Any action"
          w={FIELD_WIDTH}
          data={actionData}
          value={search.action ?? null}
          onChange={(value) => onChange({ action: value ?? undefined })}
          renderOption={({ option }) => (
            <Stack gap={0}>
              <Text size="sm">{option.label}</Text>
              <Text size="xs" c="dimmed">
                {descriptions.get(option.value) ?? "Recorded by this server"}
              </Text>
            </Stack>
          )}
          searchable
          clearable
          maxDropdownHeight={320}
        />
        <Select
          label="Entity"
          placeholder={entities.isError ? "Entities unavailable" : "Any entity"}
          w={FIELD_WIDTH}
          data={entityData}
          value={search.entity ?? null}
          onChange={(value) => onChange({ entity: value ?? undefined })}
          nothingFoundMessage="No such entity"
          searchable
          clearable
        />
        <ActorFilter value={search.actor ?? ""} people={people} onCommit={(actor) => onChange({ actor: actor || undefined })} />
        <TextFilter
          label="Record id"
          placeholder="Any record"
          inputMode="numeric"
          w={130}
          value={search.record ? String(search.record) : ""}
          problem={idProblem}
          onCommit={(t) => onChange({ record: positiveId(t) })}
        />
        <TextFilter
          label="Import id"
          placeholder="Any import"
          inputMode="numeric"
          w={130}
          value={search.import ? String(search.import) : ""}
          problem={idProblem}
          onCommit={(t) => onChange({ import: positiveId(t) })}
        />
        <TextFilter
          label="Since"
          type="datetime-local"
          w={FIELD_WIDTH + 20}
          value={toLocalInput(search.since)}
          problem={timeProblem}
          onCommit={(t) => onChange({ since: fromLocalInput(t) })}
        />
        <TextFilter
          label="Until"
          type="datetime-local"
          w={FIELD_WIDTH + 20}
          value={toLocalInput(search.until)}
          problem={timeProblem}
          extraError={range}
          onCommit={(t) => onChange({ until: fromLocalInput(t) })}
        />
        {hasFilters(search) && (
          <Button
            variant="subtle"
            mt={25}
            onClick={() => onChange(NO_FILTERS)}
          >
            Clear filters
          </Button>
        )}
      </Group>
    </Paper>
  );
}

const timeProblem = (t: string) => (t && !fromLocalInput(t) ? "Not a time" : null);

/**
 * Typed text in step with the URL: it commits after a pause (or on Enter) once it is valid,
 * says what is wrong after a pause, and follows the URL when it changes from elsewhere.
 */
function useUrlText(value: string, problem: (text: string) => string | null, onCommit: (text: string) => void) {
  const [text, setText] = useState(value);
  const [settled, setSettled] = useState(true);
  const [seen, setSeen] = useState(value);
  if (seen !== value) {
    setSeen(value);
    if (text.trim() !== value) setText(value);
  }
  const settle = useDebouncedCallback((t: string) => {
    setSettled(true);
    if (!problem(t) && t.trim() !== value) onCommit(t.trim());
  }, 400);
  const change = (t: string) => {
    setText(t);
    setSettled(false);
    settle(t);
  };
  const commitNow = () => {
    settle.cancel();
    setSettled(true);
    if (!problem(text) && text.trim() !== value) onCommit(text.trim());
  };
  return { text, error: settled ? problem(text) : null, change, commitNow };
}

const onEnter = (fn: () => void) => (e: KeyboardEvent<HTMLInputElement>) => {
  if (e.key === "Enter") {
    e.preventDefault();
    fn();
  }
};

type TextFilterProps = Omit<TextInputProps, "value" | "onChange" | "error"> & {
  value: string;
  problem: (text: string) => string | null;
  onCommit: (text: string) => void;
  extraError?: string | null;
};

function TextFilter({ value, problem, onCommit, extraError, ...rest }: TextFilterProps) {
  const { text, error, change, commitNow } = useUrlText(value, problem, onCommit);
  return (
    <TextInput
      {...rest}
      value={text}
      error={error ?? extraError}
      onChange={(e) => change(e.currentTarget.value)}
      onKeyDown={onEnter(commitNow)}
      onBlur={commitNow}
    />
  );
}

function ActorFilter({ value, people, onCommit }: { value: string; people: Map<string, string>; onCommit: (text: string) => void }) {
  const { text, error, change, commitNow } = useUrlText(value, actorProblem, onCommit);
  const data = useMemo(() => [...people.keys()], [people]);
  return (
    <Autocomplete
      label="Actor"
      placeholder="user:3, api_key:2 or system"
      description={people.get(text.trim()) ?? undefined}
      inputWrapperOrder={["label", "input", "description", "error"]}
      w={FIELD_WIDTH + 20}
      data={data}
      value={text}
      error={error}
      onChange={change}
      onOptionSubmit={(v) => {
        change(v);
        onCommit(v);
      }}
      onKeyDown={onEnter(commitNow)}
      onBlur={commitNow}
      // Find people by email or name as well as by `user:<id>`.
      filter={({ options, search, limit }) => {
        const q = search.trim().toLowerCase();
        const found = options.filter((o) => "value" in o && (o.value.includes(q) || (people.get(o.value) ?? "").toLowerCase().includes(q)));
        return found.slice(0, limit);
      }}
      renderOption={({ option }) => (
        <Stack gap={0}>
          <Text size="sm">{people.get(option.value) ?? option.value}</Text>
          <Text size="xs" c="dimmed">
            {option.value}
          </Text>
        </Stack>
      )}
      clearable
    />
  );
}
