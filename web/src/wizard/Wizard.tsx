import { useEffect, useReducer, useState } from "react";
import {
  Alert, Anchor, Badge, Button, Card, Checkbox, Group, PasswordInput, Select, SimpleGrid, Stack, Stepper, Table, Text, Textarea, TextInput, Title,
} from "@mantine/core";
import { useMutation, useQuery } from "@tanstack/react-query";
import { useNavigate } from "react-router";
import { ApiError, fieldErrors, unwrap, type Schemas, type Template } from "../api/client";
import { useApi } from "../session";
import { Empty, Loading, ProblemAlert } from "../components/States";
import { CapabilityBadges, price, protocolNames, tokens } from "../components/Badges";
import { Stages } from "../components/Stages";
import { authFields, authMethodNames } from "./auth";
import { paramFields, paramValue } from "./schema";
import { initialState, localField, reducer, stepErrors, stepOf, steps, type Step, type WizardState } from "./state";

type Preview = Schemas["InstantiateResult"];

/** WizardPage walks an admin from a template to a saved, tested provider. */
export default function WizardPage() {
  const api = useApi();
  const navigate = useNavigate();
  const [s, dispatch] = useReducer(reducer, initialState);
  const [server, setServer] = useState<{ error: unknown; fields: Record<string, string> }>({ error: null, fields: {} });
  const [preview, setPreview] = useState<Preview | null>(null);
  const [discoverAfter, setDiscoverAfter] = useState(true);

  const local = s.showErrors ? stepErrors(s) : {};
  const errorOf = (field: string) => local[field] ?? server.fields[field];
  const clearServer = (field?: string) =>
    setServer((v) => (field ? { ...v, fields: Object.fromEntries(Object.entries(v.fields).filter(([k]) => k !== field)) } : { error: null, fields: {} }));

  const fail = (err: unknown) => {
    const p = err instanceof ApiError ? err.problem : null;
    const fields: Record<string, string> = {};
    for (const [k, v] of Object.entries(fieldErrors(p))) fields[localField(k)] = v;
    setServer({ error: err, fields });
    const first = Object.keys(fields)[0];
    if (first && stepOf(first) < s.step) dispatch({ type: "goto", step: stepOf(first) });
  };

  // The configuration as POST /providers and /connectivity-tests take it.
  const providerBody = (): Schemas["ProviderCreate"] => {
    const p = preview?.provider;
    const cred = p?.credentials?.[0];
    const secrets = Object.fromEntries(Object.entries(s.secrets).filter(([, v]) => v !== ""));
    return {
      name: s.name.trim(),
      slug: s.slug,
      protocol: p?.protocol ?? s.protocol,
      base_url: p?.base_url ?? s.baseUrl.trim(),
      ...(s.template ? { template: s.template.slug, params: p?.params ?? s.params } : {}),
      credentials:
        s.authMethod === "none" && !cred
          ? []
          : [{ name: cred?.name ?? "default", method: cred?.method ?? s.authMethod, config: { ...(cred?.config ?? {}), ...(s.blank ? s.config : {}) }, secrets }],
      headers: s.template?.headers ?? {},
      ...(p?.settings ? { settings: p.settings } : {}),
    };
  };

  const previewReq = useMutation({
    mutationFn: async () => {
      const t = s.template!;
      const params = Object.fromEntries(
        paramFields(t.parameters)
          .filter((f) => (s.params[f.name] ?? "") !== "")
          .map((f) => [f.name, paramValue(f, s.params[f.name])]),
      );
      return unwrap(await api.POST("/templates/{id}/preview", { params: { path: { id: t.id } }, body: { name: s.name.trim(), slug: s.slug, params } }));
    },
  });

  const testReq = useMutation({
    mutationFn: async () => unwrap(await api.POST("/connectivity-tests", { body: providerBody() })),
    onSuccess: (r) => dispatch({ type: "test", result: r }),
    onError: fail,
  });

  const save = useMutation({
    mutationFn: async () => {
      if (s.template) {
        const r = unwrap(
          await api.POST("/templates/{id}/instantiate", {
            params: { path: { id: s.template.id } },
            body: {
              name: s.name.trim(),
              slug: s.slug,
              params: preview?.provider.params ?? s.params,
              secrets: Object.fromEntries(Object.entries(s.secrets).filter(([, v]) => v !== "")),
              ...(s.models.length ? { models: s.models } : {}),
              enabled: s.enable,
            },
          }),
        );
        return r.provider;
      }
      return unwrap(await api.POST("/providers", { body: { ...providerBody(), enabled: s.enable } }));
    },
    onSuccess: (p) => {
      const discover = s.models.length === 0 && discoverAfter;
      navigate(`/providers/${p.id}${discover ? "?discover=1" : ""}`);
    },
    onError: fail,
  });

  const next = async () => {
    clearServer();
    if (Object.keys(stepErrors(s)).length > 0) {
      dispatch({ type: "next" });
      return;
    }
    // Leaving the parameters: the server resolves the template (and checks the
    // parameters against its schema) before anything is tested.
    if (s.step === 1 && s.template) {
      try {
        setPreview(await previewReq.mutateAsync());
      } catch (e) {
        fail(e);
        return;
      }
    }
    if (s.step === 1 && s.blank) setPreview(null);
    dispatch({ type: "next" });
  };

  // The connectivity test runs when its step opens and there is no result for
  // the current input (any change to parameters or credentials clears it).
  useEffect(() => {
    if (s.step === 3 && !s.test && !testReq.isPending) testReq.mutate();
  }, [s.step]);

  return (
    <Stack maw={960}>
      <Title order={2}>Add a provider</Title>
      <Stepper active={s.step} onStepClick={(i) => i < s.step && dispatch({ type: "goto", step: i as Step })} size="sm" allowNextStepsSelect={false}>
        {steps.map((label) => (
          <Stepper.Step key={label} label={label} />
        ))}
      </Stepper>
      <section aria-label={`Step ${s.step + 1} of ${steps.length}: ${steps[s.step]}`}>
        {s.step === 0 && <TemplateStep s={s} onTemplate={(t) => { clearServer(); dispatch({ type: "template", template: t }); }} onBlank={() => dispatch({ type: "blank" })} error={local.template} />}
        {s.step === 1 && <ParamsStep s={s} dispatch={dispatch} errorOf={errorOf} clear={clearServer} />}
        {s.step === 2 && <CredentialsStep s={s} dispatch={dispatch} errorOf={errorOf} clear={clearServer} />}
        {s.step === 3 && (
          <Stack>
            <Text>Switchyard connects to the provider with these settings; nothing is saved yet.</Text>
            {testReq.isPending ? <Loading label="Testing the connection" /> : s.test ? <Stages result={s.test} /> : null}
            <Group>
              <Button variant="default" onClick={() => testReq.mutate()} loading={testReq.isPending}>
                Run the test again
              </Button>
            </Group>
            {s.test && !s.test.ok && (
              <Alert color="yellow" title="The test failed">
                Go back to fix the parameters or credentials, or continue and fix the provider later.
              </Alert>
            )}
          </Stack>
        )}
        {s.step === 4 && <ModelsStep s={s} preview={preview} dispatch={dispatch} error={local.models} discoverAfter={discoverAfter} setDiscoverAfter={setDiscoverAfter} />}
        {s.step === 5 && <ReviewStep s={s} preview={preview} dispatch={dispatch} discoverAfter={discoverAfter} />}
      </section>
      <ProblemAlert error={server.error} shown={Object.keys(server.fields).filter((k) => stepOf(k) === s.step)} title="The server refused this" />
      <Group justify="space-between">
        <Button variant="default" onClick={() => { clearServer(); dispatch({ type: "back" }); }} disabled={s.step === 0}>
          Back
        </Button>
        {s.step < 5 ? (
          s.step > 0 && (
            <Button onClick={next} loading={previewReq.isPending}>
              Next
            </Button>
          )
        ) : (
          <Button onClick={() => save.mutate()} loading={save.isPending}>
            Save provider
          </Button>
        )}
      </Group>
    </Stack>
  );
}

