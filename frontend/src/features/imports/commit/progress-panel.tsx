import { Alert, Button, Group, Modal, Paper, Progress, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { useState } from "react";
import type { Progress as ProgressData } from "../api";
import { formatDuration, formatInt, formatRate } from "../format";

type Props = {
  progress: ProgressData | undefined;
  /** `staging`: rows are read and checked (total unknown); `commit`: chunks are written. */
  mode: "staging" | "commit";
  live: boolean;
  /** Cancel, once confirmed; the confirmation closes when it resolves. */
  onCancel?: () => Promise<unknown> | void;
  /** The cancel is being sent. */
  cancelling?: boolean;
};

/** How far a running import got: a bar, rows per second and time left, and a cancel that asks first. */
export function ProgressPanel({ progress, mode, live, onCancel, cancelling = false }: Props) {
  const [confirming, setConfirming] = useState(false);
  const total = progress?.rows_total ?? 0;
  const done = progress?.rows_done ?? 0;
  const pct = mode === "commit" && total > 0 ? Math.min(100, (done / total) * 100) : 0;
  const running = progress ? progress.status === "staging" || progress.status === "committing" : true;

  const cancel = async () => {
    await onCancel?.();
    setConfirming(false);
  };

  return (
    <Paper withBorder radius="md" p="lg">
      <Stack gap="md">
        <Group justify="space-between">
          <Title order={3}>{mode === "staging" ? "Reading and checking every row" : "Importing"}</Title>
          <Text size="sm" c="dimmed" aria-live="off">
            {live ? "live" : "updating every 2 s"}
          </Text>
        </Group>
        {mode === "commit" ? (
          <Progress.Root size={22} aria-hidden>
            <Progress.Section value={pct} animated={running} color={progress?.chunks_failed ? "orange" : "blue"}>
              <Progress.Label>{Math.floor(pct)}%</Progress.Label>
            </Progress.Section>
          </Progress.Root>
        ) : (
          <Progress value={100} animated size={22} aria-hidden />
        )}
        <div role="progressbar" aria-label="Import progress" aria-valuemin={0} aria-valuemax={mode === "commit" ? total : undefined} aria-valuenow={mode === "commit" ? done : undefined} aria-valuetext={mode === "commit" ? `${formatInt(done)} of ${formatInt(total)} rows` : `${formatInt(total)} rows read`} data-testid="progress-text">
          <Text size="sm">
            {mode === "commit" ? (
              <>
                <b>{formatInt(done)}</b> of <b>{formatInt(total)}</b> rows
              </>
            ) : (
              <>
                <b>{formatInt(total)}</b> rows read
              </>
            )}
          </Text>
        </div>
        {mode === "commit" && (
          <SimpleGrid cols={{ base: 2, sm: 4 }}>
            <Stat label="Speed" value={formatRate(progress?.rows_per_second)} testId="rate" />
            <Stat label="Time left" value={progress?.eta_seconds === null || progress?.eta_seconds === undefined ? "–" : formatDuration(progress.eta_seconds)} testId="eta" />
            <Stat label="Chunks done" value={`${formatInt(progress?.chunks_done ?? 0)} / ${formatInt(progress?.chunks_total ?? 0)}`} testId="chunks" />
            <Stat label="Chunks failed" value={formatInt(progress?.chunks_failed ?? 0)} testId="failed" />
          </SimpleGrid>
        )}
        {progress?.error && (
          <Alert color="red" role="alert">
            {progress.error}
          </Alert>
        )}
        {onCancel && running && (
          <Group>
            <Button color="red" variant="light" onClick={() => setConfirming(true)}>
              Cancel import
            </Button>
          </Group>
        )}
      </Stack>
      <Modal opened={confirming} onClose={() => setConfirming(false)} title="Cancel this import?">
        <Stack gap="md">
          <Text size="sm">
            {mode === "commit"
              ? `Chunks not started yet are not imported. The ${formatInt(done)} rows already written stay; chunks running now finish.`
              : "Checking stops; the session ends as cancelled and nothing is imported."}
          </Text>
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setConfirming(false)}>
              Keep importing
            </Button>
            <Button color="red" loading={cancelling} onClick={() => void cancel()}>
              Cancel import
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Paper>
  );
}

function Stat({ label, value, testId }: { label: string; value: string; testId: string }) {
  return (
    <div>
      <Text size="xs" c="dimmed" tt="uppercase" fw={600}>
        {label}
      </Text>
      <Text fw={600} size="lg" data-testid={testId}>
        {value}
      </Text>
    </div>
  );
}
