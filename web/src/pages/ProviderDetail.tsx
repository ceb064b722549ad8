import { useEffect, useState } from "react";
import {
  Alert, Anchor, Badge, Button, Card, Checkbox, Group, Modal, NumberInput, PasswordInput, SimpleGrid, Stack, Switch, Table, Text, TextInput, Title,
} from "@mantine/core";
import { notify } from "../components/notify";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Link, useNavigate, useParams, useSearchParams } from "react-router";
import { ApiError, fieldErrors, unwrap, type Model, type Provider, type Schemas } from "../api/client";
import { useApi, useSession } from "../session";
import { Empty, Loading, ProblemAlert } from "../components/States";
import { CapabilityBadges, StatusBadge, price, protocolNames, tokens } from "../components/Badges";
import { Stages } from "../components/Stages";
import { authMethodNames } from "../wizard/auth";
import { useFallbackPolling } from "../live";
import { AuditSection, HealthSection, UsageSection } from "./ProviderActivity";
import { BenchmarkDialog } from "./Benchmark";

const etag = (v: number) => `"${v}"`;

/** BulkError lists the operations of a refused batch that failed. */
class BulkError extends Error {
  failures: string[];
  constructor(failures: string[]) {
    super(failures.join("; "));
    this.failures = failures;
  }
}

/** ProviderDetailPage shows one provider: settings, connectivity, models. */
export default function ProviderDetailPage() {
  const { id = "" } = useParams();
  const api = useApi();
  const { isAdmin } = useSession();
  const provider = useQuery({
    queryKey: ["provider", id],
    queryFn: async () => unwrap(await api.GET("/providers/{id}", { params: { path: { id } } })),
    // Status changes come over the event stream; poll only without it.
    refetchInterval: useFallbackPolling(),
  });

  if (provider.isPending) return <Loading label="Loading the provider" />;
  if (provider.isError) return <ProblemAlert error={provider.error} title="Could not load the provider" />;
  const p = provider.data;
  return (
    <Stack>
      <Anchor component={Link} to="/providers" size="sm">
        ← Providers
      </Anchor>
      <Header p={p} admin={isAdmin} />
      {isAdmin && <Connectivity p={p} />}
      {isAdmin && <Settings p={p} />}
      <HealthSection p={p} admin={isAdmin} />
      <Models p={p} admin={isAdmin} />
      <UsageSection p={p} />
      {isAdmin && <AuditSection p={p} />}
    </Stack>
  );
}

function Header({ p, admin }: { p: Provider; admin: boolean }) {
  const api = useApi();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const [confirm, setConfirm] = useState(false);
  const toggle = useMutation({
    mutationFn: async (on: boolean) =>
      unwrap(on ? await api.POST("/providers/{id}/enable", { params: { path: { id: p.id } } }) : await api.POST("/providers/{id}/disable", { params: { path: { id: p.id } } })),
    onSuccess: (np) => {
      qc.setQueryData(["provider", p.id], np);
      qc.invalidateQueries({ queryKey: ["providers"] });
    },
  });
  const del = useMutation({
    mutationFn: async () => unwrap(await api.DELETE("/providers/{id}", { params: { path: { id: p.id }, header: { "If-Match": etag(p.version) } } })),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: ["providers"] });
      notify("green", `${p.name} deleted`);
      navigate("/providers");
    },
  });
  return (
    <Stack gap="xs">
      <Group justify="space-between">
        <Group>
          <Title order={2}>{p.name}</Title>
          <StatusBadge status={p.enabled ? p.status : "disabled"} />
          {p.system && <Badge variant="outline">system</Badge>}
        </Group>
        {admin && (
          <Group>
            <Switch label="Enabled" checked={p.enabled} disabled={toggle.isPending} onChange={(e) => toggle.mutate(e.currentTarget.checked)} />
            {!p.system && (
              <Button color="red" variant="light" onClick={() => setConfirm(true)}>
                Delete
              </Button>
            )}
          </Group>
        )}
      </Group>
      <Text c="dimmed" size="sm">
        {p.slug} · {protocolNames[p.protocol]} · {p.base_url}
        {p.template && <> · from the {p.template} template</>}
      </Text>
      <ProblemAlert error={toggle.error} title={toggle.variables ? "Could not enable it" : "Could not disable it"} />
      <Modal opened={confirm} onClose={() => setConfirm(false)} title={`Delete ${p.name}?`}>
        <Stack>
          <Text>Its models are deleted with it. Connections that use it keep it from being deleted.</Text>
          <ProblemAlert error={del.error} />
          <Group justify="end">
            <Button variant="default" onClick={() => setConfirm(false)}>Cancel</Button>
            <Button color="red" onClick={() => del.mutate()} loading={del.isPending}>Delete</Button>
          </Group>
        </Stack>
      </Modal>
    </Stack>
  );
}

