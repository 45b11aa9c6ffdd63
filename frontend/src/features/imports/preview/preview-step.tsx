import { Alert, Button, Code, Group, Modal, Paper, Radio, SimpleGrid, Skeleton, Stack, Table, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { errorMessage } from "../../../api/client";
import { ErrorState } from "../../../components/error-state";
import { type CommitOptions, dryRunQuery, type ImportSession } from "../api";
import { useCommitImport } from "../commit/mutations";
import { formatInt } from "../format";

type Props = {
  workspaceId: number;
  session: ImportSession;
  options: CommitOptions;
  onOptionsChange: (o: CommitOptions) => void;
  /** The commit started: the session is committing now. */
  onCommitted: () => void;
  onBack: () => void;
};

/** What a commit would do, before it does it: counts, a before/after sample, and the options. */
export function PreviewStep({ workspaceId, session, options, onOptionsChange, onCommitted, onBack }: Props) {
  const dry = useQuery(dryRunQuery(workspaceId, session.id, options));
  const [confirming, setConfirming] = useState(false);
  const commit = useCommitImport(workspaceId, session.id);
  const writes = dry.data ? dry.data.created + dry.data.updated : 0;
  const refuses = options.on_invalid === "abort" && dry.data ? dry.data.invalid + dry.data.rejected > 0 : false;

  // Refused: the confirmation closes, and the message shows beside the button.
  const start = () => commit.mutate(options, { onSuccess: onCommitted, onError: () => setConfirming(false) });

  return (
    <Stack gap="md">
      <Paper withBorder radius="md" p="md">
        <SimpleGrid cols={{ base: 1, sm: 2 }}>
          <Radio.Group label="Records that exist already" value={options.on_existing} onChange={(v) => onOptionsChange({ ...options, on_existing: v as CommitOptions["on_existing"] })}>
            <Stack gap={6} mt={6}>
              <Radio value="overwrite" label="Overwrite the mapped fields" />
              <Radio value="merge" label="Merge: fill only what the file has" />
              <Radio value="skip" label="Skip: leave them as they are" />
            </Stack>
          </Radio.Group>
          <Radio.Group label="Invalid rows" value={options.on_invalid} onChange={(v) => onOptionsChange({ ...options, on_invalid: v as CommitOptions["on_invalid"] })}>
            <Stack gap={6} mt={6}>
              <Radio value="skip" label="Import the valid rows, report the rest" />
              <Radio value="abort" label="Import nothing while any row is invalid" />
            </Stack>
          </Radio.Group>
        </SimpleGrid>
      </Paper>
      {dry.isPending ? (
        <Skeleton height={120} />
      ) : dry.isError ? (
        <ErrorState title="Could not work out what the import would do" error={dry.error} onRetry={() => void dry.refetch()} retrying={dry.isFetching} />
      ) : (
        <>
          <SimpleGrid cols={{ base: 2, sm: 3, lg: 6 }} data-testid="dry-run">
            <StatCard label="Created" value={dry.data.created} color="green" />
            <StatCard label="Updated" value={dry.data.updated} color="blue" />
            <StatCard label="Unchanged" value={dry.data.unchanged} color="gray" />
            <StatCard label="Skipped" value={dry.data.skipped} color="gray" />
            <StatCard label="Invalid" value={dry.data.invalid} color={dry.data.invalid ? "red" : "gray"} />
            <StatCard label="Rejected" value={dry.data.rejected} color={dry.data.rejected ? "red" : "gray"} />
          </SimpleGrid>
          {dry.data.sample_updates.length > 0 && (
            <Paper withBorder radius="md" p="md">
              <Title order={4} mb="xs">
                Before and after (first {dry.data.sample_updates.length} updates)
              </Title>
              <Table striped withTableBorder fz="sm">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Row</Table.Th>
                    <Table.Th>Key</Table.Th>
                    <Table.Th>Field</Table.Th>
                    <Table.Th>Before</Table.Th>
                    <Table.Th>After</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {dry.data.sample_updates.flatMap((s) =>
                    Object.keys(s.after).map((k, i) => (
                      <Table.Tr key={`${s.row}:${k}`}>
                        <Table.Td>{i === 0 ? formatInt(s.row) : ""}</Table.Td>
                        <Table.Td>{i === 0 ? s.key : ""}</Table.Td>
                        <Table.Td>{k}</Table.Td>
                        <Table.Td>
                          <Code c="red.8">{show(s.before[k])}</Code>
                        </Table.Td>
                        <Table.Td>
                          <Code c="green.8">{show(s.after[k])}</Code>
                        </Table.Td>
                      </Table.Tr>
                    )),
                  )}
                </Table.Tbody>
              </Table>
            </Paper>
          )}
          {refuses && (
            <Alert color="orange">Invalid rows remain, so with “import nothing while any row is invalid” the commit will be refused. Fix or discard them first.</Alert>
          )}
        </>
      )}
      {commit.error !== null && (
        <Alert color="red" role="alert" title="The import did not start">
          {errorMessage(commit.error)}
        </Alert>
      )}
      <Group justify="space-between">
        <Button variant="default" onClick={onBack}>
          Back to review
        </Button>
        <Button onClick={() => setConfirming(true)} disabled={!dry.data || writes === 0 || refuses}>
          Import {formatInt(writes)} rows
        </Button>
      </Group>
      <Modal opened={confirming} onClose={() => setConfirming(false)} title="Start the import?">
        <Stack gap="md">
          <Text size="sm">
            {formatInt(dry.data?.created ?? 0)} records will be created and {formatInt(dry.data?.updated ?? 0)} updated in {session.entity}. It runs in the background; you can cancel it while it runs.
          </Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setConfirming(false)}>
              Not yet
            </Button>
            <Button loading={commit.isPending} onClick={start}>
              Start import
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}

function show(v: unknown): string {
  if (v === null || v === undefined) return "(empty)";
  return typeof v === "object" ? JSON.stringify(v) : String(v);
}

function StatCard({ label, value, color }: { label: string; value: number; color: string }) {
  return (
    <Paper withBorder radius="md" p="sm">
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text fw={700} size="xl" c={color === "gray" ? undefined : `${color}.7`} data-testid={`dry-${label.toLowerCase()}`}>
        {formatInt(value)}
      </Text>
    </Paper>
  );
}
