import { Center, Paper, Stack, Text, Title } from "@mantine/core";
import { getRouteApi, useRouter } from "@tanstack/react-router";
import { LoginForm } from "./login-form";
import { safeNext } from "./safe-next";

const route = getRouteApi("/login");


export function LoginPage() {
  const { next } = route.useSearch();
  const router = useRouter();
  return (
    <Center mih="100dvh" p="md" bg="var(--mantine-color-body)">
      <Stack w="100%" maw={400} gap="lg">
        <Stack gap={4} align="center">
          <Title order={1} size="h2">
            Loadbay
          </Title>
          <Text c="dimmed" size="sm">
            Sign in to import and browse your data
          </Text>
        </Stack>
        <Paper withBorder shadow="sm" radius="md" p="xl">
          <LoginForm onSignedIn={() => router.history.replace(safeNext(next))} />
        </Paper>
      </Stack>
    </Center>
  );
}
