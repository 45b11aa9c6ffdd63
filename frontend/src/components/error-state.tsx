import { Alert, Button, Group, Text } from "@mantine/core";
import { errorMessage } from "../api/client";

type Props = { title?: string; error: unknown; onRetry?: () => void; retrying?: boolean };

/** A failed load: what went wrong, in words, and a way to try again. */
export function ErrorState({ title = "Could not load this", error, onRetry, retrying }: Props) {
  return (
    <Alert color="red" variant="light" title={title} role="alert">
      <Group justify="space-between" align="center" wrap="nowrap" gap="md">
        <Text size="sm">{errorMessage(error)}</Text>
        {onRetry && (
          <Button size="xs" variant="white" color="red" onClick={onRetry} loading={retrying}>
            Retry
          </Button>
        )}
      </Group>
    </Alert>
  );
}
