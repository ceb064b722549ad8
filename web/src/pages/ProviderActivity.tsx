import { Badge, Button, Card, Group, SegmentedControl, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { AreaChart, BarChart, LineChart } from "@mantine/charts";
import "@mantine/charts/styles.css";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { unwrap, type Provider, type Schemas } from "../api/client";
import { useApi } from "../session";
import { useFallbackPolling } from "../live";
import { Empty, Loading, ProblemAlert } from "../components/States";
import { StatusBadge } from "../components/Badges";
import { ago, count, ms, percent, usd } from "../components/usage";

const time = (at: string) => new Date(at).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
const stamp = (at: string) => new Date(at).toLocaleString();

/**
 * HealthSection shows a provider's health: its status history with the reason
 * of each change, and its recent checks as a latency chart. Admins can run a
 * check at once.
 */
export function HealthSection({ p, admin }: { p: Provider; admin: boolean }) {
  const api = useApi();
  const qc = useQueryClient();
  const health = useQuery({
    queryKey: ["provider-health", p.id],
    queryFn: async () => unwrap(await api.GET("/providers/{id}/health", { params: { path: { id: p.id }, query: { limit: 50 } } })),
    refetchInterval: useFallbackPolling(),
  });
  const check = useMutation({
    mutationFn: async () => unwrap(await api.POST("/providers/{id}/health/check", { params: { path: { id: p.id } } })),
    onSettled: () => {
      qc.invalidateQueries({ queryKey: ["provider-health", p.id] });
      qc.invalidateQueries({ queryKey: ["health"] });
    },
  });
  const h = health.data;
  // Oldest first for the chart.
  const checks = [...(h?.checks.items ?? [])].reverse();
  const failed = checks.filter((c) => !c.ok).length;
  return (
    <Card withBorder component="section" aria-labelledby="health-title">
      <Stack>
        <Group justify="space-between">
          <Group>
            <Title order={3} size="h4" id="health-title">Health</Title>
            {h && <StatusBadge status={p.enabled ? h.status : "disabled"} />}
          </Group>
          {admin && p.enabled && (
            <Button variant="default" onClick={() => check.mutate()} loading={check.isPending}>
              Check health now
            </Button>
          )}
        </Group>
        <ProblemAlert error={check.error} title="The check could not run" />
        {check.data && (
          <Text size="sm" role="status" c={check.data.ok ? "green" : "red"} data-testid="health-check-result">
            {check.data.ok ? `The provider answered in ${check.data.latency_ms} ms` : `The check failed: ${check.data.code ?? "error"}`}
          </Text>
        )}
        {health.isPending ? (
          <Loading label="Loading the health history" />
        ) : health.isError ? (
          <ProblemAlert error={health.error} title="Could not load the health history" />
        ) : (
          <SimpleGrid cols={{ base: 1, md: 2 }}>
            <Stack gap="xs">
              <Text fw={500} size="sm">
                Recent checks{checks.length > 0 && ` (${checks.length}, ${failed} failed)`}
              </Text>
              {checks.length === 0 ? (
                <Empty title="No checks yet">{p.enabled ? "The first one comes shortly after the provider is enabled." : "Disabled providers are not checked."}</Empty>
              ) : (
                <LineChart
                  h={180}
                  data={checks.map((c) => ({ at: new Date(c.at).toLocaleTimeString(), latency: c.latency_ms, failed: c.ok ? null : c.latency_ms }))}
                  dataKey="at"
                  series={[
                    { name: "latency", label: "Latency (ms)", color: "indigo.6" },
                    { name: "failed", label: "Failed check", color: "red.6" },
                  ]}
                  withDots
                  connectNulls={false}
                  unit=" ms"
                  aria-label="Health check latency"
                />
              )}
            </Stack>
            <Stack gap="xs">
              <Text fw={500} size="sm">Status history</Text>
              {h!.changes.items.length === 0 ? (
                <Empty title="No status change yet" />
              ) : (
                <Table aria-label="Status history" verticalSpacing={4}>
                  <Table.Thead>
                    <Table.Tr>
                      <Table.Th>When</Table.Th>
                      <Table.Th>Change</Table.Th>
                      <Table.Th>Reason</Table.Th>
                    </Table.Tr>
                  </Table.Thead>
                  <Table.Tbody>
                    {h!.changes.items.map((c) => (
                      <Table.Tr key={c.id}>
                        <Table.Td title={stamp(c.at)}>
                          <Text size="sm">{ago(c.at)}</Text>
                        </Table.Td>
                        <Table.Td>
                          <Group gap={4} wrap="nowrap">
                            <StatusBadge status={c.from} />→<StatusBadge status={c.to} />
                          </Group>
                        </Table.Td>
                        <Table.Td>
                          <Text size="sm">{c.reason}</Text>
                        </Table.Td>
                      </Table.Tr>
                    ))}
                  </Table.Tbody>
                </Table>
              )}
            </Stack>
          </SimpleGrid>
        )}
      </Stack>
    </Card>
  );
}

const ranges = { "24h": { hours: 24, resolution: "hour" }, "7d": { hours: 24 * 7, resolution: "hour" }, "30d": { hours: 24 * 30, resolution: "day" } } as const;
type Range = keyof typeof ranges;

/** bucketLabel names a bucket for a chart axis at its resolution. */
export function bucketLabel(at: string, resolution: string): string {
  const d = new Date(at);
  if (resolution === "day") return d.toLocaleDateString([], { month: "short", day: "numeric" });
  if (resolution === "hour") return d.toLocaleString([], { month: "short", day: "numeric", hour: "2-digit" });
  return time(at);
}

/** UsageSection charts a provider's requests, errors, latency and cost. */
export function UsageSection({ p }: { p: Provider }) {
  const api = useApi();
  const [range, setRange] = useState<Range>("24h");
  const usage = useQuery({
    queryKey: ["usage", "provider", p.id, range],
    queryFn: async () => {
      const r = ranges[range];
      const from = new Date(Date.now() - r.hours * 3600_000).toISOString();
      return unwrap(await api.GET("/analytics/usage", { params: { query: { provider_id: p.id, from, resolution: r.resolution } } }));
    },
    refetchInterval: 60_000,
  });
  const s = usage.data?.series[0];
  const data = (s?.points ?? []).map((pt) => ({
    at: bucketLabel(pt.at, usage.data!.resolution),
    requests: pt.requests - pt.errors,
    errors: pt.errors,
    p50: Math.round(pt.latency_p50_ms),
    p95: Math.round(pt.latency_p95_ms),
    cost: pt.cost_usd,
  }));
  return (
    <Card withBorder component="section" aria-labelledby="usage-title">
      <Stack>
        <Group justify="space-between">
          <Title order={3} size="h4" id="usage-title">Usage and cost</Title>
          <SegmentedControl
            aria-label="Time range"
            size="xs"
            value={range}
            onChange={(v) => setRange(v as Range)}
            data={[
              { value: "24h", label: "24 hours" },
              { value: "7d", label: "7 days" },
              { value: "30d", label: "30 days" },
            ]}
          />
        </Group>
        {usage.isPending ? (
          <Loading label="Loading the usage" />
        ) : usage.isError ? (
          <ProblemAlert error={usage.error} title="Could not load the usage" />
        ) : !s || s.total.requests === 0 ? (
          <Empty title="No requests in this range">Calls through the gateway show here within a minute.</Empty>
        ) : (
          <>
            <Group gap="xl" aria-label="Totals">
              <Total label="Requests" value={count(s.total.requests)} />
              <Total label="Error rate" value={percent(s.total.error_rate)} />
              <Total label="p95 latency" value={ms(s.total.latency_p95_ms)} />
              <Total label="Tokens in / out" value={`${count(s.total.input_tokens)} / ${count(s.total.output_tokens)}`} />
              <Total label="Cost" value={usd(s.total.cost_usd)} />
            </Group>
            <SimpleGrid cols={{ base: 1, md: 3 }}>
              <ChartBox title="Requests">
                <BarChart h={160} data={data} dataKey="at" type="stacked" series={[{ name: "requests", label: "Succeeded", color: "indigo.6" }, { name: "errors", label: "Failed", color: "red.6" }]} aria-label="Requests over time" />
              </ChartBox>
              <ChartBox title="Latency">
                <LineChart h={160} data={data} dataKey="at" unit=" ms" series={[{ name: "p50", label: "p50", color: "teal.6" }, { name: "p95", label: "p95", color: "orange.6" }]} aria-label="Latency over time" />
              </ChartBox>
              <ChartBox title="Cost (USD)">
                <AreaChart h={160} data={data} dataKey="at" series={[{ name: "cost", label: "Cost", color: "green.6" }]} valueFormatter={(v) => usd(v)} aria-label="Cost over time" />
              </ChartBox>
            </SimpleGrid>
          </>
        )}
      </Stack>
    </Card>
  );
}

function Total({ label, value }: { label: string; value: string }) {
  return (
    <Stack gap={0}>
      <Text size="xs" c="dimmed">{label}</Text>
      <Text fw={600}>{value}</Text>
    </Stack>
  );
}

function ChartBox({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <Stack gap={4}>
      <Text size="sm" fw={500}>{title}</Text>
      {children}
    </Stack>
  );
}

/** changedFields names the top-level fields an audit entry changed. */
export function changedFields(e: Schemas["AuditEntry"]): string[] {
  const before = e.before ?? {};
  const after = e.after ?? {};
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  const skip = new Set(["version", "updated_at", "created_at"]);
  return [...keys].filter((k) => !skip.has(k) && JSON.stringify(before[k]) !== JSON.stringify(after[k])).sort();
}

/** AuditSection is the provider's audit trail (admins). */
export function AuditSection({ p }: { p: Provider }) {
  const api = useApi();
  const audit = useQuery({
    queryKey: ["audit", p.id],
    queryFn: async () => unwrap(await api.GET("/audit", { params: { query: { resource_id: p.id, limit: 20 } } })),
  });
  return (
    <Card withBorder component="section" aria-labelledby="audit-title">
      <Stack>
        <Title order={3} size="h4" id="audit-title">Audit trail</Title>
        {audit.isPending ? (
          <Loading label="Loading the audit trail" />
        ) : audit.isError ? (
          <ProblemAlert error={audit.error} title="Could not load the audit trail" />
        ) : audit.data.items.length === 0 ? (
          <Empty title="No changes recorded" />
        ) : (
          <Table aria-label="Audit trail" verticalSpacing={4}>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>When</Table.Th>
                <Table.Th>Who</Table.Th>
                <Table.Th>Action</Table.Th>
                <Table.Th>Fields</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {audit.data.items.map((e) => {
                const fields = changedFields(e);
                return (
                  <Table.Tr key={e.id}>
                    <Table.Td title={stamp(e.at)}>
                      <Text size="sm">{ago(e.at)}</Text>
                    </Table.Td>
                    <Table.Td>{e.actor_name || e.actor_id}</Table.Td>
                    <Table.Td>
                      <Badge variant="light" miw="max-content">{e.action}</Badge>
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{fields.length ? fields.join(", ") : "—"}</Text>
                    </Table.Td>
                  </Table.Tr>
                );
              })}
            </Table.Tbody>
          </Table>
        )}
      </Stack>
    </Card>
  );
}
