import { useState, type ReactNode } from "react";
import { Badge, Button, Checkbox, Group, Modal, MultiSelect, NumberInput, PasswordInput, SegmentedControl, Select, Stack, Switch, Table, Tabs, Text, TextInput, Title, VisuallyHidden } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate, useParams } from "react-router";
import { ApiError, fieldErrors, unwrap, type Provider, type Schemas } from "../api/client";
import { useApi } from "../session";
import { Empty, Loading, ProblemAlert, problemOf } from "../components/States";
import { notify } from "../components/notify";

type Channel = Schemas["AlertChannel"];
type Rule = Schemas["AlertRule"];
type Kind = Rule["kind"];

/**
 * ruleKinds says what each kind of rule is called and which settings it
 * uses; `provider`: it watches providers, one (`provider_id`) or all.
 */
export const ruleKinds: Record<Kind, { label: string; threshold?: string; defaultThreshold?: number; window?: boolean; forMinutes?: boolean; provider?: boolean }> = {
  provider_down: { label: "Provider down", provider: true },
  provider_degraded: { label: "Provider degraded for a while", forMinutes: true, provider: true },
  error_rate: { label: "Error rate", threshold: "Error rate (%)", defaultThreshold: 10, window: true, provider: true },
  latency_p95: { label: "p95 latency", threshold: "p95 latency (ms)", defaultThreshold: 5000, window: true, provider: true },
  connection_budget: { label: "Connection budget", threshold: "Share of the monthly budget (%)", defaultThreshold: 80 },
  monthly_spend: { label: "Monthly spend", threshold: "Spend this month (USD)", defaultThreshold: 1000 },
};

const percentKind = (kind: Kind) => kind === "error_rate" || kind === "connection_budget";

/** thresholdOut converts the form's threshold to the API's unit (percent → fraction). */
export function thresholdOut(kind: Kind, v: number): number {
  return percentKind(kind) ? v / 100 : v;
}

