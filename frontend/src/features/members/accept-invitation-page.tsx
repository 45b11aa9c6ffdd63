import { Alert, Button, Center, Paper, PasswordInput, SegmentedControl, Skeleton, Stack, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { getRouteApi, useNavigate } from "@tanstack/react-router";
import { type FormEvent, useState } from "react";
import { errorMessage, type Me } from "../../api/client";
import { meQuery } from "../../api/queries";
import { ErrorState } from "../../components/error-state";
import { acceptInvitation, invitationPreviewQuery, type InvitationPreview, registerWithInvitation, ROLES } from "./api";
import { linkProblem } from "./logic";

const route = getRouteApi("/invite/$token");

/** The page an invitation link opens: create the account (name, password) or sign in to accept. */
export default function AcceptInvitationPage() {
  const { token } = route.useParams();
  const preview = useQuery(invitationPreviewQuery(token));
  const queryClient = useQueryClient();
  const navigate = useNavigate();
  const joined = (me: Me, workspaceId: number) => {
    queryClient.clear();
    queryClient.setQueryData(meQuery().queryKey, me);
    void navigate({ to: "/w/$workspaceId", params: { workspaceId }, replace: true });
  };

  return (
    <Center mih="100dvh" p="md">
      <Stack w="100%" maw={440} gap="lg">
        <Title order={1} size="h2" ta="center">
          Loadbay
        </Title>
        <Paper withBorder shadow="sm" radius="md" p="xl">
          {preview.isPending ? (
            <Skeleton height={200} aria-label="Loading" />
          ) : preview.isError ? (
            linkProblem(preview.error) ? (
              <Alert color="orange" variant="light" role="alert" title="This link does not work">
                {linkProblem(preview.error)}
              </Alert>
            ) : (
              <ErrorState title="Could not open the invitation" error={preview.error} onRetry={() => void preview.refetch()} />
            )
          ) : (
            <Accept token={token} invitation={preview.data} onJoined={(me) => joined(me, preview.data.workspace_id)} />
          )}
        </Paper>
      </Stack>
    </Center>
  );
}

type Mode = "new" | "existing";

function Accept({ token, invitation, onJoined }: { token: string; invitation: InvitationPreview; onJoined: (me: Me) => void }) {
  const signedInAsInvitee = invitation.signed_in_as === invitation.email;
  const [mode, setMode] = useState<Mode>("new");
  const [name, setName] = useState("");
  const [password, setPassword] = useState("");
  const [confirm, setConfirm] = useState("");
  const action = useMutation({
    mutationFn: (how: "register" | "password" | "session") =>
      how === "register" ? registerWithInvitation(token, name.trim(), password) : acceptInvitation(token, how === "password" ? password : undefined),
    onSuccess: onJoined,
  });
  const role = ROLES.find((r) => r.value === invitation.role);
  const mismatch = mode === "new" && confirm !== "" && confirm !== password;
  const submit = (e: FormEvent) => {
    e.preventDefault();
    action.mutate(mode === "new" ? "register" : "password");
  };

  return (
    <Stack gap="md">
      <Stack gap={4}>
        <Title order={2} size="h3">
          Join {invitation.workspace_name}
        </Title>
        <Text size="sm" c="dimmed">
          <b>{invitation.email}</b> is invited{invitation.invited_by ? ` by ${invitation.invited_by}` : ""} to join as {role?.label.toLowerCase() ?? invitation.role}:{" "}
          {role?.description.toLowerCase()}.
        </Text>
      </Stack>
      {action.isError && (
        <Alert color="red" variant="light" role="alert" title="Could not accept">
          {linkProblem(action.error) ?? errorMessage(action.error)}
        </Alert>
      )}
      {signedInAsInvitee ? (
        <Button onClick={() => action.mutate("session")} loading={action.isPending} fullWidth>
          Accept as {invitation.email}
        </Button>
      ) : (
        <form onSubmit={submit} noValidate aria-label={mode === "new" ? "Create your account" : "Sign in to accept"}>
          <Stack gap="md">
            <SegmentedControl
              fullWidth
              value={mode}
              onChange={(v) => {
                setMode(v as Mode);
                action.reset();
              }}
              data={[
                { value: "new", label: "I am new here" },
                { value: "existing", label: "I have an account" },
              ]}
            />
            <TextInput label="Email" value={invitation.email} readOnly autoComplete="username" />
            {mode === "new" ? (
              <>
                <TextInput label="Your name" required value={name} onChange={(e) => setName(e.currentTarget.value)} autoComplete="name" />
                <PasswordInput
                  label="Choose a password"
                  description="At least 8 characters."
                  required
                  autoComplete="new-password"
                  value={password}
                  onChange={(e) => setPassword(e.currentTarget.value)}
                />
                <PasswordInput
                  label="Repeat the password"
                  required
                  autoComplete="new-password"
                  value={confirm}
                  error={mismatch ? "The two passwords differ." : undefined}
                  onChange={(e) => setConfirm(e.currentTarget.value)}
                />
              </>
            ) : (
              <PasswordInput
                label="Password"
                description="The password of your existing account."
                required
                autoComplete="current-password"
                value={password}
                onChange={(e) => setPassword(e.currentTarget.value)}
              />
            )}
            <Button
              type="submit"
              loading={action.isPending}
              fullWidth
              disabled={mode === "new" ? !name.trim() || password.length < 8 || confirm !== password : !password}
            >
              {mode === "new" ? "Create account and join" : "Sign in and join"}
            </Button>
          </Stack>
        </form>
      )}
    </Stack>
  );
}
