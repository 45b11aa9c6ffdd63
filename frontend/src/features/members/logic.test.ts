import { describe, expect, it } from "vitest";
import { ApiError } from "../../api/client";
import type { Member } from "./api";
import { expiresIn, invitationLink, lastAdminReason, linkProblem, roleChangeRefused } from "./logic";

const member = (id: number, role: Member["role"]): Member => ({ user_id: id, email: `u${id}@example.test`, name: "", role, created_at: "2026-01-01T00:00:00Z" });

describe("invitationLink", () => {
  it("joins this server's address and the path the API gave", () => {
    expect(invitationLink("https://loadbay.example", "/invite/abc")).toBe("https://loadbay.example/invite/abc");
    expect(invitationLink("http://127.0.0.1:8000/", "invite/abc")).toBe("http://127.0.0.1:8000/invite/abc");
  });
});

describe("last admin", () => {
  it("keeps the only admin from being demoted or removed", () => {
    const members = [member(1, "admin"), member(2, "editor")];
    expect(lastAdminReason(members, members[0]!)).toMatch(/at least one admin/);
    expect(roleChangeRefused(members, members[0]!, "viewer")).toBe(true);
    expect(roleChangeRefused(members, members[0]!, "admin")).toBe(false);
    expect(lastAdminReason(members, members[1]!)).toBeNull();
  });

  it("lets one of two admins go", () => {
    const members = [member(1, "admin"), member(2, "admin")];
    expect(lastAdminReason(members, members[0]!)).toBeNull();
    expect(roleChangeRefused(members, members[1]!, "editor")).toBe(false);
  });
});

describe("linkProblem", () => {
  it("says why a link no longer works", () => {
    expect(linkProblem(new ApiError(410, { error: "invitation_revoked", detail: "x", fields: [] }))).toMatch(/revoked/);
    expect(linkProblem(new ApiError(410, { error: "invitation_expired", detail: "x", fields: [] }))).toMatch(/expired/);
    expect(linkProblem(new ApiError(410, { error: "invitation_used", detail: "x", fields: [] }))).toMatch(/Sign in instead/);
    expect(linkProblem(new ApiError(404, { error: "invitation_not_found", detail: "x", fields: [] }))).toMatch(/not valid/);
    expect(linkProblem(new ApiError(422, { error: "invalid", detail: "x", fields: [] }))).toMatch(/not valid/);
  });

  it("leaves other errors to the caller", () => {
    expect(linkProblem(new ApiError(401, { error: "invalid_credentials", detail: "Wrong email or password.", fields: [] }))).toBeNull();
    expect(linkProblem(new Error("boom"))).toBeNull();
  });
});

describe("expiresIn", () => {
  const now = Date.parse("2026-12-07T12:00:00Z");
  it("counts minutes, hours, then days", () => {
    expect(expiresIn("2026-12-07T12:30:00Z", now)).toBe("in 30 minutes");
    expect(expiresIn("2026-12-08T12:00:00Z", now)).toBe("in 24 hours");
    expect(expiresIn("2026-12-14T12:00:00Z", now)).toBe("in 7 days");
    expect(expiresIn("2026-12-07T11:00:00Z", now)).toBe("expired");
  });
});
