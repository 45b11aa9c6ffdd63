import { Anchor, Badge, Drawer, Group, Skeleton, Stack, Table, Tabs, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { ApiError, type Entity, type Field } from "../../api/client";
import { recordQuery } from "../../api/queries";
import { ErrorState } from "../../components/error-state";
import { AnchorLink } from "../../components/links";
import { orderedFields } from "./columns";
import { formatTimestamp, formatValue } from "./format";
import { RecordHistory } from "./record-history";

export type DrawerTab = "fields" | "history";

type Props = {
  workspaceId: number;
  entity: Entity;
  recordId: number | undefined;
  tab: DrawerTab;
  onTabChange: (tab: DrawerTab) => void;
  onClose: () => void;
};

/**
 * One record, opened from the grid: its fields, and its history (kept after a deletion, so the tab
 * works for a record that is gone). The record id and the tab live in the URL (`?record=&tab=`).
 */
export function RecordDrawer({ workspaceId, entity, recordId, tab, onTabChange, onClose }: Props) {
  const opened = recordId !== undefined;
  const record = useQuery({ ...recordQuery(workspaceId, entity.key, recordId ?? 0), enabled: opened });

  return (
    <Drawer
      opened={opened}
      onClose={onClose}
      position="right"
      size="lg"
      title={
        <Group gap="xs">
          <Text fw={600}>{record.data?.key ?? entity.label}</Text>
          {record.data && (
            <Badge variant="light" size="sm">
              v{record.data.version}
            </Badge>
          )}
        </Group>
      }
      aria-label="Record details"
    >
      <Tabs value={tab} onChange={(v) => onTabChange(v === "history" ? "history" : "fields")} keepMounted={false}>
        <Tabs.List mb="md">
          <Tabs.Tab value="fields">Fields</Tabs.Tab>
          <Tabs.Tab value="history">History</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="fields">
          {record.isPending && opened && (
            <Stack gap="sm" aria-busy="true" aria-label="Loading">
              {Array.from({ length: 6 }, (_, i) => (
                <Skeleton key={i} height={22} />
              ))}
            </Stack>
          )}
          {record.isError && (
            <ErrorState
              title={record.error instanceof ApiError && record.error.status === 404 ? "Record not found" : "Could not load the record"}
              error={record.error}
              onRetry={() => void record.refetch()}
              retrying={record.isFetching}
            />
          )}
          {record.data && (
            <Table variant="vertical" layout="fixed" withTableBorder verticalSpacing="xs">
              <Table.Tbody>
                {orderedFields(entity).map((f) => (
                  <Table.Tr key={f.key}>
                    <Table.Th w={170}>{f.label}</Table.Th>
                    <Table.Td style={{ overflowWrap: "anywhere", whiteSpace: "pre-wrap" }}>
                      {renderValue(workspaceId, f, record.data.data[f.key])}
                    </Table.Td>
                  </Table.Tr>
                ))}
                <Table.Tr>
                  <Table.Th>Created</Table.Th>
                  <Table.Td>{formatTimestamp(record.data.created_at)}</Table.Td>
                </Table.Tr>
                <Table.Tr>
                  <Table.Th>Updated</Table.Th>
                  <Table.Td>{formatTimestamp(record.data.updated_at)}</Table.Td>
                </Table.Tr>
                <Table.Tr>
                  <Table.Th>Record id</Table.Th>
                  <Table.Td>{record.data.id}</Table.Td>
                </Table.Tr>
              </Table.Tbody>
            </Table>
          )}
        </Tabs.Panel>
        <Tabs.Panel value="history">
          {recordId !== undefined && <RecordHistory workspaceId={workspaceId} entity={entity} recordId={recordId} />}
        </Tabs.Panel>
      </Tabs>
    </Drawer>
  );
}

function renderValue(workspaceId: number, field: Field, value: unknown): ReactNode {
  const text = formatValue(field.type, value);
  if (text === "") return <Text c="dimmed" size="sm">—</Text>;
  if (field.type === "reference" && field.reference_entity) {
    return (
      <AnchorLink
        to="/w/$workspaceId/e/$entityKey"
        params={{ workspaceId, entityKey: field.reference_entity }}
        search={{ q: String(value) }}
      >
        {text}
      </AnchorLink>
    );
  }
  if (field.type === "url" && typeof value === "string" && /^https?:\/\//i.test(value)) {
    return (
      <Anchor href={value} target="_blank" rel="noreferrer noopener">
        {text}
      </Anchor>
    );
  }
  if (field.type === "email") return <Anchor href={`mailto:${text}`}>{text}</Anchor>;
  return text;
}
