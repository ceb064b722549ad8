import { useState } from "react";
import { Alert, Button, Code, CopyButton, Group, Modal, NumberInput, Select, Stack, Table, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, fieldErrors, unwrap } from "../api/client";
import { useApi } from "../session";
import { Empty, Loading, ProblemAlert } from "../components/States";

/** ConnectionsPage lists gateway connections and creates them, showing the key once. */
export default function ConnectionsPage() {
  const api = useApi();
  const [creating, setCreating] = useState(false);
  const [key, setKey] = useState<{ name: string; key: string } | null>(null);
  const list = useQuery({
    queryKey: ["connections"],
    queryFn: async () => unwrap(await api.GET("/connections", { params: { query: { limit: 500 } } })),
  });
  const providers = useQuery({
    queryKey: ["providers", "all-for-connections"],
    queryFn: async () => unwrap(await api.GET("/providers", { params: { query: { limit: 1000 } } })),
  });
  const names = Object.fromEntries((providers.data?.items ?? []).map((p) => [p.id, p.name]));
  const items = list.data?.items ?? [];
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Connections</Title>
        <Button onClick={() => setCreating(true)}>New connection</Button>
      </Group>
      <Text c="dimmed" size="sm">A connection is a gateway key for one app or person, with its limits. Use it as the API key of any OpenAI client pointed at /v1.</Text>
      {list.isPending ? (
        <Loading label="Loading connections" />
      ) : list.isError ? (
        <ProblemAlert error={list.error} title="Could not load the connections" />
      ) : items.length === 0 ? (
        <Empty title="No connections yet">Create one to get a gateway key.</Empty>
      ) : (
        <Table.ScrollContainer minWidth={700}>
          <Table striped aria-label="Connections">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Provider</Table.Th>
                <Table.Th>Key</Table.Th>
                <Table.Th>Requests/min</Table.Th>
                <Table.Th>Monthly budget</Table.Th>
                <Table.Th>Last used</Table.Th>
                <Table.Th>Enabled</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {items.map((c) => (
                <Table.Tr key={c.id}>
                  <Table.Td>{c.name}</Table.Td>
                  <Table.Td>{c.provider_id ? names[c.provider_id] ?? c.provider_id : c.provider_type ?? (c.models.length ? c.models.join(", ") : "any")}</Table.Td>
                  <Table.Td><Code>{c.key_prefix}</Code></Table.Td>
                  <Table.Td>{c.rate_limit_rpm || "no limit"}</Table.Td>
                  <Table.Td>{c.budget_usd ? `$${c.budget_usd}` : "none"}</Table.Td>
                  <Table.Td>{c.last_used_at ? new Date(c.last_used_at).toLocaleString() : "never"}</Table.Td>
                  <Table.Td>{c.enabled ? "Yes" : "No"}</Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      <Modal opened={creating} onClose={() => setCreating(false)} title="New connection">
        {creating && (
          <CreateConnectionForm
            providers={(providers.data?.items ?? []).map((p) => ({ value: p.id, label: p.name }))}
            onCreated={(name, k) => {
              setCreating(false);
              setKey({ name, key: k });
            }}
          />
        )}
      </Modal>
      <Modal opened={!!key} onClose={() => setKey(null)} title={`Gateway key of ${key?.name ?? ""}`}>
        {key && (
          <Stack>
            <Alert color="yellow" title="Copy it now">It is shown this once; Switchyard keeps only its hash.</Alert>
            <Code block data-testid="new-key">{key.key}</Code>
            <Group justify="end">
              <CopyButton value={key.key}>{({ copied, copy }) => <Button onClick={copy}>{copied ? "Copied" : "Copy key"}</Button>}</CopyButton>
              <Button variant="default" onClick={() => setKey(null)}>Done</Button>
            </Group>
          </Stack>
        )}
      </Modal>
    </Stack>
  );
}

export function CreateConnectionForm({ providers, onCreated }: { providers: { value: string; label: string }[]; onCreated(name: string, key: string): void }) {
  const api = useApi();
  const qc = useQueryClient();
  const [name, setName] = useState("");
  const [provider, setProvider] = useState<string | null>(null);
  const [rpm, setRpm] = useState<number | string>(0);
  const [budget, setBudget] = useState<number | string>(0);
  const [missing, setMissing] = useState<string>();
  const create = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/connections", {
          body: { name: name.trim(), ...(provider ? { provider_id: provider } : {}), rate_limit_rpm: Number(rpm) || 0, budget_usd: Number(budget) || 0 },
        }),
      ),
    onSuccess: (c) => {
      qc.invalidateQueries({ queryKey: ["connections"] });
      onCreated(c.name, c.key);
    },
  });
  const fe = create.error instanceof ApiError ? fieldErrors(create.error.problem) : {};
  return (
    <form
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        if (!name.trim()) return setMissing("Name is required");
        setMissing(undefined);
        create.mutate();
      }}
    >
      <Stack>
        <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} error={missing ?? fe.name} data-autofocus />
        <Select label="Provider" placeholder="Choose a provider" clearable searchable data={providers} value={provider} onChange={setProvider} error={fe.provider_id} />
        <NumberInput label="Requests per minute" description="0 for no limit" min={0} value={rpm} onChange={setRpm} error={fe.rate_limit_rpm} />
        <NumberInput label="Monthly budget (US$)" description="Requests are refused once it is spent, until the month ends (UTC); 0 for none" min={0} decimalScale={2} value={budget} onChange={setBudget} error={fe.budget_usd} />
        <ProblemAlert error={create.error} shown={["name", "provider_id", "rate_limit_rpm", "budget_usd"]} title="Could not create the connection" />
        <Group justify="end">
          <Button type="submit" loading={create.isPending}>Create</Button>
        </Group>
      </Stack>
    </form>
  );
}
