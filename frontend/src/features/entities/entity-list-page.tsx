import { Badge, Card, Group, SimpleGrid, Skeleton, Stack, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { getRouteApi } from "@tanstack/react-router";
import { entitiesQuery } from "../../api/queries";
import { EmptyState } from "../../components/empty-state";
import { ErrorState } from "../../components/error-state";
import { AnchorLink, ButtonLink } from "../../components/links";

const route = getRouteApi("/w/$workspaceId/");
const countFormat = new Intl.NumberFormat("en-US");

/** The workspace's entities as cards: label, key, fields and records. */
export function EntityListPage() {
  const { workspaceId } = route.useParams();
  const entities = useQuery(entitiesQuery(workspaceId));

  return (
    <Stack gap="lg">
      <Group justify="space-between">
        <Title order={2}>Entities</Title>
        <ButtonLink to="/w/$workspaceId/imports/new" params={{ workspaceId }} search={{}}>
          Import a file
        </ButtonLink>
      </Group>
      {entities.isPending && (
        <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }} aria-busy="true" aria-label="Loading">
          {Array.from({ length: 3 }, (_, i) => (
            <Skeleton key={i} height={128} radius="md" />
          ))}
        </SimpleGrid>
      )}
      {entities.isError && (
        <ErrorState title="Could not load entities" error={entities.error} onRetry={() => void entities.refetch()} retrying={entities.isFetching} />
      )}
      {entities.data?.length === 0 && (
        <EmptyState title="No entities yet">
          Declare entities through the API, or apply a schema file with{" "}
          <code>loadbay schema apply schema.yaml</code>.
        </EmptyState>
      )}
      {entities.data && entities.data.length > 0 && (
        <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }}>
          {entities.data.map((e) => (
            <Card key={e.key} withBorder radius="md" padding="lg">
              <Stack gap="xs" h="100%">
                <Group justify="space-between" wrap="nowrap" align="flex-start">
                  <AnchorLink
                    to="/w/$workspaceId/e/$entityKey"
                    params={{ workspaceId, entityKey: e.key }}
                    fw={600}
                    size="lg"
                  >
                    {e.label}
                  </AnchorLink>
                  <Badge variant="light" color="gray" style={{ textTransform: "none" }}>
                    {e.key}
                  </Badge>
                </Group>
                {e.description && (
                  <Text size="sm" c="dimmed" lineClamp={2}>
                    {e.description}
                  </Text>
                )}
                <Group gap="lg" mt="auto">
                  <Text size="sm">
                    <b>{countFormat.format(e.record_count)}</b> {e.record_count === 1 ? "record" : "records"}
                  </Text>
                  <Text size="sm">
                    <b>{e.fields.length}</b> {e.fields.length === 1 ? "field" : "fields"}
                  </Text>
                  <Text size="sm" c="dimmed" truncate="end">
                    key: {e.key_fields.join(" + ")}
                  </Text>
                </Group>
              </Stack>
            </Card>
          ))}
        </SimpleGrid>
      )}
    </Stack>
  );
}
