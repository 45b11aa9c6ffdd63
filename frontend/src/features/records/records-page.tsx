import { Box, Button, CloseButton, Group, Skeleton, Stack, Text, TextInput, Title } from "@mantine/core";
import { useDebouncedCallback } from "@mantine/hooks";
import { useQuery } from "@tanstack/react-query";
import { getRouteApi, useRouter } from "@tanstack/react-router";
import type { GridApi } from "ag-grid-community";
import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError, type RecordRow } from "../../api/client";
import { entityQuery, recordCountQuery } from "../../api/queries";
import { EmptyState } from "../../components/empty-state";
import { ErrorState } from "../../components/error-state";
import { formatCount } from "./format";
import { RecordDrawer } from "./record-drawer";
import { RecordsGrid, type SortState } from "./records-grid";

const route = getRouteApi("/w/$workspaceId/e/$entityKey");

/** An entity's records: key search, server-side sort and paging, and a drawer for one record. */
export default function RecordsPage() {
  const { workspaceId, entityKey } = route.useParams();
  const search = route.useSearch();
  const navigate = route.useNavigate();
  const router = useRouter();
  // This page's own address, to tell whether the person is still on it.
  const here = useRef("");
  useEffect(() => {
    if (entityKey) here.current = `/w/${workspaceId}/e/${entityKey}`;
  }, [workspaceId, entityKey]);
  const entity = useQuery(entityQuery(workspaceId, entityKey));
  const count = useQuery(recordCountQuery(workspaceId, entityKey, search.q));
  const [loadError, setLoadError] = useState<unknown>(null);
  const [empty, setEmpty] = useState(false);
  const gridApi = useRef<GridApi<RecordRow> | null>(null);

  const onSortChange = useCallback(
    ({ sort, order }: SortState) =>
      void navigate({
        search: (prev) => ({ ...prev, sort, order: sort ? order : undefined }),
        replace: true,
      }),
    [navigate],
  );
  const onRowOpen = useCallback(
    (record: RecordRow) => void navigate({ search: (prev) => ({ ...prev, record: record.id, tab: undefined }) }),
    [navigate],
  );
  const onLoaded = useCallback(({ empty }: { empty: boolean }) => {
    setLoadError(null);
    setEmpty(empty);
  }, []);

  const retry = () => {
    setLoadError(null);
    gridApi.current?.purgeInfiniteCache();
    void count.refetch();
  };

  if (entity.isPending) {
    return (
      <Stack gap="md" aria-busy="true" aria-label="Loading">
        <Skeleton height={32} width={240} />
        <Skeleton height={36} width={360} />
        <Skeleton height={480} />
      </Stack>
    );
  }
  if (entity.isError && entity.error instanceof ApiError && entity.error.status === 404) {
    return (
      <EmptyState
        title="No such entity"
        action={
          <Button variant="light" onClick={() => void navigate({ to: "/w/$workspaceId", params: { workspaceId } })}>
            All entities
          </Button>
        }
      >
        This workspace has no entity “{entityKey}”. It may have been renamed or deleted.
      </EmptyState>
    );
  }
  if (entity.isError) {
    return <ErrorState title="Could not load this entity" error={entity.error} onRetry={() => void entity.refetch()} retrying={entity.isFetching} />;
  }

  return (
    <Stack gap="md" h="calc(100dvh - var(--app-shell-header-offset, 0px) - 2 * var(--mantine-spacing-md))">
      <Group justify="space-between" align="flex-end" wrap="wrap" gap="sm">
        <Stack gap={2}>
          <Title order={2}>{entity.data.label}</Title>
          <Text c="dimmed" size="sm" data-testid="record-count" aria-live="polite">
            {count.isPending ? (
              <Skeleton component="span" height={14} width={100} display="inline-block" />
            ) : count.isError ? (
              "Count unavailable"
            ) : (
              formatCount(count.data.count, "record", count.data.exact)
            )}
            {search.q ? ` with a key starting “${search.q}”` : ""}
          </Text>
        </Stack>
        <KeySearch
          value={search.q ?? ""}
          label={entity.data.key_fields.map((k) => entity.data.fields.find((f) => f.key === k)?.label ?? k).join(" / ")}
          onChange={(q) => {
            // A search typed just before leaving the page arrives late: it must not pull the person back.
            if (router.state.location.pathname !== here.current) return;
            void navigate({ search: (prev) => ({ ...prev, q: q || undefined }), replace: true });
          }}
        />
      </Group>
      {loadError !== null && (
        <ErrorState title="Could not load records" error={loadError} onRetry={retry} />
      )}
      <Box pos="relative" flex={1} mih={320}>
        <RecordsGrid
          workspaceId={workspaceId}
          entity={entity.data}
          q={search.q}
          sort={{ sort: search.sort, order: search.order }}
          onSortChange={onSortChange}
          onRowOpen={onRowOpen}
          onLoadError={setLoadError}
          onLoaded={onLoaded}
          apiRef={(api) => {
            gridApi.current = api;
          }}
        />
        {empty && loadError === null && (
          <Box pos="absolute" top={56} left={16} right={16} style={{ zIndex: 2 }}>
            <EmptyState title={search.q ? "No matching records" : "No records yet"}>
              {search.q
                ? `No ${entity.data.label.toLowerCase()} have a key starting with “${search.q}”.`
                : `Import a file or create ${entity.data.label.toLowerCase()} through the API to see them here.`}
            </EmptyState>
          </Box>
        )}
      </Box>
      <RecordDrawer
        workspaceId={workspaceId}
        entity={entity.data}
        recordId={search.record}
        tab={search.tab ?? "fields"}
        onTabChange={(tab) => void navigate({ search: (prev) => ({ ...prev, tab: tab === "history" ? "history" : undefined }), replace: true })}
        onClose={() => void navigate({ search: (prev) => ({ ...prev, record: undefined, tab: undefined }), replace: true })}
      />
    </Stack>
  );
}

function KeySearch({ value, label, onChange }: { value: string; label: string; onChange: (q: string) => void }) {
  const [text, setText] = useState(value);
  const commit = useDebouncedCallback(onChange, 300);
  // Follow the URL when it changes from elsewhere (a link, back and forward).
  const [seen, setSeen] = useState(value);
  if (seen !== value) {
    setSeen(value);
    if (text.trim() !== value) setText(value);
  }
  return (
    <TextInput
      aria-label="Search by key"
      placeholder={`Search by ${label || "key"}…`}
      w={320}
      value={text}
      onChange={(e) => {
        setText(e.currentTarget.value);
        commit(e.currentTarget.value.trim());
      }}
      rightSection={
        text ? (
          <CloseButton
            aria-label="Clear search"
            size="sm"
            onClick={() => {
              setText("");
              onChange("");
            }}
          />
        ) : null
      }
    />
  );
}
