import { Button, Center, Skeleton, Stack, Text, Title } from "@mantine/core";
import type { QueryClient } from "@tanstack/react-query";
import {
  type ErrorComponentProps,
  Link,
  Outlet,
  type ParsedLocation,
  createRootRouteWithContext,
  createRoute,
  createRouter,
  lazyRouteComponent,
  notFound,
  redirect,
  useNavigate,
} from "@tanstack/react-router";
import { ApiError, setUnauthorizedHandler } from "../api/client";
import { meQuery, workspacesQuery } from "../api/queries";
import { EmptyState } from "../components/empty-state";
import { FullPageError } from "../components/full-page-error";
import { LoginPage } from "../features/auth/login-page";
import { UserMenu } from "../features/auth/user-menu";
import { EntityListPage } from "../features/entities/entity-list-page";
import { validateAuditSearch } from "../features/audit/search";
import { validateImportSearch } from "../features/imports/search";
import { validateRecordsSearch } from "../features/records/search";
import { lastWorkspace } from "./last-workspace";
import { Shell } from "./shell";

type RouterContext = { queryClient: QueryClient };

/** Signed in, or off to the login page with the way back in `?next=`. */
async function requireSignIn(queryClient: QueryClient, location: ParsedLocation): Promise<void> {
  try {
    await queryClient.ensureQueryData(meQuery());
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) {
      throw redirect({ to: "/login", search: { next: location.href }, replace: true });
    }
    throw err;
  }
}

/** An id in a path: a positive whole number, or there is nothing at this address. */
function positiveId(text: string): number {
  const id = Number(text);
  if (!Number.isSafeInteger(id) || id < 1) throw notFound();
  return id;
}

function RouteError({ error, reset }: ErrorComponentProps) {
  return <FullPageError error={error} onRetry={reset} />;
}

function NotFound() {
  return (
    <Center mih="60vh">
      <Stack align="center" gap="xs">
        <Title order={2}>Page not found</Title>
        <Text c="dimmed">There is nothing at this address.</Text>
        <Button component={Link} to="/" variant="light">
          Go to the start page
        </Button>
      </Stack>
    </Center>
  );
}

const rootRoute = createRootRouteWithContext<RouterContext>()({
  component: Outlet,
  errorComponent: RouteError,
  notFoundComponent: NotFound,
});

const loginRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "login",
  validateSearch: (search: Record<string, unknown>): { next?: string } =>
    typeof search.next === "string" ? { next: search.next } : {},
  component: LoginPage,
});

const indexRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "/",
  beforeLoad: async ({ context, location }) => {
    await requireSignIn(context.queryClient, location);
    const workspaces = await context.queryClient.ensureQueryData(workspacesQuery());
    const last = lastWorkspace();
    const target = workspaces.find((w) => w.id === last) ?? workspaces[0];
    if (target) throw redirect({ to: "/w/$workspaceId", params: { workspaceId: target.id }, replace: true });
  },
  component: NoWorkspace,
});

function NoWorkspace() {
  const navigate = useNavigate();
  return (
    <Center mih="100dvh" p="md">
      <Stack align="center" gap="md">
        <EmptyState title="No workspace yet">
          Your account is not a member of any workspace. Ask a workspace admin for an invitation link, or an
          instance administrator to create a workspace for you.
        </EmptyState>
        <UserMenu onSignedOut={() => void navigate({ to: "/login", search: {} })} />
      </Stack>
    </Center>
  );
}

const workspaceRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "w/$workspaceId",
  params: { parse: ({ workspaceId }) => ({ workspaceId: positiveId(workspaceId) }), stringify: ({ workspaceId }) => ({ workspaceId: String(workspaceId) }) },
  beforeLoad: ({ context, location }) => requireSignIn(context.queryClient, location),
  component: Shell,
});

const entityListRoute = createRoute({
  getParentRoute: () => workspaceRoute,
  path: "/",
  component: EntityListPage,
});

