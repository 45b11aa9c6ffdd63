import { Alert, Anchor, Select, Stack, Text, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { getRouteApi, useNavigate } from "@tanstack/react-router";
import { useRef, useState } from "react";
import { errorMessage } from "../../api/client";
import { entitiesQuery } from "../../api/queries";
import { AnchorLink } from "../../components/links";
import { createImport, importKeys } from "./api";
import { Dropzone } from "./dropzone";
import { checkFile, formatBytes, MAX_UPLOAD_BYTES, type UploadProgress, uploadFile } from "./upload";

const route = getRouteApi("/w/$workspaceId/imports/new");

/** Step one: choose the entity (or let the file say), then drop the file. */
export default function NewImportPage() {
  const { workspaceId } = route.useParams();
  const search = route.useSearch();
  const navigate = useNavigate();
  const queryClient = useQueryClient();
  const entities = useQuery(entitiesQuery(workspaceId));
  const [entity, setEntity] = useState<string | null>(search.entity ?? null);
  const [error, setError] = useState<string | null>(null);
  const [progress, setProgress] = useState<(UploadProgress & { name: string }) | null>(null);
  const abort = useRef<AbortController | null>(null);

  const onFile = async (file: File) => {
    const problem = checkFile(file);
    if (problem) {
      setError(problem);
      return;
    }
    setError(null);
    setProgress({ loaded: 0, total: file.size, name: file.name });
    abort.current = new AbortController();
    try {
      const session = await createImport(workspaceId, { entity, file_name: file.name, duplicate_policy: "last_wins" });
      const uploaded = await uploadFile(workspaceId, session.id, file, (p) => setProgress({ ...p, name: file.name }), abort.current.signal);
      queryClient.setQueryData(importKeys.one(workspaceId, uploaded.id), uploaded);
      void queryClient.invalidateQueries({ queryKey: importKeys.list(workspaceId) });
      notifications.show({ color: "green", title: "File uploaded", message: `${file.name} (${formatBytes(file.size)}) is read; map its columns next.` });
      void navigate({ to: "/w/$workspaceId/imports/$importId", params: { workspaceId, importId: uploaded.id }, search: { step: "map" } });
    } catch (err) {
      setProgress(null);
      if (err instanceof DOMException && err.name === "AbortError") setError("The upload was cancelled.");
      else setError(errorMessage(err));
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
        <Alert color="red" role="alert" title="The file was not uploaded" withCloseButton onClose={() => setError(null)}>
          {error}{" "}
          {error.includes("cancelled") ? null : (
            <Anchor component="button" size="sm" onClick={() => setError(null)}>
              Choose another file
            </Anchor>
          )}
        </Alert>
      )}
    </Stack>
  );
}
