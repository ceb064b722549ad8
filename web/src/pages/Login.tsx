import { useState } from "react";
import { Button, Center, Group, Paper, PasswordInput, Stack, Text, TextInput, Title } from "@mantine/core";
import { Navigate, useNavigate, useSearchParams } from "react-router";
import { fieldErrors } from "../api/client";
import { useSession } from "../session";
import { ProblemAlert, problemOf } from "../components/States";
import { ThemeToggle } from "../components/Shell";

/** LoginPage starts a cookie session with a username and password. */
export function LoginPage() {
  const { user, login } = useSession();
  const [params] = useSearchParams();
  const navigate = useNavigate();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [missing, setMissing] = useState<Record<string, string>>({});
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const next = safeNext(params.get("next"));

  if (user) return <Navigate to={next} replace />;

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    const m: Record<string, string> = {};
    if (!username.trim()) m.username = "Enter your username";
    if (!password) m.password = "Enter your password";
    setMissing(m);
    if (Object.keys(m).length) return;
    setBusy(true);
    setError(null);
    try {
      await login(username.trim(), password);
      navigate(next, { replace: true });
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  const fe = error ? fieldErrors(problemOf(error)) : {};

  return (
    <Center mih="100vh" p="md">
      <Paper withBorder shadow="sm" p="xl" w={380} component="main">
        <form onSubmit={submit} noValidate aria-labelledby="login-title">
          <Stack>
            <Group justify="space-between">
              <Title order={1} size="h3" id="login-title">Log in to Switchyard</Title>
              <ThemeToggle />
            </Group>
            <TextInput
              label="Username"
              autoComplete="username"
              value={username}
              onChange={(e) => setUsername(e.currentTarget.value)}
              error={missing.username ?? fe.username}
              required
              data-autofocus
              autoFocus
            />
            <PasswordInput
              label="Password"
              autoComplete="current-password"
              value={password}
              onChange={(e) => setPassword(e.currentTarget.value)}
              error={missing.password ?? fe.password}
              required
            />
            <ProblemAlert error={error} shown={["username", "password"]} title="Could not log in" />
            <Button type="submit" loading={busy}>Log in</Button>
            <Text size="xs" c="dimmed">
              The first admin's password is printed once when Switchyard starts on an empty database.
            </Text>
          </Stack>
        </form>
      </Paper>
    </Center>
  );
}

/** safeNext keeps redirects after login inside the dashboard. */
export function safeNext(next: string | null): string {
  if (!next || !next.startsWith("/") || next.startsWith("//") || next.startsWith("/\\")) return "/providers";
  return next;
}