/** thresholdIn converts the API's threshold to the form's unit (fraction → percent). */
export function thresholdIn(kind: Kind, v: number): number {
  return percentKind(kind) ? Number((v * 100).toFixed(6)) : v;
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

const etag = (v: number) => `"${v}"`;

function useChannels() {
  const api = useApi();
  return useQuery({ queryKey: ["alert-channels"], queryFn: async () => unwrap(await api.GET("/alerts/channels", { params: { query: { limit: 500 } } })) });
}

/** useProviders reads every provider (page after page), for the rules' provider names. */
function useProviders() {
  const api = useApi();
  return useQuery({
    queryKey: ["providers", "all-for-alerts"],
    queryFn: async () => {
      const items: Provider[] = [];
      let cursor: string | undefined;
      do {
        const page = unwrap(await api.GET("/providers", { params: { query: { limit: 1000, cursor } } }));
        items.push(...page.items);
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
      return items;
    },
  });
}

/**
 * ruleProvider names what a rule watches: its provider (by name, or by id
 * when no provider has that id any more), all providers, or nothing for
 * the kinds that are not about providers.
 */
function ruleProvider(r: Rule, names: Record<string, string> | undefined): string {
  if (!ruleKinds[r.kind].provider) return "—";
  if (!r.provider_id) return "All providers";
  return names?.[r.provider_id] ?? (names ? r.provider_id : "…");
}

/**
 * DeleteDialog asks before deleting; the API's refusal (a built-in rule, a
 * version changed since the list was read) shows in the dialog.
 */
function DeleteDialog({ title, children, remove, onClose, onDeleted }: { title: string; children: ReactNode; remove(): Promise<unknown>; onClose(): void; onDeleted(): void }) {
  const del = useMutation({ mutationFn: remove, onSuccess: onDeleted });
  return (
    <Modal opened onClose={onClose} title={title}>
      <Stack>
        <Text>{children}</Text>
        <ProblemAlert error={del.error} title="It was not deleted" />
        <Group justify="end">
          <Button variant="default" onClick={onClose} data-autofocus>Cancel</Button>
          <Button color="red" onClick={() => del.mutate()} loading={del.isPending}>Delete</Button>
        </Group>
      </Stack>
    </Modal>
  );
}

/** toggleFailed tells, in a notification, why an enable or disable was refused. */
function toggleFailed(name: string, enable: boolean, err: unknown) {
  notify("red", problemOf(err).detail, `Could not ${enable ? "enable" : "disable"} ${name}`, false);
}

function Rules() {
  const api = useApi();
  const qc = useQueryClient();
  const [editing, setEditing] = useState<Rule | "new" | null>(null);
  const [deleting, setDeleting] = useState<Rule | null>(null);
  const rules = useQuery({ queryKey: ["alert-rules"], queryFn: async () => unwrap(await api.GET("/alerts/rules", { params: { query: { limit: 500 } } })) });
  const channels = useChannels();
  const providers = useProviders();
  const names = Object.fromEntries((channels.data?.items ?? []).map((c) => [c.id, c.name]));
  // Until the providers are read, a rule's provider shows as "…" (not as its id).
  const providerNames = providers.isPending ? undefined : Object.fromEntries((providers.data ?? []).map((p) => [p.id, p.name]));
  // The switch stays focusable while a change is on its way (a disabled
  // control would drop the keyboard's focus); a second press waits for it.
  const toggle = useMutation({
    mutationFn: async (r: Rule) =>
      unwrap(await api.PATCH("/alerts/rules/{id}", { params: { path: { id: r.id }, header: { "If-Match": etag(r.version) } }, body: { enabled: !r.enabled } })),
    onError: (err, r) => toggleFailed(r.name, !r.enabled, err),
    onSettled: () => qc.invalidateQueries({ queryKey: ["alert-rules"] }),
  });
  return (
    <Stack>
      <Group justify="end">
        <Button onClick={() => setEditing("new")}>New rule</Button>
      </Group>
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
              <Table.Th>Provider</Table.Th>
              <Table.Th>Channels</Table.Th>
              <Table.Th>Enabled</Table.Th>
              <Table.Th><VisuallyHidden>Actions</VisuallyHidden></Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {rules.data.items.map((r) => (
              <Table.Tr key={r.id} data-rule={r.name}>
                <Table.Td>{r.name}{r.builtin && <Badge ml="xs" size="xs" variant="outline">built-in</Badge>}</Table.Td>
                <Table.Td>{describeRule(r)}</Table.Td>
                <Table.Td>{ruleProvider(r, providerNames)}</Table.Td>
                <Table.Td>{r.channel_ids.length ? r.channel_ids.map((id) => names[id] ?? id).join(", ") : "every enabled channel"}</Table.Td>
                <Table.Td>
                  <Switch aria-label={`Enable ${r.name}`} checked={r.enabled} onChange={() => toggle.isPending || toggle.mutate(r)} aria-busy={toggle.isPending && toggle.variables?.id === r.id} />
                </Table.Td>
                <Table.Td>
                  <Group gap="xs" wrap="nowrap" justify="end">
                    <Button size="xs" variant="default" onClick={() => setEditing(r)} aria-label={`Edit ${r.name}`}>Edit</Button>
                    {!r.builtin && (
                      <Button size="xs" variant="subtle" color="red" onClick={() => setDeleting(r)} aria-label={`Delete ${r.name}`}>Delete</Button>
                    )}
                  </Group>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      {editing && <RuleForm channels={channels.data?.items ?? []} rule={editing === "new" ? undefined : editing} onClose={() => setEditing(null)} />}
      {deleting && (
        <DeleteDialog
          title={`Delete the rule ${deleting.name}?`}
          remove={async () => unwrap(await api.DELETE("/alerts/rules/{id}", { params: { path: { id: deleting.id }, header: { "If-Match": etag(deleting.version) } } }))}
          onClose={() => setDeleting(null)}
          onDeleted={() => {
            qc.invalidateQueries({ queryKey: ["alert-rules"] });
            qc.invalidateQueries({ queryKey: ["alerts"] });
            notify("green", `${deleting.name} deleted`);
            setDeleting(null);
          }}
        >
          Its alerts, open and resolved, are deleted with it.
        </DeleteDialog>
      )}
    </Stack>
  );
}

/** RuleDraft is what the rule form holds, in the form's units. */
export interface RuleDraft {
  name: string;
  kind: Kind;
  threshold: number | string;
  windowMin: number | string;
  forMin: number | string;
  cooldown: number | string;
  channelIds: string[];
  /** providerId is the one provider watched; "" for all of them. */
  providerId: string;
}

/** ruleDraft fills the form from a rule (or with a new rule's defaults). */
export function ruleDraft(r?: Rule): RuleDraft {
  if (!r) return { name: "", kind: "error_rate", threshold: 10, windowMin: 15, forMin: 10, cooldown: 0, channelIds: [], providerId: "" };
  return {
    name: r.name,
    kind: r.kind,
    threshold: r.threshold !== undefined ? thresholdIn(r.kind, r.threshold) : ruleKinds[r.kind].defaultThreshold ?? 10,
    windowMin: r.window_minutes || 15,
    forMin: r.for_minutes ?? (r.kind === "provider_degraded" ? 0 : 10),
    cooldown: r.cooldown_minutes,
    channelIds: [...r.channel_ids],
    providerId: r.provider_id ?? "",
  };
}

const sameSet = (a: string[], b: string[]) => a.length === b.length && a.every((x) => b.includes(x));

/**
 * rulePatch is the merge patch from a rule to the draft: only what changed
 * (and, when the kind changed, the threshold, window and duration the new
 * kind uses). The API unscopes a rule with an empty `provider_id` (absent
 * leaves it as it is; null is refused); a kind that is not about providers
 * drops the scope, which it would ignore.
 */
export function rulePatch(r: Rule, d: RuleDraft): Schemas["AlertRulePatch"] {
  const k = ruleKinds[d.kind];
  const kindChanged = d.kind !== r.kind;
  const p: Schemas["AlertRulePatch"] = {};
  if (d.name.trim() !== r.name) p.name = d.name.trim();
  if (kindChanged) p.kind = d.kind;
  if (k.threshold) {
    const t = thresholdOut(d.kind, Number(d.threshold));
    if (kindChanged || Math.abs(t - (r.threshold ?? 0)) > 1e-9) p.threshold = t;
  }
  if (k.window && (kindChanged || Number(d.windowMin) !== (r.window_minutes || 15))) p.window_minutes = Number(d.windowMin);
  if (k.forMinutes && (kindChanged || Number(d.forMin) !== (r.for_minutes ?? 0))) p.for_minutes = Number(d.forMin);
  if (Number(d.cooldown) !== r.cooldown_minutes) p.cooldown_minutes = Number(d.cooldown);
  if (!sameSet(d.channelIds, r.channel_ids)) p.channel_ids = d.channelIds;
  const providerId = k.provider ? d.providerId : "";
  if (providerId !== (r.provider_id ?? "")) p.provider_id = providerId;
  return p;
}

/** ruleFields are the fields the form shows for a kind (their errors show beside them). */
const ruleFields = (k: (typeof ruleKinds)[Kind]) =>
  ["name", "kind", k.threshold && "threshold", k.window && "window_minutes", k.forMinutes && "for_minutes", k.provider && "provider_id", "cooldown_minutes", "channel_ids"].filter((f): f is string => !!f);

/**
 * providerOptions are the provider select's choices: all providers, then
 * each by name; a chosen id that no provider has any more stays, by its id.
 */
function providerOptions(providers: Provider[] | undefined, chosen: string) {
  const opts = [{ value: "", label: "All providers" }, ...(providers ?? []).map((p) => ({ value: p.id, label: p.name }))];
  if (chosen && !opts.some((o) => o.value === chosen)) opts.push({ value: chosen, label: chosen });
  return opts;
}

/** RuleForm creates a rule, or edits one (prefilled; only the changes are sent). */
export function RuleForm({ channels, rule, onClose }: { channels: Channel[]; rule?: Rule; onClose(): void }) {
  const api = useApi();
  const qc = useQueryClient();
  const [d, setD] = useState<RuleDraft>(() => ruleDraft(rule));
  const set = <K extends keyof RuleDraft>(key: K) => (v: RuleDraft[K]) => setD((o) => ({ ...o, [key]: v }));
  const k = ruleKinds[d.kind];
  const providers = useProviders();
  const providerGone = !!d.providerId && providers.isSuccess && !providers.data.some((p) => p.id === d.providerId);
  const save = useMutation({
    mutationFn: async (): Promise<Rule | null> => {
      if (rule) {
        const body = rulePatch(rule, d);
        if (Object.keys(body).length === 0) return null;
        return unwrap(await api.PATCH("/alerts/rules/{id}", { params: { path: { id: rule.id }, header: { "If-Match": etag(rule.version) } }, body }));
      }
      return unwrap(
        await api.POST("/alerts/rules", {
          body: {
            name: d.name.trim(),
            kind: d.kind,
            ...(k.threshold ? { threshold: thresholdOut(d.kind, Number(d.threshold)) } : {}),
            ...(k.window ? { window_minutes: Number(d.windowMin) } : {}),
            ...(k.forMinutes ? { for_minutes: Number(d.forMin) } : {}),
            ...(k.provider && d.providerId ? { provider_id: d.providerId } : {}),
            ...(Number(d.cooldown) > 0 ? { cooldown_minutes: Number(d.cooldown) } : {}),
            channel_ids: d.channelIds,
          },
        }),
      );
    },
    onSuccess: (r) => {
      if (r) {
        qc.invalidateQueries({ queryKey: ["alert-rules"] });
        notify("green", describeRule(r), rule ? `${r.name} saved` : "Rule created");
      }
      onClose();
    },
  });
  const fe = fieldErrors(save.error instanceof ApiError ? save.error.problem : null);
  const channelError = fe.channel_ids ?? Object.entries(fe).find(([f]) => f.startsWith("channel_ids["))?.[1];
  return (
    <Modal opened onClose={onClose} title={rule ? `Edit the rule ${rule.name}` : "New alert rule"}>
      <form
        noValidate
        aria-label={rule ? "Edit alert rule" : "New alert rule"}
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate();
        }}
      >
        <Stack>
          {rule?.builtin && (
            <Text size="sm" c="dimmed">
              The built-in rule can be changed or disabled, not deleted.
            </Text>
          )}
          <TextInput label="Name" required value={d.name} onChange={(e) => set("name")(e.currentTarget.value)} error={fe.name} data-autofocus />
          <Select
            label="Fires on"
            data={Object.entries(ruleKinds).map(([value, v]) => ({ value, label: v.label }))}
            value={d.kind}
            onChange={(v) => {
              if (!v || v === d.kind) return;
              const nk = v as Kind;
              // A threshold in one kind's unit means nothing in another's.
              setD((o) => ({ ...o, kind: nk, threshold: rule && rule.kind === nk ? ruleDraft(rule).threshold : ruleKinds[nk].defaultThreshold ?? o.threshold }));
            }}
            allowDeselect={false}
            error={fe.kind}
          />
          {k.threshold && <NumberInput label={k.threshold} min={0} value={d.threshold} onChange={set("threshold")} error={fe.threshold} />}
          {k.window && <NumberInput label="Window (minutes)" min={1} max={1440} value={d.windowMin} onChange={set("windowMin")} error={fe.window_minutes} />}
          {k.forMinutes && <NumberInput label="For (minutes)" min={0} max={10080} value={d.forMin} onChange={set("forMin")} error={fe.for_minutes} />}
          {k.provider && (
            <Select
              label="Provider"
              searchable
              clearable
              limit={100}
              nothingFoundMessage="No provider by that name"
              // Until the providers are read, an id would show where its name belongs.
              disabled={providers.isPending}
              placeholder={providers.isPending ? "Loading the providers…" : "All providers"}
              description={
                providerGone
                  ? "No provider has this id any more: choose another, or All providers."
                  : providers.isError
                    ? `The providers could not be read: ${problemOf(providers.error).detail}`
                    : undefined
              }
              data={providers.isPending ? [] : providerOptions(providers.data, d.providerId)}
              value={d.providerId || null}
              onChange={(v) => set("providerId")(v ?? "")}
              error={fe.provider_id}
            />
          )}
          <NumberInput
            label="Cooldown (minutes)"
            description="After an alert resolves, the same rule and provider stay quiet this long"
            min={0}
            max={10080}
            value={d.cooldown}
            onChange={set("cooldown")}
            error={fe.cooldown_minutes}
          />
          <MultiSelect
            label="Channels"
            placeholder={d.channelIds.length ? undefined : "Every enabled channel"}
            data={channels.map((c) => ({ value: c.id, label: c.name }))}
            value={d.channelIds}
            onChange={set("channelIds")}
            error={channelError}
          />
          <ProblemAlert
            error={save.error}
            shown={[...ruleFields(k), ...Object.keys(fe).filter((f) => f.startsWith("channel_ids[")).slice(0, 1)]}
            title={rule ? "The rule was not saved" : "The rule was not created"}
          />
          <Group justify="end">
            <Button variant="default" onClick={onClose}>Cancel</Button>
            <Button type="submit" loading={save.isPending}>{rule ? "Save rule" : "Create rule"}</Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

function Channels() {
  const api = useApi();
  const qc = useQueryClient();
  const [editing, setEditing] = useState<Channel | "new" | null>(null);
  const [deleting, setDeleting] = useState<Channel | null>(null);
  const channels = useChannels();
  const test = useMutation({
    mutationFn: async (c: Channel) => ({ c, d: unwrap(await api.POST("/alerts/channels/{id}/test", { params: { path: { id: c.id } } })) }),
    onSuccess: ({ c, d }) => notify(d.ok ? "green" : "red", d.ok ? "The channel accepted it." : d.error ?? "failed", `Test message to ${c.name}`, d.ok ? 4000 : false),
    onSettled: () => qc.invalidateQueries({ queryKey: ["alert-channels"] }),
  });
  const toggle = useMutation({
    mutationFn: async (c: Channel) =>
      unwrap(await api.PATCH("/alerts/channels/{id}", { params: { path: { id: c.id }, header: { "If-Match": etag(c.version) } }, body: { enabled: !c.enabled } })),
    onError: (err, c) => toggleFailed(c.name, !c.enabled, err),
    onSettled: () => qc.invalidateQueries({ queryKey: ["alert-channels"] }),
  });
  return (
    <Stack>
      <Group justify="end">
        <Button onClick={() => setEditing("new")}>New channel</Button>
      </Group>
      <ProblemAlert error={test.error} title="The test message could not be sent" />
      {channels.isPending ? (
        <Loading label="Loading the channels" />
      ) : channels.isError ? (
        <ProblemAlert error={channels.error} title="Could not load the channels" />
      ) : channels.data.items.length === 0 ? (
        <Empty title="No channels yet">Add a webhook, a Slack incoming webhook or an email address to receive alerts.</Empty>
      ) : (
        <Table.ScrollContainer minWidth={820}>
          <Table aria-label="Alert channels" verticalSpacing="xs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Name</Table.Th>
                <Table.Th>Kind</Table.Th>
                <Table.Th>Destination</Table.Th>
                <Table.Th>Secrets</Table.Th>
                <Table.Th>Enabled</Table.Th>
                <Table.Th><VisuallyHidden>Actions</VisuallyHidden></Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {channels.data.items.map((c) => (
                <Table.Tr key={c.id} data-channel={c.name}>
                  <Table.Td>{c.name}</Table.Td>
                  <Table.Td>{c.kind}</Table.Td>
                  <Table.Td>{c.kind === "email" ? `${(c.to ?? []).join(", ")} via ${c.smtp_host}` : c.url ?? "—"}</Table.Td>
                  <Table.Td>
                    {Object.entries(c.secrets).map(([k, v]) => (
                      <Text key={k} size="xs">{k}: {v.set ? `set${v.hint ? ` · ${v.hint}` : ""}` : "not set"}</Text>
                    ))}
                  </Table.Td>
                  <Table.Td>
                    <Switch aria-label={`Enable ${c.name}`} checked={c.enabled} onChange={() => toggle.isPending || toggle.mutate(c)} aria-busy={toggle.isPending && toggle.variables?.id === c.id} />
                  </Table.Td>
                  <Table.Td>
                    <Group gap="xs" wrap="nowrap" justify="end">
                      <Button size="xs" variant="default" onClick={() => test.mutate(c)} loading={test.isPending && test.variables?.id === c.id} aria-label={`Send a test message to ${c.name}`}>
                        Send test
                      </Button>
                      <Button size="xs" variant="default" onClick={() => setEditing(c)} aria-label={`Edit ${c.name}`}>Edit</Button>
                      <Button size="xs" variant="subtle" color="red" onClick={() => setDeleting(c)} aria-label={`Delete ${c.name}`}>Delete</Button>
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {editing && <ChannelForm channel={editing === "new" ? undefined : editing} onClose={() => setEditing(null)} />}
      {deleting && (
        <DeleteDialog
          title={`Delete the channel ${deleting.name}?`}
          remove={async () => unwrap(await api.DELETE("/alerts/channels/{id}", { params: { path: { id: deleting.id }, header: { "If-Match": etag(deleting.version) } } }))}
          onClose={() => setDeleting(null)}
          onDeleted={() => {
            qc.invalidateQueries({ queryKey: ["alert-channels"] });
            qc.invalidateQueries({ queryKey: ["alert-rules"] });
            notify("green", `${deleting.name} deleted`);
            setDeleting(null);
          }}
        >
          Rules that name it no longer send to it; its secrets are deleted with it.
        </DeleteDialog>
      )}
    </Stack>
  );
}

type ChannelKind = Channel["kind"];

/** channelSecret is the one secret of each kind of channel. */
const channelSecret: Record<ChannelKind, { key: string; name: string; optional: boolean }> = {
  webhook: { key: "hmac_secret", name: "HMAC secret", optional: true },
  slack: { key: "url", name: "Slack webhook URL", optional: false },
  email: { key: "password", name: "SMTP password", optional: true },
};

/**
 * SecretChange is what saving does to a channel's secret: keep it, replace
 * it with a typed value, or clear it.
 */
type SecretChange = { mode: "keep" } | { mode: "replace"; value: string } | { mode: "clear" };

/** ChannelDraft is what the channel form holds. */
export interface ChannelDraft {
  name: string;
  kind: ChannelKind;
  url: string;
  smtpHost: string;
  smtpPort: number | string;
  username: string;
  from: string;
  to: string;
  insecureSmtp: boolean;
  secret: SecretChange;
}

/** channelDraft fills the form from a channel (never with a secret: those are write-only). */
export function channelDraft(c?: Channel): ChannelDraft {
  return {
    name: c?.name ?? "",
    kind: c?.kind ?? "webhook",
    url: c?.url ?? "",
    smtpHost: c?.smtp_host ?? "",
    smtpPort: c?.smtp_port ?? 0,
    username: c?.username ?? "",
    from: c?.from ?? "",
    to: (c?.to ?? []).join(", "),
    insecureSmtp: c?.insecure_smtp ?? false,
    secret: c?.secrets[channelSecret[c.kind].key]?.set ? { mode: "keep" } : { mode: "replace", value: "" },
  };
}

const splitList = (s: string) => s.split(",").map((x) => x.trim()).filter(Boolean);

function secretInput(d: ChannelDraft): Schemas["SecretInput"] | undefined {
  const key = channelSecret[d.kind].key;
  if (d.secret.mode === "clear") return { [key]: null };
  if (d.secret.mode === "replace" && d.secret.value) return { [key]: d.secret.value };
  return undefined;
}

/** channelPatch is the merge patch from a channel to the draft: only what changed. */
export function channelPatch(c: Channel, d: ChannelDraft): Schemas["AlertChannelPatch"] {
  const p: Schemas["AlertChannelPatch"] = {};
  if (d.name.trim() !== c.name) p.name = d.name.trim();
  if (c.kind === "webhook" && d.url.trim() !== (c.url ?? "")) p.url = d.url.trim();
  if (c.kind === "email") {
    if (d.smtpHost.trim() !== (c.smtp_host ?? "")) p.smtp_host = d.smtpHost.trim();
    if (Number(d.smtpPort) !== (c.smtp_port ?? 0)) p.smtp_port = Number(d.smtpPort);
    if (d.username.trim() !== (c.username ?? "")) p.username = d.username.trim();
    if (d.from.trim() !== (c.from ?? "")) p.from = d.from.trim();
    const to = splitList(d.to);
    if (to.join("\n") !== (c.to ?? []).join("\n")) p.to = to;
    if (d.insecureSmtp !== (c.insecure_smtp ?? false)) p.insecure_smtp = d.insecureSmtp;
  }
  const secrets = secretInput(d);
  if (secrets) p.secrets = secrets;
  return p;
}

function channelCreate(d: ChannelDraft): Schemas["AlertChannelCreate"] {
  const secrets = secretInput(d);
  return {
    name: d.name.trim(),
    kind: d.kind,
    ...(d.kind === "webhook" ? { url: d.url.trim() } : {}),
    ...(d.kind === "email"
      ? {
          smtp_host: d.smtpHost.trim(),
          ...(Number(d.smtpPort) ? { smtp_port: Number(d.smtpPort) } : {}),
          ...(d.username.trim() ? { username: d.username.trim() } : {}),
          from: d.from.trim(),
          to: splitList(d.to),
          ...(d.insecureSmtp ? { insecure_smtp: true } : {}),
        }
      : {}),
    ...(secrets ? { secrets } : {}),
  };
}

/**
 * ChannelForm creates a channel, or edits one. Its secret is write-only: an
 * existing one shows only as set (with its masked hint) and can be replaced
 * or, when optional, removed; a typed value is forgotten once saved.
 */
export function ChannelForm({ channel, onClose }: { channel?: Channel; onClose(): void }) {
  const api = useApi();
  const qc = useQueryClient();
  const [d, setD] = useState<ChannelDraft>(() => channelDraft(channel));
  const set = <K extends keyof ChannelDraft>(key: K) => (v: ChannelDraft[K]) => setD((o) => ({ ...o, [key]: v }));
  const text = (key: "name" | "url" | "smtpHost" | "username" | "from" | "to") => (e: React.ChangeEvent<HTMLInputElement>) => set(key)(e.currentTarget.value);
  const sec = channelSecret[d.kind];
  const current = channel?.secrets[sec.key];
  const save = useMutation({
    mutationFn: async (): Promise<Channel | null> => {
      if (channel) {
        const body = channelPatch(channel, d);
        if (Object.keys(body).length === 0) return null;
        return unwrap(await api.PATCH("/alerts/channels/{id}", { params: { path: { id: channel.id }, header: { "If-Match": etag(channel.version) } }, body }));
      }
      return unwrap(await api.POST("/alerts/channels", { body: channelCreate(d) }));
    },
    onSuccess: (c) => {
      // The typed secret leaves the page once saved.
      setD((o) => ({ ...o, secret: { mode: "keep" } }));
      if (c) {
        qc.invalidateQueries({ queryKey: ["alert-channels"] });
        notify("green", channel ? "Saved" : "Created", c.name);
      }
      onClose();
    },
  });
  const fe = fieldErrors(save.error instanceof ApiError ? save.error.problem : null);
  const secretField = `secrets.${sec.key}`;
  const shown = ["name", "kind", "url", "smtp_host", "smtp_port", "username", "from", "to", "to[0]", "insecure_smtp"];
  if (d.secret.mode === "replace") shown.push(secretField);
  const newSecretLabel = channel && current?.set ? `New ${sec.name}` : `${sec.name}${sec.optional ? " (optional)" : ""}`;
  return (
    <Modal opened onClose={onClose} title={channel ? `Edit the channel ${channel.name}` : "New alert channel"}>
      <form
        noValidate
        aria-label={channel ? "Edit alert channel" : "New alert channel"}
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate();
        }}
      >
        <Stack>
          <TextInput label="Name" required value={d.name} onChange={text("name")} error={fe.name} data-autofocus />
          {channel ? (
            <Text size="sm">Kind: <b>{channel.kind}</b> <Text span c="dimmed" size="xs">(a channel keeps its kind)</Text></Text>
          ) : (
            <Select
              label="Kind"
              data={[{ value: "webhook", label: "Webhook" }, { value: "slack", label: "Slack" }, { value: "email", label: "Email" }]}
              value={d.kind}
              onChange={(v) => v && setD((o) => ({ ...o, kind: v as ChannelKind, secret: { mode: "replace", value: "" } }))}
              allowDeselect={false}
              error={fe.kind}
            />
          )}
          {d.kind === "webhook" && <TextInput label="URL" required placeholder="https://hooks.example.com/switchyard" value={d.url} onChange={text("url")} error={fe.url} />}
          {d.kind === "email" && (
            <>
              <TextInput label="SMTP host" required value={d.smtpHost} onChange={text("smtpHost")} error={fe.smtp_host} />
              <NumberInput label="SMTP port" description="0 for 587 (STARTTLS)" min={0} max={65535} value={d.smtpPort} onChange={set("smtpPort")} error={fe.smtp_port} />
              <TextInput label="Username" description="For SMTP AUTH, with the password" value={d.username} onChange={text("username")} error={fe.username} autoComplete="off" />
              <TextInput label="From" required value={d.from} onChange={text("from")} error={fe.from} />
              <TextInput label="To" required description="Addresses separated by commas" value={d.to} onChange={text("to")} error={fe.to ?? fe["to[0]"]} />
              <Checkbox
                label="Allow a relay without STARTTLS (private networks only)"
                checked={d.insecureSmtp}
                onChange={(e) => set("insecureSmtp")(e.currentTarget.checked)}
                error={fe.insecure_smtp}
              />
            </>
          )}
          {d.secret.mode === "replace" ? (
            <Group align="end" gap="xs" wrap="nowrap">
              <PasswordInput
                label={newSecretLabel}
                value={d.secret.value}
                onChange={(e) => set("secret")({ mode: "replace", value: e.currentTarget.value })}
                error={fe[secretField]}
                autoComplete="off"
                style={{ flex: 1 }}
              />
              {current?.set && <Button variant="default" onClick={() => set("secret")({ mode: "keep" })}>Keep the current one</Button>}
            </Group>
          ) : (
            <Stack gap={4} data-testid="channel-secret">
              <Text size="sm" fw={500}>{sec.name}</Text>
              <Group gap="sm">
                <Text size="sm">
                  {d.secret.mode === "clear" ? (
                    <Text span c="orange">removed when you save</Text>
                  ) : (
                    <>set{current?.hint ? <> · <code>{current.hint}</code></> : null}</>
                  )}
                </Text>
                {d.secret.mode === "keep" ? (
                  <>
                    <Button size="xs" variant="default" onClick={() => set("secret")({ mode: "replace", value: "" })} aria-label={`Replace the ${sec.name}`}>Replace</Button>
                    {sec.optional && (
                      <Button size="xs" variant="subtle" color="red" onClick={() => set("secret")({ mode: "clear" })} aria-label={`Remove the ${sec.name}`}>Remove</Button>
                    )}
                  </>
                ) : (
                  <Button size="xs" variant="default" onClick={() => set("secret")({ mode: "keep" })}>Keep it</Button>
                )}
              </Group>
            </Stack>
          )}
          <ProblemAlert error={save.error} shown={shown} title={channel ? "The channel was not saved" : "The channel was not created"} />
          <Group justify="end">
            <Button variant="default" onClick={onClose}>Cancel</Button>
            <Button type="submit" loading={save.isPending}>{channel ? "Save channel" : "Create channel"}</Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