function Connectivity({ p }: { p: Provider }) {
  const api = useApi();
  const qc = useQueryClient();
  const test = useMutation({
    mutationFn: async () => unwrap(await api.POST("/providers/{id}/test", { params: { path: { id: p.id } } })),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: ["provider", p.id] });
      qc.invalidateQueries({ queryKey: ["providers"] });
    },
  });
  const result = test.data ?? p.last_test;
  return (
    <Card withBorder>
      <Stack>
        <Group justify="space-between">
          <Title order={3} size="h4">Connectivity</Title>
          <Button onClick={() => test.mutate()} loading={test.isPending}>
            Test connection
          </Button>
        </Group>
        {test.isPending ? (
          <Loading label="Testing the connection" />
        ) : result ? (
          <>
            <Text size="xs" c="dimmed">Tested {new Date(result.at).toLocaleString()}</Text>
            <Stages result={result} />
          </>
        ) : (
          <Text c="dimmed">Not tested yet.</Text>
        )}
        <ProblemAlert error={test.error} title="The test could not run" />
      </Stack>
    </Card>
  );
}

type CredInput = Schemas["CredentialInput"];

function Settings({ p }: { p: Provider }) {
  const api = useApi();
  const qc = useQueryClient();
  const [name, setName] = useState(p.name);
  const [baseUrl, setBaseUrl] = useState(p.base_url);
  const [timeout, setTimeout_] = useState<number | string>(p.settings.timeout_ms ?? 0);
  const [retries, setRetries] = useState<number | string>(p.settings.max_retries ?? 0);
  // replaced[credential index][secret name] = the new value, typed by the admin.
  const [replaced, setReplaced] = useState<Record<number, Record<string, string>>>({});
  const [editing, setEditing] = useState<Record<string, boolean>>({});

  // A saved change (a new version) resets the form; a background refresh of
  // the status does not touch what is being typed.
  useEffect(() => {
    setName(p.name);
    setBaseUrl(p.base_url);
    setTimeout_(p.settings.timeout_ms ?? 0);
    setRetries(p.settings.max_retries ?? 0);
  }, [p.id, p.version]);

  const save = useMutation({
    mutationFn: async () => {
      const credentials: CredInput[] | undefined = Object.keys(replaced).length
        ? (p.credentials ?? []).map((c, i) => ({ id: c.id, name: c.name, method: c.method, config: c.config, weight: c.weight, status: c.status, models: c.models, ...(replaced[i] ? { secrets: replaced[i] } : {}) }))
        : undefined;
      return unwrap(
        await api.PATCH("/providers/{id}", {
          params: { path: { id: p.id }, header: { "If-Match": etag(p.version) } },
          body: {
            ...(name !== p.name ? { name } : {}),
            ...(baseUrl !== p.base_url ? { base_url: baseUrl } : {}),
            settings: { ...p.settings, timeout_ms: Number(timeout) || 0, max_retries: Number(retries) || 0 },
            ...(credentials ? { credentials } : {}),
          },
        }),
      );
    },
    onSuccess: (np) => {
      // The typed secrets leave the page once saved.
      setReplaced({});
      setEditing({});
      qc.setQueryData(["provider", p.id], np);
      qc.invalidateQueries({ queryKey: ["providers"] });
      notify("green", "Settings saved");
    },
  });
  const fe = save.error instanceof ApiError ? fieldErrors(save.error.problem) : {};
  const shown = ["name", "base_url", "settings.timeout_ms", "settings.max_retries"];

  return (
    <Card withBorder component="form" onSubmit={(e: React.FormEvent) => { e.preventDefault(); save.mutate(); }} aria-label="Settings">
      <Stack>
        <Title order={3} size="h4">Settings</Title>
        <SimpleGrid cols={{ base: 1, md: 2 }}>
          <TextInput label="Name" value={name} onChange={(e) => setName(e.currentTarget.value)} error={fe.name} />
          <TextInput label="Base URL" value={baseUrl} onChange={(e) => setBaseUrl(e.currentTarget.value)} error={fe.base_url} disabled={p.system} />
          <NumberInput label="Timeout (ms)" description="0 for the default (60000)" min={0} value={timeout} onChange={setTimeout_} error={fe["settings.timeout_ms"]} />
          <NumberInput label="Retries" min={0} max={10} value={retries} onChange={setRetries} error={fe["settings.max_retries"]} />
        </SimpleGrid>
        <Title order={4} size="h5">Credentials</Title>
        {(p.credentials ?? []).length === 0 && <Text c="dimmed">No credentials.</Text>}
        {(p.credentials ?? []).map((c, i) => (
          <Stack key={c.id} gap="xs">
            <Text size="sm" fw={500}>
              {c.name} · {authMethodNames[c.method]} · {c.status}
            </Text>
            {Object.entries(c.secrets).map(([k, v]) => {
              const key = `${i}.${k}`;
              const field = `credentials[${i}].secrets.${k}`;
              shown.push(field);
              return editing[key] ? (
                <PasswordInput
                  key={k}
                  label={`New ${k}`}
                  autoComplete="off"
                  value={replaced[i]?.[k] ?? ""}
                  error={fe[field]}
                  onChange={(e) => {
                    const val = e.currentTarget.value;
                    setReplaced((r) => ({ ...r, [i]: { ...(r[i] ?? {}), [k]: val } }));
                  }}
                />
              ) : (
                <Group key={k} gap="sm">
                  <Text size="sm">
                    <code>{k}</code>: {v.set ? <>set{v.hint ? <> · <code>{v.hint}</code></> : null}</> : <Text span c="red">not set</Text>}
                  </Text>
                  <Button size="xs" variant="default" onClick={() => setEditing((e) => ({ ...e, [key]: true }))} aria-label={`Replace ${k} of ${c.name}`}>
                    Replace
                  </Button>
                </Group>
              );
            })}
          </Stack>
        ))}
        <ProblemAlert error={save.error} shown={shown} title="Could not save" />
        <Group>
          <Button type="submit" loading={save.isPending}>Save settings</Button>
        </Group>
      </Stack>
    </Card>
  );
}

