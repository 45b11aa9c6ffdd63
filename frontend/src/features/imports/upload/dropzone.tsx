import { Box, Button, Progress, Stack, Text } from "@mantine/core";
import { useRef, useState } from "react";
import { ACCEPTED_EXTENSIONS, formatBytes, type UploadProgress } from "./upload";
import classes from "./dropzone.module.css";

type Props = {
  onFile: (file: File) => void;
  disabled?: boolean;
  progress: (UploadProgress & { name: string }) | null;
  onCancel?: () => void;
};

/** Drop a file here or pick one; while it uploads, how far it got. */
export function Dropzone({ onFile, disabled, progress, onCancel }: Props) {
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);
  const pick = () => input.current?.click();
  const pct = progress && progress.total ? Math.min(100, (progress.loaded / progress.total) * 100) : 0;

  return (
    <Box
      className={classes.zone}
      data-over={over || undefined}
      data-busy={progress ? true : undefined}
      role="button"
      tabIndex={disabled ? -1 : 0}
      aria-label="Drop a file here, or press Enter to choose one"
      aria-disabled={disabled}
      data-testid="dropzone"
      onClick={() => !disabled && !progress && pick()}
      onKeyDown={(e) => {
        if ((e.key === "Enter" || e.key === " ") && !disabled && !progress) {
          e.preventDefault();
          pick();
        }
      }}
      onDragEnter={(e) => {
        e.preventDefault();
        if (!disabled) setOver(true);
      }}
      onDragOver={(e) => {
        e.preventDefault();
        e.dataTransfer.dropEffect = disabled ? "none" : "copy";
      }}
      onDragLeave={(e) => {
        if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setOver(false);
      }}
      onDrop={(e) => {
        e.preventDefault();
        setOver(false);
        const file = e.dataTransfer.files[0];
        if (file && !disabled && !progress) onFile(file);
      }}
    >
      <input
        ref={input}
        type="file"
        hidden
        aria-label="Choose a file"
        accept={ACCEPTED_EXTENSIONS.join(",")}
        data-testid="file-input"
        onChange={(e) => {
          const file = e.currentTarget.files?.[0];
          e.currentTarget.value = "";
          if (file) onFile(file);
        }}
      />
      {progress ? (
        <Stack gap="xs" w="100%" maw={480} onClick={(e) => e.stopPropagation()}>
          <Text fw={600} truncate>
            Uploading {progress.name}
          </Text>
          <Progress value={pct} animated size="lg" aria-label="Upload progress" />
          <Text size="sm" c="dimmed" aria-live="polite">
            {formatBytes(progress.loaded)} of {formatBytes(progress.total)} ({Math.floor(pct)}%)
            {progress.loaded >= progress.total ? " — reading the file…" : ""}
          </Text>
          {onCancel && progress.loaded < progress.total && (
            <Button variant="subtle" color="gray" size="xs" onClick={onCancel}>
              Cancel upload
            </Button>
          )}
        </Stack>
      ) : (
        <Stack gap={4} align="center">
          <Text className={classes.icon} aria-hidden>
            ⇪
          </Text>
          <Text fw={600}>{over ? "Drop to upload" : "Drop a file here, or click to choose"}</Text>
          <Text size="sm" c="dimmed">
            CSV, TSV, Excel (XLSX, XLS), OpenDocument (ODS), JSON or NDJSON
          </Text>
        </Stack>
      )}
    </Box>
  );
}
