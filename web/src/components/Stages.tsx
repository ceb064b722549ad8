import { Badge, Group, List, Stack, Text, ThemeIcon } from "@mantine/core";
import type { ProviderTest } from "../api/client";

const icon = { ok: "✓", failed: "✗", skipped: "–" } as const;
const color = { ok: "green", failed: "red", skipped: "gray" } as const;
const names: Record<string, string> = {
  dns: "DNS lookup",
  tcp: "TCP connection",
  tls: "TLS handshake",
  auth: "Authentication",
  endpoint: "API endpoint",
  models: "Model list",
};

/** Stages shows each stage of a connectivity test with its outcome and hint. */
export function Stages({ result }: { result: ProviderTest }) {
  return (
    <Stack gap="xs" aria-live="polite" data-testid="connectivity-result">
      <Group>
        <Badge color={result.ok ? "green" : "red"} size="lg" variant="filled">
          {result.ok ? "Connection works" : `Failed: ${result.code ?? "error"}`}
        </Badge>
        {result.ok && <Text size="sm">{result.models} model{result.models === 1 ? "" : "s"} listed by the provider</Text>}
      </Group>
      <List spacing="xs" listStyleType="none" aria-label="Test stages">
        {result.stages.map((s) => (
          <List.Item
            key={s.name}
            data-stage={s.name}
            data-status={s.status}
            icon={
              <ThemeIcon color={color[s.status]} size={22} radius="xl" aria-hidden>
                {icon[s.status]}
              </ThemeIcon>
            }
          >
            <Text size="sm" fw={500}>
              {names[s.name] ?? s.name}: {s.status}
              {s.status !== "skipped" && <Text span c="dimmed" size="xs"> · {s.duration_ms} ms</Text>}
            </Text>
            {s.message && <Text size="sm" c={s.status === "failed" ? "red" : "dimmed"}>{s.message}</Text>}
            {s.hint && <Text size="sm">Hint: {s.hint}</Text>}
          </List.Item>
        ))}
      </List>
    </Stack>
  );
}
