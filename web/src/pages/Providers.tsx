import { lazy, Suspense, useMemo, useState } from "react";
import { Anchor, Box, Button, Checkbox, Group, Select, Stack, Table, Text, TextInput, Title, Tooltip } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { notify } from "../components/notify";
import { useInfiniteQuery, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { mergeLive, useFallbackPolling, useLiveEvents } from "../live";
import { ago, byKey, count, healthById, ms, percent, startOfToday, usd, type ProviderHealth, type UsageSeries } from "../components/usage";
import { Link } from "react-router";
import { unwrap, type Provider, type Schemas } from "../api/client";
import { useApi, useSession } from "../session";
import { Empty, Loading, ProblemAlert, problemOf } from "../components/States";
import { StatusBadge, protocolNames } from "../components/Badges";

// The charts library loads only when a row has a sparkline to draw, after the table shows.
const Sparkline = lazy(() => import("../components/Sparkline"));

const statuses: Schemas["ProviderStatus"][] = ["healthy", "degraded", "down", "disabled", "unknown"];

/**
 * ProvidersPage lists providers with their live status and today's traffic,
 * with filters, search and bulk enable/disable. Status changes arrive over the
 * event stream; without it the list is read again every 15 s.
 */
export default function ProvidersPage() {
  const api = useApi();
  const { isAdmin } = useSession();
  const qc = useQueryClient();
  const [q, setQ] = useState("");
  const [debouncedQ] = useDebouncedValue(q, 250);
  const [status, setStatus] = useState<string | null>(null);
  const [protocol, setProtocol] = useState<string | null>(null);
  const [enabled, setEnabled] = useState<string | null>(null);
  const [selected, setSelected] = useState<Set<string>>(new Set());

  const filters = { q: debouncedQ || undefined, status: status ?? undefined, protocol: protocol ?? undefined, enabled: enabled === null ? undefined : enabled === "true" };
  const poll = useFallbackPolling();
  const list = useInfiniteQuery({
    queryKey: ["providers", filters],
    initialPageParam: undefined as string | undefined,
    queryFn: async ({ pageParam }) =>
      unwrap(
        await api.GET("/providers", {
          params: {
            query: {
              ...filters,
              status: filters.status as Schemas["ProviderStatus"] | undefined,
              protocol: filters.protocol as Schemas["Protocol"] | undefined,
              limit: 100,
              cursor: pageParam,
            },
          },
        }),
      ),
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    refetchInterval: poll,
  });
  const providers = useMemo(() => list.data?.pages.flatMap((p) => p.items) ?? [], [list.data]);
  const health = useQuery({
    queryKey: ["health"],
    queryFn: async () => unwrap(await api.GET("/health")),
    refetchInterval: poll,
  });
  const today = useQuery({
    queryKey: ["usage", "today", "provider"],
    queryFn: async () =>
      unwrap(await api.GET("/analytics/usage", { params: { query: { from: startOfToday(), group_by: "provider", resolution: "hour" } } })),
    // Traffic is not an event: read it again every minute.
    refetchInterval: 60_000,
  });
  const events = useLiveEvents();
  const healthOf = useMemo(() => healthById(mergeLive(health.data, events)), [health.data, events]);
  const usageOf = useMemo(() => byKey(today.data?.series), [today.data]);

  const bulk = useMutation({
    mutationFn: async (enable: boolean) => {
      const ids = providers.filter((p) => selected.has(p.id) && p.enabled !== enable).map((p) => p.id);
      const failed: string[] = [];
      for (const id of ids) {
        const res = enable
          ? await api.POST("/providers/{id}/enable", { params: { path: { id } } })
          : await api.POST("/providers/{id}/disable", { params: { path: { id } } });
        if (!res.response.ok) {
          const name = providers.find((p) => p.id === id)?.name ?? id;
          failed.push(`${name}: ${problemOf(res.error).detail}`);
        }
      }
      return { done: ids.length - failed.length, failed };
    },
    onSuccess: ({ done, failed }, enable) => {
      notify(
        failed.length ? "red" : "green",
        failed.length ? failed.join("\n") : "The gateway picks up the change at once.",
        `${done} provider${done === 1 ? "" : "s"} ${enable ? "enabled" : "disabled"}`,
        failed.length ? false : 4000,
      );
      setSelected(new Set());
      qc.invalidateQueries({ queryKey: ["providers"] });
    },
  });

  const allSelected = providers.length > 0 && providers.every((p) => selected.has(p.id));
  const toggle = (id: string) =>
    setSelected((s) => {
      const n = new Set(s);
      if (n.has(id)) n.delete(id);
      else n.add(id);
      return n;
    });

  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Providers</Title>
        {isAdmin && (
          <Button component={Link} to="/providers/new">
            Add provider
          </Button>
        )}
      </Group>
      <Group align="end" wrap="wrap">
        <TextInput label="Search" placeholder="Name or slug" value={q} onChange={(e) => setQ(e.currentTarget.value)} w={240} />
        <Select label="Status" placeholder="Any" clearable data={statuses} value={status} onChange={setStatus} w={150} />
        <Select
          label="Protocol"
          placeholder="Any"
          clearable
          data={Object.entries(protocolNames).map(([value, label]) => ({ value, label }))}
          value={protocol}
          onChange={setProtocol}
          w={190}
        />
        {isAdmin && (
          <Select
            label="Enabled"
            placeholder="Any"
            clearable
            data={[
              { value: "true", label: "Enabled" },
              { value: "false", label: "Disabled" },
            ]}
            value={enabled}
            onChange={setEnabled}
            w={140}
          />
        )}
      </Group>
      {isAdmin && selected.size > 0 && (
        <Group role="toolbar" aria-label="Bulk actions">
          <Text size="sm">{selected.size} selected</Text>
          <Button size="xs" onClick={() => bulk.mutate(true)} loading={bulk.isPending && bulk.variables === true}>
            Enable selected
          </Button>
          <Button size="xs" variant="default" onClick={() => bulk.mutate(false)} loading={bulk.isPending && bulk.variables === false}>
            Disable selected
          </Button>
        </Group>
      )}
      {list.isPending ? (
        <Loading label="Loading providers" />
      ) : list.isError ? (
        <ProblemAlert error={list.error} title="Could not load the providers" />
      ) : providers.length === 0 ? (
        <Empty title={filters.q || status || protocol || enabled ? "No provider matches" : "No providers yet"}>
          {isAdmin ? "Add one from a template with “Add provider”." : "An administrator has not enabled any provider yet."}
        </Empty>
      ) : (
        <Table.ScrollContainer minWidth={1100}>
          <Table striped highlightOnHover verticalSpacing="sm" aria-label="Providers">
            <Table.Thead>
              <Table.Tr>
                {isAdmin && (
                  <Table.Th w={40}>
                    <Checkbox
                      aria-label="Select all providers"
                      checked={allSelected}
                      indeterminate={selected.size > 0 && !allSelected}
                      onChange={() => setSelected(allSelected ? new Set() : new Set(providers.map((p) => p.id)))}
                    />
                  </Table.Th>
                )}
                <Table.Th>Name</Table.Th>
                <Table.Th>Status</Table.Th>
                <Table.Th>Last check</Table.Th>
                <Table.Th>Error rate</Table.Th>
                <Table.Th>p95 latency</Table.Th>
                <Table.Th>Requests today</Table.Th>
                <Table.Th>Cost today</Table.Th>
                <Table.Th>Today by hour</Table.Th>
                <Table.Th>Protocol</Table.Th>
                <Table.Th>Enabled</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {providers.map((p) => (
                <ProviderRow key={p.id} p={p} health={healthOf.get(p.id)} usage={usageOf.get(p.id)} admin={isAdmin} selected={selected.has(p.id)} onToggle={() => toggle(p.id)} />
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {list.hasNextPage && (
        <Button variant="default" onClick={() => list.fetchNextPage()} loading={list.isFetchingNextPage}>
          Load more
        </Button>
      )}
    </Stack>
  );
}

function ProviderRow({ p, health, usage, admin, selected, onToggle }: { p: Provider; health?: ProviderHealth; usage?: UsageSeries; admin: boolean; selected: boolean; onToggle(): void }) {
  // The health overview follows the events; the provider list may lag it.
  const status = p.enabled ? (health?.status ?? p.status) : "disabled";
  const check = health?.last_check;
  const t = usage?.total;
  return (
    <Table.Tr data-provider={p.slug} data-status={status}>
      {admin && (
        <Table.Td>
          <Checkbox aria-label={`Select ${p.name}`} checked={selected} onChange={onToggle} />
        </Table.Td>
      )}
      <Table.Td>
        <Anchor component={Link} to={`/providers/${p.id}`} fw={500}>
          {p.name}
        </Anchor>
        <Text size="xs" c="dimmed">
          {p.slug}
          {p.system ? " · system" : ""}
        </Text>
      </Table.Td>
      <Table.Td>
        <Tooltip label={health?.reason ?? "no status change yet"} disabled={!health}>
          <span>
            <StatusBadge status={status} />
          </span>
        </Tooltip>
      </Table.Td>
      <Table.Td>
        {check ? (
          <Text size="sm" c={check.ok ? undefined : "red"} title={new Date(check.at).toLocaleString()}>
            {check.ok ? `ok · ${check.latency_ms} ms` : `failed (${check.code ?? "error"})`}
            <Text span size="xs" c="dimmed"> · {ago(check.at)}</Text>
          </Text>
        ) : (
          <Text size="sm" c="dimmed">{health && !health.checks_enabled ? "checks off" : "not yet"}</Text>
        )}
      </Table.Td>
      <Table.Td>{t && t.requests ? percent(t.error_rate) : "—"}</Table.Td>
      <Table.Td>{ms(t?.latency_p95_ms)}</Table.Td>
      <Table.Td>{count(t?.requests)}</Table.Td>
      <Table.Td>{usd(t?.cost_usd ?? 0)}</Table.Td>
      <Table.Td>
        {usage && usage.points.length > 1 ? (
          <Suspense fallback={<Box w={110} h={28} />}>
            <Sparkline
              w={110}
              h={28}
              data={usage.points.map((pt) => pt.requests)}
              curveType="monotone"
              color={status === "down" ? "red" : "indigo"}
              fillOpacity={0.3}
              aria-label={`Requests per hour today for ${p.name}`}
            />
          </Suspense>
        ) : (
          <Text size="xs" c="dimmed">—</Text>
        )}
      </Table.Td>
      <Table.Td>{protocolNames[p.protocol] ?? p.protocol}</Table.Td>
      <Table.Td>{p.enabled ? "Yes" : "No"}</Table.Td>
    </Table.Tr>
  );
}
