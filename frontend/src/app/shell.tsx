import { ActionIcon, AppShell, Burger, Button, Group, ScrollArea, Stack, Text, Tooltip, useComputedColorScheme, useMantineColorScheme } from "@mantine/core";
import { useDisclosure } from "@mantine/hooks";
import { Outlet, getRouteApi, useNavigate } from "@tanstack/react-router";
import { useQuery } from "@tanstack/react-query";
import { workspacesQuery } from "../api/queries";
import { EmptyState } from "../components/empty-state";
import { AnchorLink, NavLinkLink } from "../components/links";
import { useEffect } from "react";
import { UserMenu } from "../features/auth/user-menu";
import { EntityNav } from "../features/entities/entity-nav";
import { WorkspaceSwitcher } from "../features/workspaces/workspace-switcher";
import { rememberWorkspace } from "./last-workspace";

const route = getRouteApi("/w/$workspaceId");

/** Header (product, workspace, account), the entity navbar, and the page. */
export function Shell() {
  const { workspaceId } = route.useParams();
  const navigate = useNavigate();
  const [navOpened, nav] = useDisclosure(false);

  const workspaces = useQuery(workspacesQuery());
  const unknown = workspaces.isSuccess && !workspaces.data.some((w) => w.id === workspaceId);
  const isAdmin = workspaces.data?.find((w) => w.id === workspaceId)?.role === "admin";

  useEffect(() => {
    if (workspaces.isSuccess && !unknown) rememberWorkspace(workspaceId);
  }, [workspaceId, workspaces.isSuccess, unknown]);

  return (
    <AppShell
      header={{ height: 56 }}
      navbar={{ width: 260, breakpoint: "sm", collapsed: { mobile: !navOpened } }}
      padding="md"
    >
      <AppShell.Header>
        <Group h="100%" px="md" justify="space-between" wrap="nowrap">
          <Group gap="md" wrap="nowrap">
            <Burger opened={navOpened} onClick={nav.toggle} hiddenFrom="sm" size="sm" aria-label="Toggle navigation" />
            <AnchorLink to="/w/$workspaceId" params={{ workspaceId }} fw={700} size="lg" c="var(--mantine-color-text)" underline="never">
              Loadbay
            </AnchorLink>
            <WorkspaceSwitcher
              currentId={workspaceId}
              onSwitch={(id) => void navigate({ to: "/w/$workspaceId", params: { workspaceId: id } })}
            />
          </Group>
          <Group gap="sm" wrap="nowrap">
            <ColorSchemeToggle />
            <UserMenu onSignedOut={() => void navigate({ to: "/login", search: {} })} />
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs">
        <AppShell.Section>
          <Stack gap={2} component="nav" aria-label="Imports" mb="sm">
            <NavLinkLink to="/w/$workspaceId/imports/new" params={{ workspaceId }} label="New import" onClick={nav.close} fw={600} />
            <NavLinkLink to="/w/$workspaceId/imports" params={{ workspaceId }} activeOptions={{ exact: true }} label="Import history" onClick={nav.close} />
          </Stack>
        </AppShell.Section>
        <AppShell.Section grow component={ScrollArea}>
          <Text size="xs" fw={600} c="dimmed" tt="uppercase" px="xs" py={6}>
            Entities
          </Text>
          {!unknown && <EntityNav workspaceId={workspaceId} onNavigate={nav.close} />}
        </AppShell.Section>
        {isAdmin && (
          <AppShell.Section>
            <Stack gap={2} component="nav" aria-label="Workspace" mt="sm">
              <NavLinkLink to="/w/$workspaceId/members" params={{ workspaceId }} label="Members" onClick={nav.close} />
              <NavLinkLink to="/w/$workspaceId/audit" params={{ workspaceId }} search={{}} label="Audit" onClick={nav.close} />
            </Stack>
          </AppShell.Section>
        )}
      </AppShell.Navbar>
      <AppShell.Main>
        {unknown ? (
          <EmptyState
            title="No such workspace"
            action={
              <Button variant="light" onClick={() => void navigate({ to: "/" })}>
                Open my workspace
              </Button>
            }
          >
            Workspace {workspaceId} does not exist, or your account is not a member of it.
          </EmptyState>
        ) : (
          <Outlet />
        )}
      </AppShell.Main>
    </AppShell>
  );
}

function ColorSchemeToggle() {
  const { setColorScheme } = useMantineColorScheme();
  const computed = useComputedColorScheme("light");
  const next = computed === "dark" ? "light" : "dark";
  return (
    <Tooltip label={`Switch to ${next} mode`}>
      <ActionIcon variant="subtle" color="gray" size="lg" aria-label={`Switch to ${next} mode`} onClick={() => setColorScheme(next)}>
        <Text component="span" size="lg" aria-hidden>
          {computed === "dark" ? "☀" : "☾"}
        </Text>
      </ActionIcon>
    </Tooltip>
  );
}
