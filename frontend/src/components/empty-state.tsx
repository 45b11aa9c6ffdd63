import { Paper, Stack, Text, Title } from "@mantine/core";
import type { ReactNode } from "react";

type Props = { title: string; children?: ReactNode; action?: ReactNode };

/** Nothing to show yet, and what the person can do about it. */
export function EmptyState({ title, children, action }: Props) {
  return (
    <Paper withBorder radius="md" p="xl">
      <Stack align="center" gap="xs" ta="center">
        <Title order={4}>{title}</Title>
        {children && (
          <Text c="dimmed" size="sm" maw={480}>
            {children}
          </Text>
        )}
        {action}
      </Stack>
    </Paper>
  );
}