function TemplateStep({ s, onTemplate, onBlank, error }: { s: WizardState; onTemplate(t: Template): void; onBlank(): void; error?: string }) {
  const api = useApi();
  const [q, setQ] = useState("");
  const list = useQuery({
    queryKey: ["templates"],
    queryFn: async () => unwrap(await api.GET("/templates", { params: { query: { limit: 500 } } })),
  });
  const items = (list.data?.items ?? []).filter((t) => !q || `${t.name} ${t.slug} ${t.description}`.toLowerCase().includes(q.toLowerCase()));
  return (
    <Stack>
      <Group align="end">
        <TextInput label="Search templates" value={q} onChange={(e) => setQ(e.currentTarget.value)} w={280} />
        <Button variant="default" onClick={onBlank}>
          Start blank
        </Button>
      </Group>
      {error && <Text c="red" role="alert">{error}</Text>}
      {list.isPending ? (
        <Loading label="Loading templates" />
      ) : list.isError ? (
        <ProblemAlert error={list.error} title="Could not load the templates" />
      ) : items.length === 0 ? (
        <Empty title="No template matches">Start blank to enter the endpoint by hand.</Empty>
      ) : (
        <SimpleGrid cols={{ base: 1, sm: 2, md: 3 }} role="list" aria-label="Templates">
          {items.map((t) => (
            <Card key={t.id} withBorder role="listitem" padding="md" bg={s.template?.id === t.id ? "var(--mantine-primary-color-light)" : undefined}>
              <Stack gap={6} h="100%">
                <Group justify="space-between" wrap="nowrap">
                  <Text fw={600}>{t.name}</Text>
                  {t.system ? <Badge size="xs" variant="outline">system</Badge> : <Badge size="xs">custom</Badge>}
                </Group>
                <Text size="xs" c="dimmed">
                  {protocolNames[t.protocol]} · {authMethodNames[t.auth_method]} · {t.models.length} models
                </Text>
                <Text size="sm" lineClamp={3} style={{ flexGrow: 1 }}>{t.description}</Text>
                <Button size="xs" onClick={() => onTemplate(t)} aria-label={`Use the ${t.name} template`}>
                  Use this template
                </Button>
              </Stack>
            </Card>
          ))}
        </SimpleGrid>
      )}
    </Stack>
  );
}

