import { ApiError } from "../../api/client";
import type { Member, Role } from "./api";

/** The link to hand to the invitee: this server's address and the path the API gave. */
export function invitationLink(origin: string, path: string): string {
  return `${origin.replace(/\/+$/, "")}${path.startsWith("/") ? path : `/${path}`}`;
}

/** Why this member's role cannot go below admin, or they cannot be removed: the workspace keeps one admin. */
export function lastAdminReason(members: Member[], member: Member): string | null {
  if (member.role !== "admin") return null;
  const admins = members.filter((m) => m.role === "admin").length;
  return admins <= 1 ? "A workspace keeps at least one admin: make someone else admin first." : null;
}

/** Whether a role change would be refused for keeping the last admin. */
export function roleChangeRefused(members: Member[], member: Member, role: Role): boolean {
  return role !== "admin" && lastAdminReason(members, member) !== null;
}

const LINK_PROBLEMS: Record<string, string> = {
  invitation_not_found: "This invitation link is not valid. Check that it was copied whole, or ask for a new one.",
  invitation_revoked: "This invitation was revoked. Ask the workspace admin for a new one.",
  invitation_expired: "This invitation has expired. Ask the workspace admin for a new one.",
  invitation_used: "This invitation was accepted already. Sign in instead.",
};

/** A link that no longer works, in words; null for other errors. */
export function linkProblem(err: unknown): string | null {
  if (err instanceof ApiError && (err.status === 404 || err.status === 410 || err.status === 422)) {
    return LINK_PROBLEMS[err.code] ?? LINK_PROBLEMS.invitation_not_found!;
  }
  return null;
}

/** Days, hours or minutes until a time, for "expires in …". */
export function expiresIn(iso: string, now: number = Date.now()): string {
  const ms = new Date(iso).getTime() - now;
  if (ms <= 0) return "expired";
  const minutes = Math.round(ms / 60_000);
  if (minutes < 60) return `in ${Math.max(minutes, 1)} minute${minutes === 1 ? "" : "s"}`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `in ${hours} hour${hours === 1 ? "" : "s"}`;
  const days = Math.round(hours / 24);
  return `in ${days} days`;
}
