import { useState } from "react";
import { Badge, Button, Group, Modal, MultiSelect, NumberInput, PasswordInput, SegmentedControl, Select, Stack, Switch, Table, Tabs, Text, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate, useParams } from "react-router";
import { ApiError, fieldErrors, unwrap, type Schemas } from "../api/client";
import { useApi } from "../session";
import { Empty, Loading, ProblemAlert } from "../components/States";
import { notify } from "../components/notify";

type Channel = Schemas["AlertChannel"];
type Rule = Schemas["AlertRule"];
type Kind = Rule["kind"];

export const ruleKinds: Record<Kind, { label: string; threshold?: string; window?: boolean; forMinutes?: boolean }> = {
  provider_down: { label: "Provider down" },
  provider_degraded: { label: "Provider degraded for a while", forMinutes: true },
  error_rate: { label: "Error rate", threshold: "Error rate (%)", window: true },
  latency_p95: { label: "p95 latency", threshold: "p95 latency (ms)", window: true },
  connection_budget: { label: "Connection budget", threshold: "Share of the monthly budget (%)" },
  monthly_spend: { label: "Monthly spend", threshold: "Spend this month (USD)" },
};

/** thresholdOut converts the form's threshold to the API's unit (percent → fraction). */
export function thresholdOut(kind: Kind, v: number): number {
  return kind === "error_rate" || kind === "connection_budget" ? v / 100 : v;
}

export function describeRule(r: Rule): string {
  const k = ruleKinds[r.kind];
  const t = r.threshold ?? 0;
  const th = r.kind === "error_rate" || r.kind === "connection_budget" ? `${+(t * 100).toFixed(2)}%` : r.kind === "latency_p95" ? `${t} ms` : r.kind === "monthly_spend" ? `$${t}` : "";
  const parts = [k.label, th && `at ${th}`, k.window && `over ${r.window_minutes || 15} min`, k.forMinutes && `for ${r.for_minutes ?? 0} min`].filter(Boolean);
  return parts.join(" ");
}

/** AlertsPage: alerts with their deliveries, rules and channels (admins). */
export default function AlertsPage() {
  const { tab = "alerts" } = useParams();
  const navigate = useNavigate();
  return (
    <Stack>
      <Title order={2}>Alerts</Title>
      <Tabs value={tab} onChange={(t) => navigate(`/alerts/${t ?? "alerts"}`)} keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="alerts">Alerts</Tabs.Tab>
          <Tabs.Tab value="rules">Rules</Tabs.Tab>
          <Tabs.Tab value="channels">Channels</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="alerts" pt="md"><AlertList /></Tabs.Panel>
        <Tabs.Panel value="rules" pt="md"><Rules /></Tabs.Panel>
        <Tabs.Panel value="channels" pt="md"><Channels /></Tabs.Panel>
      </Tabs>
    </Stack>
  );
}

