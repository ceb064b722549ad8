import { useMemo, useState } from "react";
import { Alert, Anchor, Badge, Card, Group, SegmentedControl, Select, SimpleGrid, Stack, Table, Text, Title } from "@mantine/core";
import { BarChart, LineChart } from "@mantine/charts";
import "@mantine/charts/styles.css";
import { useQuery } from "@tanstack/react-query";
import { Link } from "react-router";
import { unwrap, type Schemas } from "../api/client";
import { useApi, useSession } from "../session";
import { Empty, Loading, ProblemAlert } from "../components/States";
import { count, ms, percent, usd } from "../components/usage";
import { bucketLabel } from "./ProviderActivity";
import { evidenceLabel, evidenceValue, pivot, seriesLabel, topSeries, type Point } from "./analytics";

const ranges = {
  "1h": { label: "1 hour", hours: 1 },
  "24h": { label: "24 hours", hours: 24 },
  "7d": { label: "7 days", hours: 24 * 7 },
  "30d": { label: "30 days", hours: 24 * 30 },
  "90d": { label: "90 days", hours: 24 * 90 },
} as const;
type Range = keyof typeof ranges;
type GroupBy = "provider" | "model" | "connection" | "user";
type Resolution = "minute" | "hour" | "day";

const colors = ["indigo.6", "teal.6", "orange.6", "grape.6", "cyan.6", "pink.6"];

const charts: { key: string; title: string; unit?: string; value(p: Point): number; format(v: number): string; kind?: "bar" }[] = [
  { key: "requests", title: "Requests", value: (p) => p.requests, format: count, kind: "bar" },
  { key: "tokens", title: "Tokens (in + out)", value: (p) => p.input_tokens + p.output_tokens, format: count, kind: "bar" },
  { key: "cost", title: "Cost (USD)", value: (p) => p.cost_usd, format: usd, kind: "bar" },
  { key: "latency", title: "p95 latency", unit: " ms", value: (p) => Math.round(p.latency_p95_ms), format: ms },
  { key: "errors", title: "Error rate (%)", unit: "%", value: (p) => +(p.error_rate * 100).toFixed(2), format: (v) => `${v}%` },
];

const kindNames: Record<Schemas["Recommendation"]["kind"], string> = {
  cheaper_model: "Cheaper model",
  faster_provider: "Faster provider",
  rising_errors: "Rising errors",
  unused_model: "Unused model",
  unused_provider: "Unused provider",
  near_budget: "Near budget",
};

/** AnalyticsPage charts usage over time by group, and lists recommendations. */
export default function AnalyticsPage() {
  const api = useApi();
  const { isAdmin } = useSession();
  const [range, setRange] = useState<Range>("24h");
  const [groupBy, setGroupBy] = useState<GroupBy | null>("provider");
  const [resolution, setResolution] = useState<Resolution | null>(null);
  const usage = useQuery({
    queryKey: ["usage", "analytics", range, groupBy, resolution],
    queryFn: async () => {
      const from = new Date(Date.now() - ranges[range].hours * 3600_000).toISOString();
      return unwrap(
        await api.GET("/analytics/usage", {
          params: { query: { from, group_by: groupBy ?? undefined, resolution: resolution ?? undefined } },
        }),
      );
    },
    refetchInterval: 60_000,
  });
  const series = useMemo(() => topSeries(usage.data), [usage.data]);
  const hidden = (usage.data?.series.length ?? 0) - series.length;
  return (
    <Stack>
      <Title order={2}>Analytics</Title>
      <Group align="end" wrap="wrap">
        <Stack gap={4}>
          <Text size="sm" fw={500} id="range-label">Time range</Text>
          <SegmentedControl
            aria-labelledby="range-label"
            value={range}
            onChange={(v) => setRange(v as Range)}
            data={Object.entries(ranges).map(([value, r]) => ({ value, label: r.label }))}
          />
        </Stack>
        <Select
          label="Resolution"
          placeholder="Automatic"
          clearable
          value={resolution}
          onChange={(v) => setResolution(v as Resolution | null)}
          data={[
            { value: "minute", label: "Minute" },
            { value: "hour", label: "Hour" },
            { value: "day", label: "Day" },
          ]}
          w={150}
        />
        <Select
          label="Group by"
          placeholder="Nothing (totals)"
          clearable
          value={groupBy}
          onChange={(v) => setGroupBy(v as GroupBy | null)}
          data={[
            { value: "provider", label: "Provider" },
            { value: "model", label: "Model" },
            { value: "connection", label: "Connection" },
            { value: "user", label: "User" },
          ]}
          w={180}
        />
      </Group>
      <ProblemAlert error={usage.error} title="Could not load the usage" shown={[]} />
      {usage.isPending ? (
        <Loading label="Loading the usage" />
      ) : usage.isError ? null : series.length === 0 || series.every((s) => s.total.requests === 0) ? (
        <Empty title="No requests in this range">Calls through the gateway (/v1) show here within a minute.</Empty>
      ) : (
        <>
          <Text size="sm" c="dimmed">
            {usage.data.resolution === "minute" ? "Per minute" : usage.data.resolution === "hour" ? "Per hour" : "Per day (UTC)"}
            {hidden > 0 && ` · the ${series.length} busiest of ${usage.data.series.length} groups`}
          </Text>
          <SimpleGrid cols={{ base: 1, lg: 2 }}>
            {charts.map((c) => {
              const data = pivot(series, c.value).map((row) => ({ ...row, at: bucketLabel(String(row.at), usage.data.resolution) }));
              const chartSeries = series.map((s, i) => ({ name: `s${i}`, label: seriesLabel(s), color: colors[i % colors.length] }));
              const common = { h: 200, data, dataKey: "at", series: chartSeries, unit: c.unit, withLegend: series.length > 1, valueFormatter: c.format };
              return (
                <Card withBorder key={c.key} component="section" aria-label={c.title}>
                  <Text fw={500} size="sm" mb="xs">{c.title}</Text>
                  {c.kind === "bar" ? <BarChart {...common} type="stacked" /> : <LineChart {...common} />}
                </Card>
              );
            })}
          </SimpleGrid>
          <Totals series={usage.data.series} groupBy={groupBy} />
        </>
      )}
      {isAdmin && <Recommendations />}
    </Stack>
  );
}

