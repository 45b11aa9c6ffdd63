import { Skeleton, Stack, Text, Title } from "@mantine/core";
import { useQuery } from "@tanstack/react-query";
import { getRouteApi } from "@tanstack/react-router";
import { meQuery, workspacesQuery } from "../../api/queries";
import { ErrorState } from "../../components/error-state";
import { invitationsQuery, membersQuery } from "./api";
import { InviteForm } from "./invite-form";
import { MembersTable } from "./members-table";
import { PendingInvitations } from "./pending-invitations";

const route = getRouteApi("/w/$workspaceId/members");

/** Members of the workspace; admins also invite, change roles, remove, and revoke invitations. */
export default function MembersPage() {
  const { workspaceId } = route.useParams();
  const workspaces = useQuery(workspacesQuery());
  const me = useQuery(meQuery());
  const isAdmin = workspaces.data?.find((w) => w.id === workspaceId)?.role === "admin";
  const members = useQuery(membersQuery(workspaceId));
  const invitations = useQuery({ ...invitationsQuery(workspaceId), enabled: isAdmin });

  return (
    <Stack gap="lg">
      <div>
        <Title order={2}>Members</Title>
        <Text size="sm" c="dimmed">
          {isAdmin ? "People in this workspace and their roles. New people join by an invitation link." : "People in this workspace and their roles."}
        </Text>
      </div>
      {isAdmin && <InviteForm workspaceId={workspaceId} />}
      {members.isPending ? (
        <Skeleton height={160} aria-label="Loading" />
      ) : members.isError ? (
        <ErrorState title="Could not load the members" error={members.error} onRetry={() => void members.refetch()} retrying={members.isFetching} />
      ) : (
        <MembersTable workspaceId={workspaceId} members={members.data} canManage={isAdmin} myUserId={me.data?.user?.id} />
      )}
      {isAdmin &&
        (invitations.isPending ? (
          <Skeleton height={80} aria-label="Loading" />
        ) : invitations.isError ? (
          <ErrorState title="Could not load the invitations" error={invitations.error} onRetry={() => void invitations.refetch()} />
        ) : (
          <PendingInvitations workspaceId={workspaceId} invitations={invitations.data} />
        ))}
    </Stack>
  );
}
