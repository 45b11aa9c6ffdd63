import { Alert, Button, Group, Modal, Paper, Stack, Table, Text, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { errorMessage } from "../../api/client";
import { type Invitation, memberKeys, revokeInvitation, ROLES } from "./api";
import { expiresIn } from "./logic";

/** Invitations not accepted yet, and revoking one (its link stops working). */
export function PendingInvitations({ workspaceId, invitations }: { workspaceId: number; invitations: Invitation[] }) {
  const queryClient = useQueryClient();
  const [revoking, setRevoking] = useState<Invitation | null>(null);
  const revoke = useMutation({
    mutationFn: (inv: Invitation) => revokeInvitation(workspaceId, inv.id),
    onSuccess: (_, inv) => {
      notifications.show({ message: `The invitation for ${inv.email} was revoked.` });
      setRevoking(null);
      void queryClient.invalidateQueries({ queryKey: memberKeys.invitations(workspaceId) });
    },
  });

  return (
    <Stack gap="xs">
      <Title order={4}>Pending invitations</Title>
      {invitations.length === 0 ? (
        <Text size="sm" c="dimmed">
          None: every invitation was accepted, revoked or has expired.
        </Text>
      ) : (
        <Paper withBorder radius="md">
          <Table verticalSpacing="xs" data-testid="invitations">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Email</Table.Th>
                <Table.Th>Role</Table.Th>
                <Table.Th>Invited by</Table.Th>
                <Table.Th>Expires</Table.Th>
                <Table.Th aria-label="Actions" />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {invitations.map((inv) => (
                <Table.Tr key={inv.id} data-testid={`invitation-${inv.email}`}>
                  <Table.Td>{inv.email}</Table.Td>
                  <Table.Td>{ROLES.find((r) => r.value === inv.role)?.label ?? inv.role}</Table.Td>
                  <Table.Td>{inv.invited_by ?? "–"}</Table.Td>
                  <Table.Td>
                    <Text size="sm" component="time" dateTime={inv.expires_at}>
                      {expiresIn(inv.expires_at)}
                    </Text>
                  </Table.Td>
                  <Table.Td ta="right">
                    <Button size="compact-xs" variant="light" color="red" onClick={() => setRevoking(inv)}>
                      Revoke
                    </Button>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Paper>
      )}
      <Modal opened={revoking !== null} onClose={() => setRevoking(null)} title={`Revoke the invitation for ${revoking?.email ?? ""}?`}>
        <Stack gap="md">
          <Text size="sm">Its link stops working at once. You can invite them again later.</Text>
          {revoke.isError && (
            <Alert color="red" variant="light" role="alert">
              {errorMessage(revoke.error)}
            </Alert>
          )}
          <Group justify="flex-end">
            <Button variant="default" onClick={() => setRevoking(null)}>
              Keep
            </Button>
            <Button color="red" loading={revoke.isPending} onClick={() => revoking && revoke.mutate(revoking)}>
              Revoke
            </Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}
