import { queryOptions } from "@tanstack/react-query";
import { api, type Schemas, unwrap } from "../../api/client";

export type Member = Schemas["MemberRead"];
export type Invitation = Schemas["InvitationRead"];
export type InvitationCreated = Schemas["InvitationCreated"];
export type InvitationPreview = Schemas["InvitationPreview"];
export type Role = Member["role"];

export const ROLES: { value: Role; label: string; description: string }[] = [
  { value: "viewer", label: "Viewer", description: "Reads records and imports" },
  { value: "editor", label: "Editor", description: "Imports files and edits records" },
  { value: "admin", label: "Admin", description: "Also the schema, members and API keys" },
];

export const memberKeys = {
  // The same key as `membersQuery` in api/queries.ts.
  members: (workspaceId: number) => ["workspaces", workspaceId, "members"] as const,
  invitations: (workspaceId: number) => ["workspaces", workspaceId, "invitations"] as const,
  preview: (token: string) => ["invitations", token] as const,
};

const ws = (workspaceId: number) => ({ path: { workspace_id: workspaceId } });

// Shared with the audit trail's actor picker, so it lives with the app's shared queries.
export { membersQuery } from "../../api/queries";

export const invitationsQuery = (workspaceId: number) =>
  queryOptions({
    queryKey: memberKeys.invitations(workspaceId),
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/workspaces/{workspace_id}/invitations", { params: ws(workspaceId), signal })),
  });

export const invitationPreviewQuery = (token: string) =>
  queryOptions({
    queryKey: memberKeys.preview(token),
    queryFn: ({ signal }) => unwrap(api.GET("/api/v1/invitations/{token}", { params: { path: { token } }, signal })),
    retry: false,
    staleTime: Infinity,
  });

export const changeRole = (workspaceId: number, userId: number, role: Role) =>
  unwrap(
    api.PATCH("/api/v1/workspaces/{workspace_id}/members/{user_id}", {
      params: { path: { workspace_id: workspaceId, user_id: userId } },
      body: { role },
    }),
  );

export const removeMember = (workspaceId: number, userId: number) =>
  unwrap(api.DELETE("/api/v1/workspaces/{workspace_id}/members/{user_id}", { params: { path: { workspace_id: workspaceId, user_id: userId } } }));

export const createInvitation = (workspaceId: number, email: string, role: Role) =>
  unwrap(api.POST("/api/v1/workspaces/{workspace_id}/invitations", { params: ws(workspaceId), body: { email, role } }));

export const revokeInvitation = (workspaceId: number, invitationId: number) =>
  unwrap(
    api.DELETE("/api/v1/workspaces/{workspace_id}/invitations/{invitation_id}", {
      params: { path: { workspace_id: workspaceId, invitation_id: invitationId } },
    }),
  );

export const registerWithInvitation = (token: string, name: string, password: string) =>
  unwrap(api.POST("/api/v1/invitations/{token}/register", { params: { path: { token } }, body: { name, password } }));

export const acceptInvitation = (token: string, password?: string) =>
  unwrap(api.POST("/api/v1/invitations/{token}/accept", { params: { path: { token } }, body: password === undefined ? {} : { password } }));
