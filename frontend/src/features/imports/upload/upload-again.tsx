import { Alert, Anchor, Stack, Text } from "@mantine/core";
import { useState } from "react";
import type { ImportSession } from "../api";
import { Dropzone } from "./dropzone";
import { useUploadFile } from "./mutations";
import { checkFile, type UploadProgress, uploadError } from "./upload";

type Props = { workspaceId: number; session: ImportSession; onUploaded: (s: ImportSession) => void };

/** The upload step of a session created without its file (its upload failed, or it was made through the API). */
export function UploadAgain({ workspaceId, session, onUploaded }: Props) {
  const upload = useUploadFile(workspaceId);
  const [progress, setProgress] = useState<(UploadProgress & { name: string }) | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const error = problem ?? (upload.error ? uploadError(upload.error) : null);
  const onFile = async (file: File) => {
    const refused = checkFile(file);
    if (refused) return setProblem(refused);
    setProblem(null);
    setProgress({ loaded: 0, total: file.size, name: file.name });
    try {
      onUploaded(await upload.mutateAsync({ file, importId: session.id, onProgress: (p) => setProgress({ ...p, name: file.name }) }));
    } catch {
      // The message is the mutation's error, shown below.
      setProgress(null);
    }
  };
  return (
    <Stack gap="sm">
      <Text size="sm">This import has no file yet. Drop one to continue.</Text>
      <Dropzone onFile={(f) => void onFile(f)} progress={progress} />
      {error && (
        <Alert color="red" role="alert">
          {error}{" "}
          <Anchor
            component="button"
            size="sm"
            onClick={() => {
              setProblem(null);
              upload.reset();
            }}
          >
            Dismiss
          </Anchor>
        </Alert>
      )}
    </Stack>
  );
}