type Dispatch = React.Dispatch<import("./state").Action>;
interface FieldProps {
  s: WizardState;
  dispatch: Dispatch;
  errorOf(field: string): string | undefined;
  clear(field?: string): void;
}

function ParamsStep({ s, dispatch, errorOf, clear }: FieldProps) {
  const fields = s.template ? paramFields(s.template.parameters) : [];
  return (
    <Stack maw={560}>
      {s.template ? (
        <Text>
          From the <b>{s.template.name}</b> template.{" "}
          {s.template.docs_url && (
            <Anchor href={s.template.docs_url} target="_blank" rel="noreferrer">
              Provider documentation
            </Anchor>
          )}
        </Text>
      ) : (
        <Text>A provider from scratch: give its protocol and address.</Text>
      )}
      <TextInput label="Name" required value={s.name} error={errorOf("name")} onChange={(e) => { clear("name"); dispatch({ type: "field", field: "name", value: e.currentTarget.value }); }} />
      <TextInput
        label="Slug"
        description="Used in model names such as slug/model-id"
        required
        value={s.slug}
        error={errorOf("slug")}
        onChange={(e) => { clear("slug"); dispatch({ type: "field", field: "slug", value: e.currentTarget.value }); }}
      />
      {s.blank && (
        <>
          <Select
            label="Protocol"
            required
            allowDeselect={false}
            data={Object.entries(protocolNames).map(([value, label]) => ({ value, label }))}
            value={s.protocol}
            error={errorOf("protocol")}
            onChange={(v) => v && dispatch({ type: "protocol", value: v as Schemas["Protocol"] })}
          />
          <TextInput
            label="Base URL"
            required
            placeholder="https://llm.example.com/v1"
            value={s.baseUrl}
            error={errorOf("base_url")}
            onChange={(e) => { clear("base_url"); dispatch({ type: "field", field: "baseUrl", value: e.currentTarget.value }); }}
          />
        </>
      )}
      {fields.map((f) => {
        const err = errorOf(`params.${f.name}`);
        const onValue = (v: string) => { clear(`params.${f.name}`); dispatch({ type: "param", name: f.name, value: v }); };
        return f.enum || f.type === "boolean" ? (
          <Select
            key={f.name}
            label={f.title}
            description={f.description}
            required={f.required}
            clearable={!f.required}
            data={f.enum ?? ["true", "false"]}
            value={s.params[f.name] ?? null}
            error={err}
            onChange={(v) => onValue(v ?? "")}
          />
        ) : (
          <TextInput
            key={f.name}
            label={f.title}
            description={f.description}
            required={f.required}
            placeholder={f.example}
            value={s.params[f.name] ?? ""}
            error={err}
            inputMode={f.type === "string" ? undefined : "decimal"}
            onChange={(e) => onValue(e.currentTarget.value)}
          />
        );
      })}
    </Stack>
  );
}

function CredentialsStep({ s, dispatch, errorOf, clear }: FieldProps) {
  const fields = authFields(s.authMethod).filter((f) => f.secret || s.blank);
  return (
    <Stack maw={560}>
      {s.blank ? (
        <Select
          label="Authentication"
          allowDeselect={false}
          data={Object.entries(authMethodNames).map(([value, label]) => ({ value, label }))}
          value={s.authMethod}
          onChange={(v) => v && dispatch({ type: "authMethod", value: v as Schemas["AuthMethod"] })}
        />
      ) : (
        <Text>
          Authentication: <b>{authMethodNames[s.authMethod]}</b>
          {s.template?.env_vars?.length ? <Text span c="dimmed" size="sm"> (often found in {s.template.env_vars.join(", ")})</Text> : null}
        </Text>
      )}
      {fields.length === 0 && <Text c="dimmed">This method needs no credentials.</Text>}
      {fields.map((f) => {
        const key = `${f.secret ? "secrets" : "config"}.${f.key}`;
        const value = (f.secret ? s.secrets[f.key] : s.config[f.key]) ?? "";
        const onChange = (v: string) => { clear(key); dispatch({ type: f.secret ? "secret" : "config", name: f.key, value: v }); };
        if (f.multiline) {
          return <Textarea key={key} label={f.label} required={f.required} autosize minRows={4} value={value} error={errorOf(key)} onChange={(e) => onChange(e.currentTarget.value)} />;
        }
        return f.secret ? (
          <PasswordInput key={key} label={f.label} required={f.required} autoComplete="off" value={value} error={errorOf(key)} onChange={(e) => onChange(e.currentTarget.value)} />
        ) : (
          <TextInput key={key} label={f.label} required={f.required} value={value} error={errorOf(key)} onChange={(e) => onChange(e.currentTarget.value)} />
        );
      })}
      <Text size="xs" c="dimmed">Secrets are encrypted at rest and never shown again after saving.</Text>
    </Stack>
  );
}