function Totals({ series, groupBy }: { series: Schemas["UsageSeries"][]; groupBy: GroupBy | null }) {
  return (
    <Table.ScrollContainer minWidth={800}>
      <Table striped aria-label="Totals" verticalSpacing="xs">
        <Table.Thead>
          <Table.Tr>
            <Table.Th>{groupBy ? groupBy[0].toUpperCase() + groupBy.slice(1) : "All"}</Table.Th>
            <Table.Th>Requests</Table.Th>
            <Table.Th>Errors</Table.Th>
            <Table.Th>Tokens in / out</Table.Th>
            <Table.Th>Cost</Table.Th>
            <Table.Th>p50 / p95 / p99</Table.Th>
            <Table.Th>First token</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {series.map((s) => (
            <Table.Tr key={s.key || "all"}>
              <Table.Td>
                {groupBy === "provider" && s.name ? (
                  <Anchor component={Link} to={`/providers/${s.key}`}>{s.name}</Anchor>
                ) : (
                  seriesLabel(s)
                )}
              </Table.Td>
              <Table.Td>{count(s.total.requests)}</Table.Td>
              <Table.Td>
                {count(s.total.errors)} ({percent(s.total.error_rate)})
              </Table.Td>
              <Table.Td>
                {count(s.total.input_tokens)} / {count(s.total.output_tokens)}
              </Table.Td>
              <Table.Td>{usd(s.total.cost_usd)}</Table.Td>
              <Table.Td>
                {ms(s.total.latency_p50_ms)} / {ms(s.total.latency_p95_ms)} / {ms(s.total.latency_p99_ms)}
              </Table.Td>
              <Table.Td>{ms(s.total.ttft_p50_ms)}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
    </Table.ScrollContainer>
  );
}

/** Recommendations lists the advice drawn from usage, each with its numbers. */
export function Recommendations() {
  const api = useApi();
  const recs = useQuery({
    queryKey: ["recommendations"],
    queryFn: async () => unwrap(await api.GET("/analytics/recommendations")),
  });
  return (
    <Stack component="section" aria-labelledby="recs-title">
      <Title order={3} size="h4" id="recs-title">Recommendations</Title>
      {recs.isPending ? (
        <Loading label="Loading the recommendations" />
      ) : recs.isError ? (
        <ProblemAlert error={recs.error} title="Could not load the recommendations" />
      ) : recs.data.items.length === 0 ? (
        <Empty title="Nothing to recommend">Advice appears once there is enough traffic to compare providers, models and budgets.</Empty>
      ) : (
        recs.data.items.map((r, i) => (
          <Alert key={i} color={r.kind === "rising_errors" || r.kind === "near_budget" ? "orange" : "blue"} title={
            <Group gap="xs">
              <Badge variant="light">{kindNames[r.kind] ?? r.kind}</Badge>
              <Text fw={500} size="sm">
                {r.subject.name}
                {r.alternative && ` → ${r.alternative.name}`}
              </Text>
            </Group>
          } data-testid="recommendation">
            <Text size="sm">{r.message}</Text>
            <Table mt="xs" aria-label={`Evidence for ${r.subject.name}`} withRowBorders={false} verticalSpacing={2}>
              <Table.Tbody>
                {Object.entries(r.evidence).map(([k, v]) => (
                  <Table.Tr key={k}>
                    <Table.Td c="dimmed" w={260}>{evidenceLabel(k)}</Table.Td>
                    <Table.Td>{evidenceValue(k, v)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Alert>
        ))
      )}
    </Stack>
  );
}