function AlertList() {
  const api = useApi();
  const [state, setState] = useState("open");
  const list = useQuery({
    queryKey: ["alerts", state],
    queryFn: async () => unwrap(await api.GET("/alerts", { params: { query: { state: state === "all" ? undefined : (state as "open" | "resolved"), limit: 100 } } })),
    refetchInterval: 30_000,
  });
  return (
    <Stack>
      <SegmentedControl aria-label="Which alerts" value={state} onChange={setState} w="fit-content"
        data={[{ value: "open", label: "Open" }, { value: "resolved", label: "Resolved" }, { value: "all", label: "All" }]} />
      {list.isPending ? (
        <Loading label="Loading the alerts" />
      ) : list.isError ? (
        <ProblemAlert error={list.error} title="Could not load the alerts" />
      ) : list.data.items.length === 0 ? (
        <Empty title={state === "open" ? "No open alert" : "No alerts"}>Alerts open when a rule fires, and are sent to its channels.</Empty>
      ) : (
        <Table aria-label="Alerts" striped verticalSpacing="xs">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Opened</Table.Th>
              <Table.Th>State</Table.Th>
              <Table.Th>Summary</Table.Th>
              <Table.Th>Deliveries</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {list.data.items.map((a) => (
              <Table.Tr key={a.id}>
                <Table.Td>{new Date(a.opened_at).toLocaleString()}</Table.Td>
                <Table.Td>
                  <Badge color={a.state === "open" ? "red" : "green"} variant="light" miw="max-content">{a.state}</Badge>
                  {a.resolved_at && <Text size="xs" c="dimmed">{new Date(a.resolved_at).toLocaleString()}</Text>}
                </Table.Td>
                <Table.Td>{a.summary}</Table.Td>
                <Table.Td>
                  {a.deliveries.length === 0 ? "—" : a.deliveries.map((d) => (
                    <Text key={d.id} size="xs" c={d.ok ? undefined : "red"}>
                      {d.event} #{d.attempt}: {d.ok ? "delivered" : `failed${d.error ? ` (${d.error})` : ""}`}{d.status ? ` · ${d.status}` : ""}
                    </Text>
                  ))}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
    </Stack>
  );
}

function useChannels() {
  const api = useApi();
  return useQuery({ queryKey: ["alert-channels"], queryFn: async () => unwrap(await api.GET("/alerts/channels", { params: { query: { limit: 500 } } })) });
}

function Rules() {
  const api = useApi();
  const qc = useQueryClient();
  const [creating, setCreating] = useState(false);
  const rules = useQuery({ queryKey: ["alert-rules"], queryFn: async () => unwrap(await api.GET("/alerts/rules", { params: { query: { limit: 500 } } })) });
  const channels = useChannels();
  const names = Object.fromEntries((channels.data?.items ?? []).map((c) => [c.id, c.name]));
  const toggle = useMutation({
    mutationFn: async (r: Rule) =>
      unwrap(await api.PATCH("/alerts/rules/{id}", { params: { path: { id: r.id }, header: { "If-Match": `"${r.version}"` } }, body: { enabled: !r.enabled } })),
    onSettled: () => qc.invalidateQueries({ queryKey: ["alert-rules"] }),
  });
  return (
    <Stack>
      <Group justify="end">
        <Button onClick={() => setCreating(true)}>New rule</Button>
      </Group>
      <ProblemAlert error={toggle.error} title="The rule was not changed" />
      {rules.isPending ? (
        <Loading label="Loading the rules" />
      ) : rules.isError ? (
        <ProblemAlert error={rules.error} title="Could not load the rules" />
      ) : (
        <Table aria-label="Alert rules" verticalSpacing="xs">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>Fires on</Table.Th>
              <Table.Th>Channels</Table.Th>
              <Table.Th>Enabled</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rules.data.items.map((r) => (
              <Table.Tr key={r.id}>
                <Table.Td>{r.name}{r.builtin && <Badge ml="xs" size="xs" variant="outline">built-in</Badge>}</Table.Td>
                <Table.Td>{describeRule(r)}</Table.Td>
                <Table.Td>{r.channel_ids.length ? r.channel_ids.map((id) => names[id] ?? id).join(", ") : "every enabled channel"}</Table.Td>
                <Table.Td>
                  <Switch aria-label={`Enable ${r.name}`} checked={r.enabled} onChange={() => toggle.mutate(r)} disabled={toggle.isPending} />
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {creating && <RuleForm channels={channels.data?.items ?? []} onClose={() => setCreating(false)} />}
    </Stack>
  );
}

export function RuleForm({ channels, onClose }: { channels: Channel[]; onClose(): void }) {
  const api = useApi();
  const qc = useQueryClient();
  const [name, setName] = useState("");
  const [kind, setKind] = useState<Kind>("error_rate");
  const [threshold, setThreshold] = useState<number | string>(10);
  const [windowMin, setWindowMin] = useState<number | string>(15);
  const [forMin, setForMin] = useState<number | string>(10);
  const [channelIds, setChannelIds] = useState<string[]>([]);
  const k = ruleKinds[kind];
  const save = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/alerts/rules", {
          body: {
            name: name.trim(),
            kind,
            ...(k.threshold ? { threshold: thresholdOut(kind, Number(threshold)) } : {}),
            ...(k.window ? { window_minutes: Number(windowMin) } : {}),
            ...(k.forMinutes ? { for_minutes: Number(forMin) } : {}),
            channel_ids: channelIds,
          },
        }),
      ),
    onSuccess: (r) => {
      qc.invalidateQueries({ queryKey: ["alert-rules"] });
      notify("green", describeRule(r), "Rule created");
      onClose();
    },
  });
  const fe = fieldErrors(save.error instanceof ApiError ? save.error.problem : null);
  return (
    <Modal opened onClose={onClose} title="New alert rule">
      <Stack>
        <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} error={fe.name} />
        <Select label="Fires on" data={Object.entries(ruleKinds).map(([value, v]) => ({ value, label: v.label }))} value={kind} onChange={(v) => v && setKind(v as Kind)} allowDeselect={false} error={fe.kind} />
        {k.threshold && <NumberInput label={k.threshold} min={0} value={threshold} onChange={setThreshold} error={fe.threshold} />}
        {k.window && <NumberInput label="Window (minutes)" min={1} max={1440} value={windowMin} onChange={setWindowMin} error={fe.window_minutes} />}
        {k.forMinutes && <NumberInput label="For (minutes)" min={0} max={10080} value={forMin} onChange={setForMin} error={fe.for_minutes} />}
        <MultiSelect label="Channels" placeholder="Every enabled channel" data={channels.map((c) => ({ value: c.id, label: c.name }))} value={channelIds} onChange={setChannelIds} error={fe.channel_ids} />
        <ProblemAlert error={save.error} shown={["name", "kind", "threshold", "window_minutes", "for_minutes", "channel_ids"]} title="The rule was not created" />
        <Group justify="end">
          <Button variant="default" onClick={onClose}>Cancel</Button>
          <Button onClick={() => save.mutate()} loading={save.isPending}>Create rule</Button>
        </Group>
      </Stack>
    </Modal>
  );
}

function Channels() {
  const api = useApi();
  const qc = useQueryClient();
  const [creating, setCreating] = useState(false);
  const channels = useChannels();
  const test = useMutation({
    mutationFn: async (c: Channel) => ({ c, d: unwrap(await api.POST("/alerts/channels/{id}/test", { params: { path: { id: c.id } } })) }),
    onSuccess: ({ c, d }) => notify(d.ok ? "green" : "red", d.ok ? "The channel accepted it." : d.error ?? "failed", `Test message to ${c.name}`, d.ok ? 4000 : false),
    onSettled: () => qc.invalidateQueries({ queryKey: ["alert-channels"] }),
  });
  return (
    <Stack>
      <Group justify="end">
        <Button onClick={() => setCreating(true)}>New channel</Button>
      </Group>
      <ProblemAlert error={test.error} title="The test message could not be sent" />
      {channels.isPending ? (
        <Loading label="Loading the channels" />
      ) : channels.isError ? (
        <ProblemAlert error={channels.error} title="Could not load the channels" />
      ) : channels.data.items.length === 0 ? (
        <Empty title="No channels yet">Add a webhook, a Slack incoming webhook or an email address to receive alerts.</Empty>
      ) : (
        <Table aria-label="Alert channels" verticalSpacing="xs">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>Kind</Table.Th>
              <Table.Th>Destination</Table.Th>
              <Table.Th>Secrets</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {channels.data.items.map((c) => (
              <Table.Tr key={c.id}>
                <Table.Td>{c.name}{!c.enabled && <Badge ml="xs" size="xs" color="gray">disabled</Badge>}</Table.Td>
                <Table.Td>{c.kind}</Table.Td>
                <Table.Td>{c.kind === "email" ? `${(c.to ?? []).join(", ")} via ${c.smtp_host}` : c.url ?? "—"}</Table.Td>
                <Table.Td>
                  {Object.entries(c.secrets).map(([k, v]) => (
                    <Text key={k} size="xs">{k}: {v.set ? `set${v.hint ? ` · ${v.hint}` : ""}` : "not set"}</Text>
                  ))}
                </Table.Td>
                <Table.Td>
                  <Button size="xs" variant="default" onClick={() => test.mutate(c)} loading={test.isPending && test.variables?.id === c.id} aria-label={`Send a test message to ${c.name}`}>
                    Send test
                  </Button>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {creating && <ChannelForm onClose={() => setCreating(false)} />}
    </Stack>
  );
}

/** ChannelForm creates a channel; its secret is write-only and forgotten once saved. */
export function ChannelForm({ onClose }: { onClose(): void }) {
  const api = useApi();
  const qc = useQueryClient();
  const [name, setName] = useState("");
  const [kind, setKind] = useState<Channel["kind"]>("webhook");
  const [url, setUrl] = useState("");
  const [secret, setSecret] = useState("");
  const [smtpHost, setSmtpHost] = useState("");
  const [from, setFrom] = useState("");
  const [to, setTo] = useState("");
  const secretKey = kind === "webhook" ? "hmac_secret" : kind === "slack" ? "url" : "password";
  const save = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/alerts/channels", {
          body: {
            name: name.trim(),
            kind,
            ...(kind === "webhook" ? { url: url.trim() } : {}),
            ...(kind === "email" ? { smtp_host: smtpHost.trim(), from: from.trim(), to: to.split(",").map((s) => s.trim()).filter(Boolean) } : {}),
            ...(secret ? { secrets: { [secretKey]: secret } } : {}),
          },
        }),
      ),
    onSuccess: () => {
      setSecret("");
      qc.invalidateQueries({ queryKey: ["alert-channels"] });
      onClose();
    },
  });
  const fe = fieldErrors(save.error instanceof ApiError ? save.error.problem : null);
  const secretLabel = kind === "webhook" ? "HMAC secret (optional)" : kind === "slack" ? "Slack webhook URL" : "SMTP password (optional)";
  return (
    <Modal opened onClose={onClose} title="New alert channel">
      <Stack>
        <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} error={fe.name} />
        <Select label="Kind" data={[{ value: "webhook", label: "Webhook" }, { value: "slack", label: "Slack" }, { value: "email", label: "Email" }]} value={kind}
          onChange={(v) => v && setKind(v as Channel["kind"])} allowDeselect={false} error={fe.kind} />
        {kind === "webhook" && <TextInput label="URL" required placeholder="https://hooks.example.com/switchyard" value={url} onChange={(e) => setUrl(e.currentTarget.value)} error={fe.url} />}
        {kind === "email" && (
          <>
            <TextInput label="SMTP host" required value={smtpHost} onChange={(e) => setSmtpHost(e.currentTarget.value)} error={fe.smtp_host} />
            <TextInput label="From" required value={from} onChange={(e) => setFrom(e.currentTarget.value)} error={fe.from} />
            <TextInput label="To" required description="Addresses separated by commas" value={to} onChange={(e) => setTo(e.currentTarget.value)} error={fe.to ?? fe["to[0]"]} />
          </>
        )}
        <PasswordInput label={secretLabel} value={secret} onChange={(e) => setSecret(e.currentTarget.value)} error={fe[`secrets.${secretKey}`]} autoComplete="off" />
        <ProblemAlert error={save.error} shown={["name", "kind", "url", "smtp_host", "from", "to", "to[0]", `secrets.${secretKey}`]} title="The channel was not created" />
        <Group justify="end">
          <Button variant="default" onClick={onClose}>Cancel</Button>
          <Button onClick={() => save.mutate()} loading={save.isPending}>Create channel</Button>
        </Group>
      </Stack>
    </Modal>
  );
}
