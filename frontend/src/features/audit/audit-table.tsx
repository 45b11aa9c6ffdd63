import { Badge, Paper, Stack, Table, Text } from "@mantine/core";
import { actorLabel } from "../../components/actor-label";
import { AnchorLink } from "../../components/links";
import { type AuditEvent, describeChange, eventSubject, eventSummary, eventTarget, formatWhen, type ValueChange, valueChanges } from "./logic";

type Props = { workspaceId: number; events: AuditEvent[]; entityLabel: (key: string) => string; busy: boolean };

/** Events, newest first: when, who, the action, what it is about (a link), and what happened. */
export function AuditTable({ workspaceId, events, entityLabel, busy }: Props) {
  return (
    <Paper withBorder radius="md" style={{ overflowX: "auto" }}>
      <Table verticalSpacing="xs" highlightOnHover data-testid="audit-events" aria-busy={busy} opacity={busy ? 0.6 : 1}>
        <Table.Thead>
          <Table.Tr>
            <Table.Th w={190}>When</Table.Th>
            <Table.Th>Who</Table.Th>
            <Table.Th>Action</Table.Th>
            <Table.Th>About</Table.Th>
            <Table.Th>What happened</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {events.map((e) => (
            <Table.Tr key={e.id} data-testid={`event-${e.id}`}>
              <Table.Td>
                <Text size="sm" component="time" dateTime={e.at} style={{ whiteSpace: "nowrap" }}>
                  {formatWhen(e.at)}
                </Text>
                {e.request_id && (
                  <Text size="xs" c="dimmed" ff="monospace" title="The request's X-Request-Id">
                    {e.request_id}
                  </Text>
                )}
              </Table.Td>
              <Table.Td>
                <Text size="sm" style={{ overflowWrap: "anywhere" }}>
                  {actorLabel(e.actor)}
                </Text>
              </Table.Td>
              <Table.Td>
                <Badge variant="light" color={actionColor(e.action)} tt="none" radius="sm">
                  {e.action}
                </Badge>
              </Table.Td>
              <Table.Td>
                <EventLink workspaceId={workspaceId} event={e} entityLabel={entityLabel} />
              </Table.Td>
              <Table.Td>
                <Text size="sm">{eventSummary(e)}</Text>
                <ValueList values={valueChanges(e)} />
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Paper>
  );
}

function actionColor(action: string): string {
  if (action.endsWith(".created")) return "green";
  if (action.endsWith(".updated")) return "blue";
  if (action.includes("deleted")) return "red";
  if (action.startsWith("import.")) return "violet";
  return "gray";
}

function EventLink({ workspaceId, event, entityLabel }: { workspaceId: number; event: AuditEvent; entityLabel: (key: string) => string }) {
  const target = eventTarget(event);
  const text = eventSubject(event, entityLabel);
  switch (target?.kind) {
    case "record":
      return (
        <AnchorLink to="/w/$workspaceId/e/$entityKey" params={{ workspaceId, entityKey: target.entity }} search={{ record: target.record }} size="sm">
          {text}
        </AnchorLink>
      );
    case "import":
      return (
        <Stack gap={0}>
          <AnchorLink to="/w/$workspaceId/imports/$importId" params={{ workspaceId, importId: target.importId }} search={{}} size="sm">
            {text}
          </AnchorLink>
          {target.entity && (
            <Text size="xs" c="dimmed">
              into {entityLabel(target.entity)}
            </Text>
          )}
        </Stack>
      );
    case "entity":
      return (
        <AnchorLink to="/w/$workspaceId/e/$entityKey" params={{ workspaceId, entityKey: target.entity }} search={{}} size="sm">
          {text}
        </AnchorLink>
      );
    default:
      return <Text size="sm">{text}</Text>;
  }
}

const SHOWN_VALUES = 3;

/** Before → after of the first few fields (or field settings) the event kept values of. */
function ValueList({ values }: { values: Record<string, ValueChange> }) {
  const entries = Object.entries(values);
  if (entries.length === 0) return null;
  return (
    <Stack gap={0} mt={2}>
      {entries.slice(0, SHOWN_VALUES).map(([field, v]) => (
        <Text key={field} size="xs" c="dimmed" style={{ overflowWrap: "anywhere" }}>
          <Text span inherit fw={600}>
            {field}
          </Text>
          : {describeChange(v)}
        </Text>
      ))}
      {entries.length > SHOWN_VALUES && (
        <Text size="xs" c="dimmed">
          and {entries.length - SHOWN_VALUES} more
        </Text>
      )}
    </Stack>
  );
}
