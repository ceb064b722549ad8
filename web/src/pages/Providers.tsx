import { useMemo, useState } from "react";
import { Anchor, Button, Checkbox, Group, Select, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { notify } from "../components/notify";
import { useInfiniteQuery, useMutation, useQueryClient } from "@tanstack/react-query";
import { Link } from "react-router";
import { unwrap, type Provider, type Schemas } from "../api/client";
import { useApi, useSession } from "../session";
import { Empty, Loading, ProblemAlert, problemOf } from "../components/States";
import { StatusBadge, protocolNames } from "../components/Badges";

const statuses: Schemas["ProviderStatus"][] = ["healthy", "degraded", "down", "disabled", "unknown"];

/** ProvidersPage lists providers with filters, search and bulk enable/disable. */
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
    // Status changes show without a reload (until the API streams them).
    refetchInterval: 15_000,
  });
  const providers = useMemo(() => list.data?.pages.flatMap((p) => p.items) ?? [], [list.data]);

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
        <Table.ScrollContainer minWidth={720}>
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
                <Table.Th>Protocol</Table.Th>
                <Table.Th>Enabled</Table.Th>
                <Table.Th>Last test</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {providers.map((p) => (
                <ProviderRow key={p.id} p={p} admin={isAdmin} selected={selected.has(p.id)} onToggle={() => toggle(p.id)} />
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

function ProviderRow({ p, admin, selected, onToggle }: { p: Provider; admin: boolean; selected: boolean; onToggle(): void }) {
  return (
    <Table.Tr>
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
        <StatusBadge status={p.status} />
      </Table.Td>
      <Table.Td>{protocolNames[p.protocol] ?? p.protocol}</Table.Td>
      <Table.Td>{p.enabled ? "Yes" : "No"}</Table.Td>
      <Table.Td>
        {p.last_test ? (
          <Text size="sm" c={p.last_test.ok ? "green" : "red"}>
            {p.last_test.ok ? "passed" : `failed (${p.last_test.code ?? "error"})`} · {new Date(p.last_test.at).toLocaleString()}
          </Text>
        ) : (
          <Text size="sm" c="dimmed">never</Text>
        )}
      </Table.Td>
    </Table.Tr>
  );
}