function Models({ p, admin }: { p: Provider; admin: boolean }) {
  const api = useApi();
  const qc = useQueryClient();
  const [params, setParams] = useSearchParams();
  const [adding, setAdding] = useState(false);
  const [discovering, setDiscovering] = useState(params.get("discover") === "1" && admin);
  const [testing, setTesting] = useState<Model | null>(null);
  const [benching, setBenching] = useState<Model | null>(null);
  const models = useQuery({
    queryKey: ["models", p.id],
    queryFn: async () => unwrap(await api.GET("/providers/{id}/models", { params: { path: { id: p.id }, query: { limit: 1000 } } })),
  });
  const del = useMutation({
    mutationFn: async (m: Model) => unwrap(await api.DELETE("/models/{id}", { params: { path: { id: m.id }, header: { "If-Match": etag(m.version) } } })),
    onSuccess: (_, m) => {
      notify("green", `${m.upstream_id} deleted`);
      qc.invalidateQueries({ queryKey: ["models", p.id] });
    },
  });
  const [selected, setSelected] = useState<Set<string>>(new Set());
  const [bulkFailures, setBulkFailures] = useState<string[]>([]);
  const bulk = useMutation({
    mutationFn: async (action: "enable" | "disable" | "delete") => {
      const chosen = (models.data?.items ?? []).filter((m) => selected.has(m.id));
      const operations: Schemas["BulkModelOperation"][] = chosen.map((m) =>
        action === "delete" ? { op: "delete", id: m.id, version: m.version } : { op: "update", id: m.id, version: m.version, patch: { enabled: action === "enable" } },
      );
      const res = await api.POST("/providers/{id}/models/bulk", { params: { path: { id: p.id } }, body: { operations } });
      if (res.response.ok) return chosen.length;
      // Nothing was applied: name each operation that failed.
      const err = res.error as Schemas["BulkModelsResult"] | Schemas["Problem"] | undefined;
      if (err && "results" in err) {
        throw new BulkError(
          err.results.filter((r) => r.status === "error").map((r) => `${chosen[r.index]?.upstream_id ?? r.id}: ${r.error?.detail ?? "failed"}`),
        );
      }
      return unwrap(res) as never;
    },
    onMutate: () => setBulkFailures([]),
    onSuccess: (n, action) => {
      notify("green", `${n} model${n === 1 ? "" : "s"} ${action === "delete" ? "deleted" : `${action}d`}`);
      setSelected(new Set());
      qc.invalidateQueries({ queryKey: ["models", p.id] });
    },
    onError: (e) => {
      if (e instanceof BulkError) setBulkFailures(e.failures);
    },
  });
  const closeDiscover = () => {
    setDiscovering(false);
    if (params.has("discover")) {
      params.delete("discover");
      setParams(params, { replace: true });
    }
  };
  const items = models.data?.items ?? [];
  return (
    <Card withBorder>
      <Stack>
        <Group justify="space-between">
          <Title order={3} size="h4">Models</Title>
          {admin && (
            <Group>
              <Button variant="default" onClick={() => setDiscovering(true)}>Discover models</Button>
              <Button onClick={() => setAdding(true)}>Add model</Button>
            </Group>
          )}
        </Group>
        <ProblemAlert error={del.error} title="Could not delete the model" />
        {admin && selected.size > 0 && (
          <Group role="toolbar" aria-label="Bulk model actions">
            <Text size="sm">{selected.size} selected</Text>
            <Button size="xs" onClick={() => bulk.mutate("enable")} loading={bulk.isPending && bulk.variables === "enable"}>Enable selected</Button>
            <Button size="xs" variant="default" onClick={() => bulk.mutate("disable")} loading={bulk.isPending && bulk.variables === "disable"}>Disable selected</Button>
            <Button size="xs" color="red" variant="light" onClick={() => bulk.mutate("delete")} loading={bulk.isPending && bulk.variables === "delete"}>Delete selected</Button>
          </Group>
        )}
        {bulkFailures.length > 0 && (
          <Alert color="red" title="Nothing was changed" role="alert">
            {bulkFailures.map((f) => (
              <Text key={f} size="sm">{f}</Text>
            ))}
          </Alert>
        )}
        {!(bulk.error instanceof BulkError) && <ProblemAlert error={bulk.error} title="Could not change the models" />}
        {models.isPending ? (
          <Loading label="Loading models" />
        ) : models.isError ? (
          <ProblemAlert error={models.error} title="Could not load the models" />
        ) : items.length === 0 ? (
          <Empty title="No models yet">{admin ? "Discover them from the provider's list, or add one by hand." : "An administrator has not added any."}</Empty>
        ) : (
          <Table.ScrollContainer minWidth={820}>
            <Table striped aria-label="Models">
              <Table.Thead>
                <Table.Tr>
                  {admin && (
                    <Table.Th w={40}>
                      <Checkbox
                        aria-label="Select all models"
                        checked={items.length > 0 && items.every((m) => selected.has(m.id))}
                        indeterminate={selected.size > 0 && !items.every((m) => selected.has(m.id))}
                        onChange={() => setSelected(items.every((m) => selected.has(m.id)) ? new Set() : new Set(items.map((m) => m.id)))}
                      />
                    </Table.Th>
                  )}
                  <Table.Th>Model</Table.Th>
                  <Table.Th>Status</Table.Th>
                  <Table.Th>Context</Table.Th>
                  <Table.Th>Capabilities</Table.Th>
                  <Table.Th>Input / output per 1M</Table.Th>
                  {admin && <Table.Th>Actions</Table.Th>}
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {items.map((m) => (
                  <Table.Tr key={m.id} data-model={m.upstream_id}>
                    {admin && (
                      <Table.Td>
                        <Checkbox
                          aria-label={`Select ${m.upstream_id}`}
                          checked={selected.has(m.id)}
                          onChange={() =>
                            setSelected((s) => {
                              const n = new Set(s);
                              if (n.has(m.id)) n.delete(m.id);
                              else n.add(m.id);
                              return n;
                            })
                          }
                        />
                      </Table.Td>
                    )}
                    <Table.Td>
                      <Text size="sm" fw={500}>{m.display_name || m.upstream_id}</Text>
                      <Text size="xs" c="dimmed">
                        {m.upstream_id}
                        {m.aliases.length ? ` · aliases: ${m.aliases.join(", ")}` : ""}
                        {m.enabled ? "" : " · disabled"}
                      </Text>
                    </Table.Td>
                    <Table.Td>
                      <Badge variant="light" color={m.status === "available" ? "green" : m.status === "unavailable" ? "red" : "gray"}>{m.status}</Badge>
                    </Table.Td>
                    <Table.Td>{tokens(m.capabilities.context_window)}</Table.Td>
                    <Table.Td><CapabilityBadges model={m} /></Table.Td>
                    <Table.Td>{price(m.pricing.input_per_mtok)} / {price(m.pricing.output_per_mtok)}</Table.Td>
                    {admin && (
                      <Table.Td>
                        <Group gap="xs" wrap="nowrap">
                          <Button size="xs" variant="default" onClick={() => setTesting(m)} aria-label={`Test ${m.upstream_id}`}>Test</Button>
                          <Button size="xs" variant="default" onClick={() => setBenching(m)} aria-label={`Benchmark ${m.upstream_id}`}>Benchmark</Button>
                          <Button size="xs" variant="subtle" color="red" onClick={() => del.mutate(m)} loading={del.isPending && del.variables?.id === m.id} aria-label={`Delete ${m.upstream_id}`}>
                            Delete
                          </Button>
                        </Group>
                      </Table.Td>
                    )}
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </Table.ScrollContainer>
        )}
      </Stack>
      {admin && <AddModel providerId={p.id} opened={adding} onClose={() => setAdding(false)} />}
      {admin && discovering && <Discover providerId={p.id} onClose={closeDiscover} />}
      {admin && testing && <ModelTest model={testing} onClose={() => setTesting(null)} />}
      {admin && benching && <BenchmarkDialog model={benching} onClose={() => setBenching(null)} />}
    </Card>
  );
}

/** AddModelForm adds one model by hand; the API's field errors show beside the fields. */
export function AddModelForm({ providerId, onDone }: { providerId: string; onDone(m: Model): void }) {
  const api = useApi();
  const [upstream, setUpstream] = useState("");
  const [display, setDisplay] = useState("");
  const [input, setInput] = useState<number | string>("");
  const [output, setOutput] = useState<number | string>("");
  const [missing, setMissing] = useState<string | undefined>();
  const add = useMutation({
    mutationFn: async () => {
      const priced = input !== "" || output !== "";
      return unwrap(
        await api.POST("/providers/{id}/models", {
          params: { path: { id: providerId } },
          body: {
            upstream_id: upstream.trim(),
            ...(display.trim() ? { display_name: display.trim() } : {}),
            ...(priced ? { pricing: { input_per_mtok: Number(input) || 0, output_per_mtok: Number(output) || 0 } } : {}),
          },
        }),
      );
    },
    onSuccess: onDone,
  });
  const fe = add.error instanceof ApiError ? fieldErrors(add.error.problem) : {};
  return (
    <form
      noValidate
      onSubmit={(e) => {
        e.preventDefault();
        if (!upstream.trim()) {
          setMissing("Upstream model id is required");
          return;
        }
        setMissing(undefined);
        add.mutate();
      }}
    >
      <Stack>
        <TextInput label="Upstream model id" description="The id the provider knows it by, such as gpt-4o-mini" required value={upstream} onChange={(e) => setUpstream(e.currentTarget.value)} error={missing ?? fe.upstream_id} data-autofocus />
        <TextInput label="Display name" value={display} onChange={(e) => setDisplay(e.currentTarget.value)} error={fe.display_name} />
        <Group grow>
          <NumberInput label="Input $ per 1M tokens" min={0} decimalScale={4} value={input} onChange={setInput} error={fe["pricing.input_per_mtok"]} />
          <NumberInput label="Output $ per 1M tokens" min={0} decimalScale={4} value={output} onChange={setOutput} error={fe["pricing.output_per_mtok"]} />
        </Group>
        <ProblemAlert error={add.error} shown={["upstream_id", "display_name", "pricing.input_per_mtok", "pricing.output_per_mtok"]} title="Could not add the model" />
        <Group justify="end">
          <Button type="submit" loading={add.isPending}>Add model</Button>
        </Group>
      </Stack>
    </form>
  );
}

function AddModel({ providerId, opened, onClose }: { providerId: string; opened: boolean; onClose(): void }) {
  const qc = useQueryClient();
  return (
    <Modal opened={opened} onClose={onClose} title="Add a model">
      {opened && (
        <AddModelForm
          providerId={providerId}
          onDone={(m) => {
            notify("green", `${m.upstream_id} added`);
            qc.invalidateQueries({ queryKey: ["models", providerId] });
            onClose();
          }}
        />
      )}
    </Modal>
  );
}

function Discover({ providerId, onClose }: { providerId: string; onClose(): void }) {
  const api = useApi();
  const qc = useQueryClient();
  const [chosen, setChosen] = useState<string[]>([]);
  const found = useQuery({
    queryKey: ["discover", providerId],
    queryFn: async () => unwrap(await api.POST("/providers/{id}/discover-models", { params: { path: { id: providerId } } })),
    staleTime: 0,
    gcTime: 0,
  });
  const imp = useMutation({
    mutationFn: async () => unwrap(await api.POST("/providers/{id}/discover-models/import", { params: { path: { id: providerId } }, body: { upstream_ids: chosen } })),
    onSuccess: (r) => {
      notify("green", `${r.created?.length ?? 0} model${r.created?.length === 1 ? "" : "s"} added`);
      qc.invalidateQueries({ queryKey: ["models", providerId] });
      onClose();
    },
  });
  const fresh = found.data?.new ?? [];
  const all = fresh.length > 0 && fresh.every((m) => chosen.includes(m.upstream_id));
  return (
    <Modal opened onClose={onClose} title="Models the provider lists" size="xl">
      <Stack>
        {found.isPending ? (
          <Loading label="Reading the provider's model list" />
        ) : found.isError ? (
          <ProblemAlert error={found.error} title="Could not read the model list" />
        ) : fresh.length === 0 ? (
          <Empty title="Nothing new">Every model the provider lists is added already ({found.data.unchanged.length}).</Empty>
        ) : (
          <>
            <Text size="sm">
              {fresh.length} new · {found.data.unchanged.length} already added · {found.data.missing.length} added but no longer listed
            </Text>
            <Table aria-label="Discovered models" striped>
              <Table.Thead>
                <Table.Tr>
                  <Table.Th w={40}>
                    <Checkbox aria-label="Choose every new model" checked={all} indeterminate={!all && chosen.length > 0} onChange={() => setChosen(all ? [] : fresh.map((m) => m.upstream_id))} />
                  </Table.Th>
                  <Table.Th>Model</Table.Th>
                  <Table.Th>Capabilities</Table.Th>
                  <Table.Th>Input / output per 1M</Table.Th>
                </Table.Tr>
              </Table.Thead>
              <Table.Tbody>
                {fresh.map((m) => (
                  <Table.Tr key={m.upstream_id}>
                    <Table.Td>
                      <Checkbox
                        aria-label={`Add ${m.upstream_id}`}
                        checked={chosen.includes(m.upstream_id)}
                        onChange={() => setChosen((c) => (c.includes(m.upstream_id) ? c.filter((x) => x !== m.upstream_id) : [...c, m.upstream_id]))}
                      />
                    </Table.Td>
                    <Table.Td>
                      <Text size="sm">{m.display_name || m.upstream_id}</Text>
                      <Text size="xs" c="dimmed">{m.upstream_id}{m.catalog_template ? ` · catalog: ${m.catalog_template}` : ""}</Text>
                    </Table.Td>
                    <Table.Td><CapabilityBadges model={m} /></Table.Td>
                    <Table.Td>{price(m.pricing.input_per_mtok)} / {price(m.pricing.output_per_mtok)}</Table.Td>
                  </Table.Tr>
                ))}
              </Table.Tbody>
            </Table>
          </>
        )}
        <ProblemAlert error={imp.error} title="Could not add the models" />
        <Group justify="end">
          <Button variant="default" onClick={onClose}>Close</Button>
          <Button onClick={() => imp.mutate()} disabled={chosen.length === 0} loading={imp.isPending}>
            Add {chosen.length || ""} model{chosen.length === 1 ? "" : "s"}
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

function ModelTest({ model, onClose }: { model: Model; onClose(): void }) {
  const api = useApi();
  const qc = useQueryClient();
  const test = useMutation({
    mutationFn: async () => unwrap(await api.POST("/models/{id}/test", { params: { path: { id: model.id } } })),
    onSettled: () => qc.invalidateQueries({ queryKey: ["models", model.provider_id] }),
  });
  useEffect(() => {
    test.mutate();
  }, [model.id]);
  const r = test.data;
  return (
    <Modal opened onClose={onClose} title={`Test ${model.upstream_id}`} size="lg">
      <Stack aria-live="polite" data-testid="model-test">
        {test.isPending && <Loading label="Calling the model" />}
        <ProblemAlert error={test.error} title="The test could not run" />
        {r && (
          <>
            <Badge color={r.ok ? "green" : "red"} size="lg" variant="filled">
              {r.ok ? "The model answered" : `Failed: ${r.code ?? "error"}`}
            </Badge>
            {r.message && <Text size="sm">{r.message}</Text>}
            <Text size="sm">
              Latency {r.latency_ms} ms{r.ttft_ms !== undefined ? ` · first token ${r.ttft_ms} ms` : ""}
              {r.output_tokens !== undefined ? ` · ${r.input_tokens ?? 0} in / ${r.output_tokens} out tokens` : ""}
            </Text>
            {r.checks && (
              <Table aria-label="Capability checks">
                <Table.Thead>
                  <Table.Tr>
                    <Table.Th>Capability</Table.Th>
                    <Table.Th>Declared</Table.Th>
                    <Table.Th>Result</Table.Th>
                  </Table.Tr>
                </Table.Thead>
                <Table.Tbody>
                  {r.checks.map((c) => (
                    <Table.Tr key={c.name}>
                      <Table.Td>{c.name}</Table.Td>
                      <Table.Td>{c.declared ? "yes" : "no"}</Table.Td>
                      <Table.Td>
                        <Badge variant="light" color={c.result === "verified" ? "green" : c.result === "unsupported" ? "red" : "gray"}>{c.result}</Badge>
                        {c.message && <Text size="xs" c="dimmed">{c.message}</Text>}
                      </Table.Td>
                    </Table.Tr>
                  ))}
                </Table.Tbody>
              </Table>
            )}
          </>
        )}
        <Group justify="end">
          <Button variant="default" onClick={() => test.mutate()} loading={test.isPending}>Test again</Button>
          <Button onClick={onClose}>Close</Button>
        </Group>
      </Stack>
    </Modal>
  );
}