const recordsRoute = createRoute({
  getParentRoute: () => workspaceRoute,
  path: "e/$entityKey",
  validateSearch: validateRecordsSearch,
  // The grid is heavy: it loads with this page, not with the first screen.
  component: lazyRouteComponent(() => import("../features/records/records-page")),
  pendingComponent: () => (
    <Stack gap="md" aria-busy="true" aria-label="Loading">
      <Skeleton height={32} width={240} />
      <Skeleton height={480} />
    </Stack>
  ),
  errorComponent: RouteError,
});

function PagePending() {
  return (
    <Stack gap="md" aria-busy="true" aria-label="Loading">
      <Skeleton height={32} width={240} />
      <Skeleton height={360} />
    </Stack>
  );
}

const importsRoute = createRoute({
  getParentRoute: () => workspaceRoute,
  path: "imports",
  component: lazyRouteComponent(() => import("../features/imports/history/history-page")),
  pendingComponent: PagePending,
  errorComponent: RouteError,
});

const newImportRoute = createRoute({
  getParentRoute: () => workspaceRoute,
  path: "imports/new",
  validateSearch: (search: Record<string, unknown>): { entity?: string } =>
    typeof search.entity === "string" && /^[a-z][a-z0-9_]{0,62}$/.test(search.entity) ? { entity: search.entity } : {},
  component: lazyRouteComponent(() => import("../features/imports/upload/new-import-page")),
  pendingComponent: PagePending,
  errorComponent: RouteError,
});

const importRoute = createRoute({
  getParentRoute: () => workspaceRoute,
  path: "imports/$importId",
  params: { parse: ({ importId }) => ({ importId: positiveId(importId) }), stringify: ({ importId }) => ({ importId: String(importId) }) },
  validateSearch: validateImportSearch,
  component: lazyRouteComponent(() => import("../features/imports/import-page")),
  pendingComponent: PagePending,
  errorComponent: RouteError,
});

const membersRoute = createRoute({
  getParentRoute: () => workspaceRoute,
  path: "members",
  component: lazyRouteComponent(() => import("../features/members/members-page")),
  pendingComponent: PagePending,
  errorComponent: RouteError,
});

// Admins only: the API answers 403 to anyone else, and the page says so.
const auditRoute = createRoute({
  getParentRoute: () => workspaceRoute,
  path: "audit",
  validateSearch: validateAuditSearch,
  component: lazyRouteComponent(() => import("../features/audit/audit-page")),
  pendingComponent: PagePending,
  errorComponent: RouteError,
});

// Opened by whoever holds an invitation link, signed in or not.
const acceptInvitationRoute = createRoute({
  getParentRoute: () => rootRoute,
  path: "invite/$token",
  component: lazyRouteComponent(() => import("../features/members/accept-invitation-page")),
  pendingComponent: () => (
    <Center mih="100dvh">
      <Skeleton height={240} width={400} />
    </Center>
  ),
  errorComponent: RouteError,
});

const routeTree = rootRoute.addChildren([
  loginRoute,
  indexRoute,
  acceptInvitationRoute,
  workspaceRoute.addChildren([entityListRoute, recordsRoute, importsRoute, newImportRoute, importRoute, membersRoute, auditRoute]),
]);

export function createAppRouter(queryClient: QueryClient) {
  const router = createRouter({
    routeTree,
    context: { queryClient },
    defaultPreload: "intent",
    defaultPreloadStaleTime: 0,
    defaultPendingMs: 300,
    scrollRestoration: true,
  });
  // A session that ends mid-use (expired, signed out elsewhere) sends the user to sign in again,
  // then back to where they were. Route loads handle their own 401 in `requireSignIn`.
  setUnauthorizedHandler(() => {
    const { location, status } = router.state;
    if (status === "pending" || location.pathname === "/login" || location.pathname.startsWith("/invite/")) return;
    queryClient.clear();
    void router.navigate({ to: "/login", search: { next: location.href }, replace: true });
  });
  return router;
}

declare module "@tanstack/react-router" {
  interface Register {
    router: ReturnType<typeof createAppRouter>;
  }
}
