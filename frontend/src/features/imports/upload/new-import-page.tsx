import { Alert, Anchor, Select, Stack, Text, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useQuery } from "@tanstack/react-query";
import { getRouteApi, useNavigate } from "@tanstack/react-router";
import { useRef, useState } from "react";
import { entitiesQuery } from "../../../api/queries";
import { AnchorLink } from "../../../components/links";
import { Dropzone } from "./dropzone";
import { useUploadFile } from "./mutations";
import { checkFile, formatBytes, MAX_UPLOAD_BYTES, type UploadProgress, uploadError } from "./upload";

const route = getRouteApi("/w/$workspaceId/imports/new");

/** Step one: choose the entity (or let the file say), then drop the file. */
export default function NewImportPage() {
  const { workspaceId } = route.useParams();
  const search = route.useSearch();
  const navigate = useNavigate();
  const entities = useQuery(entitiesQuery(workspaceId));
  const upload = useUploadFile(workspaceId);
  const [entity, setEntity] = useState<string | null>(search.entity ?? null);
  // Why the file was not sent: refused before sending, or the upload's own error.
  const [problem, setProblem] = useState<string | null>(null);
  const error = problem ?? (upload.error ? uploadError(upload.error) : null);
  const dismiss = () => {
    setProblem(null);
    upload.reset();
  };
  const [progress, setProgress] = useState<(UploadProgress & { name: string }) | null>(null);
  const abort = useRef<AbortController | null>(null);

  const onFile = async (file: File) => {
    const refused = checkFile(file);
    if (refused) {
      setProblem(refused);
      return;
    }
    setProblem(null);
    setProgress({ loaded: 0, total: file.size, name: file.name });
    abort.current = new AbortController();
    try {
      const uploaded = await upload.mutateAsync({ file, entity, onProgress: (p) => setProgress({ ...p, name: file.name }), signal: abort.current.signal });
      notifications.show({ color: "green", title: "File uploaded", message: `${file.name} (${formatBytes(file.size)}) is read; map its columns next.` });
      void navigate({ to: "/w/$workspaceId/imports/$importId", params: { workspaceId, importId: uploaded.id }, search: { step: "map" } });
    } catch {
      // The message is the mutation's error, shown below.
      setProgress(null);
    }
  };

  return (
    <Stack gap="md" maw={880}>
      <div>
        <Title order={2}>New import</Title>
        <Text c="dimmed" size="sm">
          Upload a spreadsheet or data file; you will map its columns, review the rows and see what will change before anything is written.{" "}
          <AnchorLink to="/w/$workspaceId/imports" params={{ workspaceId }} size="sm">
            Import history
          </AnchorLink>
        </Text>
      </div>
      <Select
        label="Import into"
        description="Leave it to the file, and Loadbay proposes the entity whose fields fit best."
        placeholder="Detect from the file"
        clearable
        w={360}
        value={entity}
        onChange={setEntity}
        data={(entities.data ?? []).map((e) => ({ value: e.key, label: e.label }))}
        disabled={progress !== null}
        error={entities.isError ? "Could not load the entities; the file can still say." : undefined}
      />
      <Dropzone onFile={(f) => void onFile(f)} progress={progress} onCancel={() => abort.current?.abort()} />
      <Text size="xs" c="dimmed">
        Files up to {formatBytes(MAX_UPLOAD_BYTES)}. The file streams to the server; nothing is imported until you commit.
      </Text>
      {error && (
        <Alert color="red" role="alert" title="The file was not uploaded" withCloseButton onClose={dismiss}>
          {error}{" "}
          {error.includes("cancelled") ? null : (
            <Anchor component="button" size="sm" onClick={dismiss}>
              Choose another file
            </Anchor>
          )}
        </Alert>
      )}
    </Stack>
  );
}
