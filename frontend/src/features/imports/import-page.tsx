import { Badge, Group, Skeleton, Stack, Stepper, Text, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { getRouteApi } from "@tanstack/react-router";
import { lazy, Suspense, useEffect } from "react";
import { ApiError, errorMessage } from "../../api/client";
import { workspacesQuery } from "../../api/queries";
import { EmptyState } from "../../components/empty-state";
import { ErrorState } from "../../components/error-state";
import { AnchorLink, ButtonLink } from "../../components/links";
import { type ImportSession, importKeys, importQuery } from "./api";
import { ProgressPanel } from "./commit/progress-panel";
import { ResultView } from "./commit/result-view";
import { useImportProgress } from "./commit/use-import-events";
import { formatInt, statusLabel, STATUS_COLORS } from "./format";
import { MapStep } from "./mapping/map-step";
import { useCancelImport } from "./mutations";
import { PreviewStep } from "./preview/preview-step";
import { type ImportStep, stepFor } from "./search";
import { formatBytes } from "./upload/upload";
import { UploadAgain } from "./upload/upload-again";

// The grid is the heavy part: it loads with the review step only.
const ReviewStep = lazy(() => import("./review/review-step"));

const route = getRouteApi("/w/$workspaceId/imports/$importId");

const STEPPER: { step: ImportStep; label: string }[] = [
  { step: "upload", label: "Upload" },
  { step: "map", label: "Map" },
  { step: "review", label: "Review" },
  { step: "preview", label: "Preview" },
  { step: "result", label: "Import" },
];
const STEP_INDEX: Record<ImportStep, number> = { upload: 0, map: 1, staging: 2, review: 2, preview: 3, progress: 4, result: 4 };

/** One import session, at the step its status allows (and the URL asks for). */
export default function ImportPage() {
  const { workspaceId, importId } = route.useParams();
  const search = route.useSearch();
  const navigate = route.useNavigate();
  const session = useQuery(importQuery(workspaceId, importId));
  const workspaces = useQuery(workspacesQuery());
  const isAdmin = workspaces.data?.find((w) => w.id === workspaceId)?.role === "admin";
  const step = session.data ? stepFor(session.data.status, search.step) : search.step;

  // Keep the URL on a step the session can show, so a link or a reload lands where it should.
  useEffect(() => {
    if (session.data && step && step !== search.step) {
      void navigate({ search: (prev) => ({ ...prev, step }), replace: true });
    }
  }, [session.data, step, search.step, navigate]);

  if (session.isPending) {
    return (
      <Stack gap="md" aria-busy="true" aria-label="Loading">
        <Skeleton height={32} width={320} />
        <Skeleton height={48} />
        <Skeleton height={360} />
      </Stack>
    );
  }
  if (session.isError) {
    if (session.error instanceof ApiError && session.error.status === 404) {
      return (
        <EmptyState
          title="No such import"
          action={
            <ButtonLink to="/w/$workspaceId/imports" params={{ workspaceId }} variant="light">
              Import history
            </ButtonLink>
          }
        >
          Import {importId} does not exist in this workspace, or it was deleted.
        </EmptyState>
      );
    }
    return <ErrorState title="Could not load this import" error={session.error} onRetry={() => void session.refetch()} retrying={session.isFetching} />;
  }

  const s = session.data;
  const go = (next: ImportStep, extra: Record<string, unknown> = {}) =>
    void navigate({ search: (prev) => ({ ...prev, step: next, ...extra }) });

  return (
    <Stack gap="md">
      <Group justify="space-between" align="flex-start" wrap="wrap">
        <Stack gap={2}>
          <Group gap="sm">
            <Title order={2}>{s.file_name || `Import ${s.id}`}</Title>
            <Badge color={STATUS_COLORS[s.status] ?? "gray"} variant="light" data-testid="import-status">
              {statusLabel(s.status)}
            </Badge>
          </Group>
          <Text size="sm" c="dimmed">
            Import {s.id}
            {s.entity ? ` into ${s.entity}` : ""}
            {s.file_size !== null ? ` · ${formatBytes(s.file_size)}` : ""}
            {s.format ? ` · ${s.format.toUpperCase()}` : ""}
            {s.counts.rows !== undefined ? ` · ${formatInt(s.counts.rows)} rows` : ""} ·{" "}
            <AnchorLink to="/w/$workspaceId/imports" params={{ workspaceId }} size="sm">
              History
            </AnchorLink>
          </Text>
        </Stack>
      </Group>
      <Stepper
        active={STEP_INDEX[step ?? "upload"]}
        size="sm"
        onStepClick={(i) => {
          const target = STEPPER[i]?.step;
          if (target && stepFor(s.status, target) === target) go(target);
        }}
        allowNextStepsSelect={false}
      >
        {STEPPER.map((x) => (
          <Stepper.Step key={x.step} label={x.label} allowStepSelect={stepFor(s.status, x.step) === x.step} />
        ))}
      </Stepper>
      <StepView step={step ?? "upload"} session={s} workspaceId={workspaceId} isAdmin={isAdmin} go={go} />
    </Stack>
  );
}

function StepView({
  step,
  session,
  workspaceId,
  isAdmin,
  go,
}: {
  step: ImportStep;
  session: ImportSession;
  workspaceId: number;
  isAdmin: boolean;
  go: (step: ImportStep, extra?: Record<string, unknown>) => void;
}) {
  const search = route.useSearch();
  const navigate = route.useNavigate();
  const queryClient = useQueryClient();
  const running = step === "staging" || step === "progress";
  const progress = useImportProgress(workspaceId, session.id, running);
  const cancel = useCancelImport(workspaceId);

  // When the background work ends, the session moves on; the page follows.
  const progressStatus = progress.data?.status;
  useEffect(() => {
    if (running && progressStatus && progressStatus !== session.status) {
      void queryClient.invalidateQueries({ queryKey: importKeys.one(workspaceId, session.id) });
    }
  }, [running, progressStatus, session.status, queryClient, workspaceId, session.id]);

  // Writes keep the session in the cache themselves (see ./mutations.ts); the page says so and moves on.
  const onCancel = async () => {
    try {
      await cancel.mutateAsync(session.id);
      notifications.show({ color: "gray", title: "Import cancelled", message: "Chunks that had not started were not imported." });
      go("result");
    } catch (err) {
      notifications.show({ color: "red", title: "Could not cancel", message: errorMessage(err) });
    }
  };
  const progressPanel = (mode: "staging" | "commit") => (
    <ProgressPanel mode={mode} progress={progress.data} live={progress.live} onCancel={onCancel} cancelling={cancel.isPending} />
  );

  switch (step) {
    case "upload":
      return <UploadAgain workspaceId={workspaceId} session={session} onUploaded={() => go("map")} />;
    case "map":
      return (
        <MapStep
          workspaceId={workspaceId}
          session={session}
          isAdmin={isAdmin}
          onStaged={() => {
            notifications.show({ message: "Mapping saved; every row is being read and checked." });
            go("staging");
          }}
        />
      );
    case "staging":
      return progressPanel("staging");
    case "review":
      return (
        <Suspense fallback={<Skeleton height={480} />}>
          <ReviewStep
            workspaceId={workspaceId}
            session={session}
            filter={{ status: search.status, field: search.field, code: search.code }}
            openRow={search.row}
            onFilterChange={(f) =>
              void navigate({ search: (prev) => ({ ...prev, status: f.status, field: f.field, code: f.code, row: undefined }), replace: false })
            }
            onOpenRow={(row) => void navigate({ search: (prev) => ({ ...prev, row }) })}
            onContinue={() => go("preview", { row: undefined })}
          />
        </Suspense>
      );
    case "preview":
      return (
        <PreviewStep
          workspaceId={workspaceId}
          session={session}
          options={{ on_existing: search.onExisting ?? "overwrite", on_invalid: search.onInvalid ?? "skip" }}
          onOptionsChange={(o) => void navigate({ search: (prev) => ({ ...prev, onExisting: o.on_existing, onInvalid: o.on_invalid }), replace: true })}
          onBack={() => go("review")}
          onCommitted={() => {
            notifications.show({ color: "blue", title: "Import started", message: `${session.file_name} is being written in chunks.` });
            go("progress");
          }}
        />
      );
    case "progress":
      return progressPanel("commit");
    case "result":
      return (
        <ResultView
          workspaceId={workspaceId}
          session={session}
          onRetried={() => {
            notifications.show({ message: "Retrying what failed." });
            go(session.staged_at ? "progress" : "staging");
          }}
        />
      );
  }
}
