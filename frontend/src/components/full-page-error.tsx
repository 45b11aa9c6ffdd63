import { Center, Container } from "@mantine/core";
import { ErrorState } from "./error-state";

/** An error that stops a whole page, with a Retry that reloads what failed. */
export function FullPageError({ error, onRetry }: { error: unknown; onRetry?: () => void }) {
  return (
    <Center mih="60vh">
      <Container size="sm" w="100%">
        <ErrorState title="Something went wrong" error={error} onRetry={onRetry} />
      </Container>
    </Center>
  );
}
