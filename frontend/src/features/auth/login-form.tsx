import { Alert, Button, PasswordInput, Stack, TextInput } from "@mantine/core";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { api, errorMessage, type Me, unwrap } from "../../api/client";
import { meQuery } from "../../api/queries";

/** Email and password; on success the session cookie is set and `onSignedIn` runs. */
export function LoginForm({ onSignedIn }: { onSignedIn: (me: Me) => void }) {
  const queryClient = useQueryClient();
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const login = useMutation({
    mutationFn: (body: { email: string; password: string }) => unwrap(api.POST("/api/v1/auth/login", { body })),
    onSuccess: (me) => {
      queryClient.clear();
      queryClient.setQueryData(meQuery().queryKey, me);
      onSignedIn(me);
    },
  });

  const submit = (e: FormEvent) => {
    e.preventDefault();
    login.mutate({ email: email.trim(), password });
  };

  return (
    <form onSubmit={submit} noValidate aria-label="Sign in">
      <Stack gap="md">
        {login.isError && (
          <Alert color="red" variant="light" role="alert" title="Could not sign in">
            {errorMessage(login.error)}
          </Alert>
        )}
        <TextInput
          label="Email"
          type="email"
          autoComplete="username"
          required
          autoFocus
          value={email}
          onChange={(e) => setEmail(e.currentTarget.value)}
        />
        <PasswordInput
          label="Password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.currentTarget.value)}
        />
        <Button type="submit" loading={login.isPending} disabled={!email.trim() || !password} fullWidth>
          Sign in
        </Button>
      </Stack>
    </form>
  );
}
