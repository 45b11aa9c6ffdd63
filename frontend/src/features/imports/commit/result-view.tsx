import { Alert, Button, Group, Paper, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { errorMessage } from "../../../api/client";
import { ButtonLink } from "../../../components/links";
import { type ImportSession, reportUrl } from "../api";
import { formatDuration, formatExact, formatInt, plural, statusLabel } from "../format";
import { useRetryImport } from "../mutations";

/** `onRetried`: the retry started; the session (staging or committing again) is in the cache. */
type Props = { workspaceId: number; session: ImportSession; onRetried: () => void };

const COUNTS: [string, string][] = [
  ["created", "Created"],
  ["updated", "Updated"],
  ["unchanged", "Unchanged"],
  ["skipped", "Skipped"],
  ["invalid", "Invalid"],
  ["rejected", "Rejected"],
  ["failed", "Failed"],
  ["not_committed", "Not committed"],
];

/** How an import ended: counts, the error report, and a retry of failed chunks. */
export function ResultView({ workspaceId, session, onRetried }: Props) {
  const retry = useRetryImport(workspaceId);
  const c = session.counts;
  const problems = (c.invalid ?? 0) + (c.rejected ?? 0) + (c.failed ?? 0);
  const canRetry = session.status === "failed" || (session.status === "completed_with_errors" && (c.chunks_failed ?? 0) > 0);
  const staged = session.staged_at !== null;
  const took =
    session.commit_started_at && session.finished_at
      ? (new Date(session.finished_at).getTime() - new Date(session.commit_started_at).getTime()) / 1000
      : null;
  const color = session.status === "completed" ? "green" : session.status === "completed_with_errors" ? "orange" : session.status === "failed" ? "red" : "gray";

  return (
    <Stack gap="md">
      <Alert color={color} title={statusLabel(session.status)} data-testid="result-status">
        {session.status === "cancelled"
          ? "The import was cancelled. What was written before stays."
          : session.status === "failed"
            ? session.error ?? "The import failed."
            : `${formatInt((c.created ?? 0) + (c.updated ?? 0))} records written${took !== null ? ` in ${formatDuration(took)}` : ""}.`}
        {session.finished_at && (
          <Text size="xs" c="dimmed" mt={4}>
            Finished {formatExact(session.finished_at)}
          </Text>
        )}
      </Alert>
      <SimpleGrid cols={{ base: 2, sm: 4 }} data-testid="result-counts">
        {COUNTS.filter(([k]) => k in c).map(([k, label]) => (
          <Paper key={k} withBorder radius="md" p="sm">
            <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
              {label}
            </Text>
            <Text fw={700} size="xl" data-testid={`count-${k}`}>
              {formatInt(c[k])}
            </Text>
          </Paper>
        ))}
      </SimpleGrid>
      {retry.error !== null && (
        <Alert color="red" role="alert">
          {errorMessage(retry.error)}
        </Alert>
      )}
      <Paper withBorder radius="md" p="md">
        <Stack gap="sm">
          <Title order={4}>Rows that did not make it</Title>
          <Text size="sm" c="dimmed">
            {problems
              ? `${plural(problems, "row")}, as uploaded, with a column saying why. Fix them and upload the report again.`
              : "No row was invalid or failed; the report has only its header."}
            {(c.not_committed ?? 0) > 0 && ` ${plural(c.not_committed ?? 0, "valid row")} were not committed because the import stopped; import the file again to write them (re-imports update, they never duplicate).`}
          </Text>
          <Group>
            <Button component="a" href={reportUrl(workspaceId, session.id, "csv")} download variant="light" disabled={!staged}>
              Download error report (CSV)
            </Button>
            <Button component="a" href={reportUrl(workspaceId, session.id, "xlsx")} download variant="light" disabled={!staged}>
              Download error report (XLSX)
            </Button>
          </Group>
        </Stack>
      </Paper>
      <Group>
        {session.entity && session.status !== "failed" && (
          <ButtonLink to="/w/$workspaceId/e/$entityKey" params={{ workspaceId, entityKey: session.entity }}>
            Open the records
          </ButtonLink>
        )}
        {canRetry && (
          <Button color="orange" onClick={() => retry.mutate(session.id, { onSuccess: onRetried })} loading={retry.isPending}>
            {session.staged_at ? "Retry failed chunks" : "Retry"}
          </Button>
        )}
        <ButtonLink to="/w/$workspaceId/imports/new" params={{ workspaceId }} variant="default">
          New import
        </ButtonLink>
      </Group>
    </Stack>
  );
}