function ModelsStep({ s, preview, dispatch, error, discoverAfter, setDiscoverAfter }: { s: WizardState; preview: Preview | null; dispatch: Dispatch; error?: string; discoverAfter: boolean; setDiscoverAfter(v: boolean): void }) {
  const models = preview?.models ?? [];
  if (models.length === 0) {
    return (
      <Stack>
        <Text>
          {s.template ? "This template lists no models." : "A blank provider starts without models."} After saving, Switchyard can read the
          provider's own model list so you choose which to add.
        </Text>
        <Checkbox label="Choose models from the provider's list after saving" checked={discoverAfter} onChange={(e) => setDiscoverAfter(e.currentTarget.checked)} />
      </Stack>
    );
  }
  const all = models.every((m) => s.models.includes(m.upstream_id));
  return (
    <Stack>
      <Text>Choose the models to add; you can add more later.</Text>
      {error && <Text c="red" role="alert">{error}</Text>}
      <Table.ScrollContainer minWidth={640}>
        <Table aria-label="Models to add" striped>
          <Table.Thead>
            <Table.Tr>
              <Table.Th w={40}>
                <Checkbox aria-label="Choose every model" checked={all} indeterminate={!all && s.models.length > 0} onChange={() => dispatch({ type: "models", ids: all ? [] : models.map((m) => m.upstream_id) })} />
              </Table.Th>
              <Table.Th>Model</Table.Th>
              <Table.Th>Context</Table.Th>
              <Table.Th>Capabilities</Table.Th>
              <Table.Th>Input / output per 1M</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {models.map((m) => (
              <Table.Tr key={m.upstream_id}>
                <Table.Td>
                  <Checkbox aria-label={`Add ${m.upstream_id}`} checked={s.models.includes(m.upstream_id)} onChange={() => dispatch({ type: "toggleModel", id: m.upstream_id })} />
                </Table.Td>
                <Table.Td>
                  <Text size="sm" fw={500}>{m.display_name || m.upstream_id}</Text>
                  <Text size="xs" c="dimmed">{m.upstream_id}</Text>
                </Table.Td>
                <Table.Td>{tokens(m.capabilities.context_window)}</Table.Td>
                <Table.Td><CapabilityBadges model={m} /></Table.Td>
                <Table.Td>{price(m.pricing.input_per_mtok)} / {price(m.pricing.output_per_mtok)}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Stack>
  );
}

function ReviewStep({ s, preview, dispatch, discoverAfter }: { s: WizardState; preview: Preview | null; dispatch: Dispatch; discoverAfter: boolean }) {
  const rows: [string, React.ReactNode][] = [
    ["Template", s.template ? s.template.name : "none (blank)"],
    ["Name", s.name],
    ["Slug", s.slug],
    ["Protocol", protocolNames[preview?.provider.protocol ?? s.protocol]],
    ["Base URL", preview?.provider.base_url ?? s.baseUrl],
    ["Authentication", authMethodNames[s.authMethod]],
    ["Secrets", Object.entries(s.secrets).filter(([, v]) => v).map(([k]) => `${k}: set`).join(", ") || "none"],
    ["Connectivity", s.test ? (s.test.ok ? "passed" : `failed (${s.test.code})`) : "not tested"],
    ["Models", s.models.length ? s.models.join(", ") : discoverAfter ? "chosen from the provider's list after saving" : "none"],
  ];
  return (
    <Stack maw={720}>
      <Table aria-label="Review">
        <Table.Tbody>
          {rows.map(([k, v]) => (
            <Table.Tr key={k}>
              <Table.Th w={180}>{k}</Table.Th>
              <Table.Td style={{ wordBreak: "break-all" }}>{v}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Checkbox label="Enable the provider now (the gateway routes to it at once)" checked={s.enable} onChange={(e) => dispatch({ type: "enable", value: e.currentTarget.checked })} />
    </Stack>
  );
}
