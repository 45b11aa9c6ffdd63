import { Alert, Drawer, Skeleton, Stack, Table, Text } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { ErrorState } from "../../../components/error-state";
import { stagedRowQuery } from "../api";
import { formatInt } from "../format";

type Props = { workspaceId: number; importId: number; rowNo: number | undefined; fieldLabel: (k: string) => string; onClose: () => void };

/** One staged row, whole: every value and what is wrong with it. Its number is in the URL (`row`). */
export function RowDrawer({ workspaceId, importId, rowNo, fieldLabel, onClose }: Props) {
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
