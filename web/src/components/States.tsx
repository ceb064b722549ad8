import { Alert, Center, Group, Loader, List, Stack, Text } from "@mantine/core";
import type { ReactNode } from "react";
import { ApiError, asProblem, type Problem } from "../api/client";

/** Loading is the placeholder while data arrives; screen readers hear the label. */
export function Loading({ label }: { label: string }) {
  return (
    <Center py="xl" role="status" aria-live="polite">
      <Group gap="sm">
        <Loader size="sm" />
        <Text c="dimmed">{label}…</Text>
      </Group>
    </Center>
  );
}

/** Empty says there is nothing yet and what to do about it. */
export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <Stack align="center" py="xl" gap="xs">
      <Text fw={600}>{title}</Text>
      {children && <Text c="dimmed" ta="center">{children}</Text>}
    </Stack>
  );
}

export function problemOf(err: unknown): Problem {
  return err instanceof ApiError ? err.problem : asProblem(err);
}

/**
 * ProblemAlert shows an API problem: its detail, and the field errors that no
 * form field on the screen claimed (pass the claimed paths in `shown`).
 */
export function ProblemAlert({ error, shown = [], title }: { error: unknown; shown?: string[]; title?: string }) {
  if (!error) return null;
  const p = problemOf(error);
  const rest = (p.errors ?? []).filter((e) => !shown.includes(e.field));
  return (
    <Alert color="red" title={title ?? p.title} role="alert">
      <Text size="sm">{p.detail}</Text>
      {rest.length > 0 && (
        <List size="sm" mt="xs">
          {rest.map((e) => (
            <List.Item key={e.field + e.code}>
              <code>{e.field}</code>: {e.message}
            </List.Item>
          ))}
        </List>
      )}
    </Alert>
  );
}
