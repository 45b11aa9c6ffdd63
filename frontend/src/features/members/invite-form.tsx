import { Alert, Button, CopyButton, Group, Paper, Select, Stack, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { errorMessage } from "../../api/client";
import { createInvitation, type InvitationCreated, memberKeys, type Role, ROLES } from "./api";
import { invitationLink } from "./logic";

/** Invite an email with a role; the one-time link is shown here once, to copy and send. */
export function InviteForm({ workspaceId }: { workspaceId: number }) {
  const queryClient = useQueryClient();
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Role>("editor");
  const [created, setCreated] = useState<InvitationCreated | null>(null);
  const invite = useMutation({
    mutationFn: () => createInvitation(workspaceId, email.trim(), role),
    onSuccess: (inv) => {
      setCreated(inv);
      setEmail("");
      void queryClient.invalidateQueries({ queryKey: memberKeys.invitations(workspaceId) });
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    invite.mutate();
  };

  return (
    <Paper withBorder radius="md" p="md">
      <Stack gap="sm">
        <Title order={4}>Invite someone</Title>
        <form onSubmit={submit} noValidate aria-label="Invite someone">
          <Group align="flex-end" gap="sm">
            <TextInput
              label="Email"
              type="email"
              required
              w={320}
              value={email}
              onChange={(e) => setEmail(e.currentTarget.value)}
            />
            <Select
              label="Role"
              w={160}
              allowDeselect={false}
              data={ROLES.map((r) => ({ value: r.value, label: r.label }))}
              value={role}
              onChange={(value) => value && setRole(value as Role)}
            />
            <Button type="submit" loading={invite.isPending} disabled={!email.trim()}>
              Invite
            </Button>
          </Group>
        </form>
        {invite.isError && (
          <Alert color="red" variant="light" role="alert" title="Could not invite">
            {errorMessage(invite.error)}
          </Alert>
        )}
        {created && <CreatedLink invitation={created} onDone={() => setCreated(null)} />}
      </Stack>
    </Paper>
  );
}

function CreatedLink({ invitation, onDone }: { invitation: InvitationCreated; onDone: () => void }) {
  const link = invitationLink(window.location.origin, invitation.path);
  return (
    <Alert color="green" variant="light" title={`Invitation for ${invitation.email}`} data-testid="invitation-link">
      <Stack gap="xs">
        <Text size="sm">
          Send this link to them; it is shown only now. They choose their own password, or sign in if they have an account. It works once, until it expires or you
          revoke it.
        </Text>
        <Group gap="xs" wrap="nowrap">
          <TextInput aria-label="Invitation link" readOnly value={link} style={{ flex: 1 }} onFocus={(e) => e.currentTarget.select()} />
          <CopyButton value={link}>
            {({ copied, copy }) => (
              <Button color={copied ? "teal" : "blue"} onClick={copy}>
                {copied ? "Copied" : "Copy link"}
              </Button>
            )}
          </CopyButton>
          <Button variant="default" onClick={onDone}>
            Done
          </Button>
        </Group>
      </Stack>
    </Alert>
  );
}
