import { useMemo, useState } from "react";
import { Badge, Button, Card, Code, Drawer, Group, Modal, PasswordInput, SegmentedControl, Select, SimpleGrid, Stack, Table, Text, TextInput, Textarea, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useNavigate } from "react-router";
import { ApiError, fieldErrors, unwrap, type Schemas, type Template } from "../api/client";
import { useApi, useSession } from "../session";
import { Empty, Loading, ProblemAlert } from "../components/States";
import { protocolNames } from "../components/Badges";
import { notify } from "../components/notify";
import { authFields, authMethodNames } from "../wizard/auth";
import { checkParam, paramDefaults, paramFields, paramValue } from "../wizard/schema";
import { bodyOf, checkDraft, draftField, draftOf, emptyDraft, type Draft } from "./templateDraft";

/** TemplatesPage is the template library: system and custom templates, preview, apply, and the custom template editor. */
export default function TemplatesPage() {
  const api = useApi();
  const { isAdmin } = useSession();
  const [q, setQ] = useState("");
  const [kind, setKind] = useState("all");
  const [previewing, setPreviewing] = useState<Template | null>(null);
  const [editing, setEditing] = useState<Template | "new" | null>(null);
  const list = useQuery({
    queryKey: ["templates"],
    queryFn: async () => unwrap(await api.GET("/templates", { params: { query: { limit: 500 } } })),
  });
  const shown = useMemo(() => {
    const needle = q.trim().toLowerCase();
    return (list.data?.items ?? []).filter(
      (t) =>
        (kind === "all" || (kind === "system") === t.system) &&
        (!needle || t.name.toLowerCase().includes(needle) || t.slug.includes(needle) || t.description.toLowerCase().includes(needle)),
    );
  }, [list.data, q, kind]);
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Templates</Title>
        {isAdmin && <Button onClick={() => setEditing("new")}>New template</Button>}
      </Group>
      <Group align="end">
        <TextInput label="Search templates" placeholder="Name, slug or description" value={q} onChange={(e) => setQ(e.currentTarget.value)} w={280} />
        <Stack gap={4}>
          <Text size="sm" fw={500} id="tpl-kind">Kind</Text>
          <SegmentedControl aria-labelledby="tpl-kind" value={kind} onChange={setKind} data={[{ value: "all", label: "All" }, { value: "system", label: "System" }, { value: "custom", label: "Custom" }]} />
        </Stack>
      </Group>
      {list.isPending ? (
        <Loading label="Loading templates" />
      ) : list.isError ? (
        <ProblemAlert error={list.error} title="Could not load the templates" />
      ) : shown.length === 0 ? (
        <Empty title={kind === "custom" && !q ? "No custom templates yet" : "No template matches"}>
          {isAdmin && kind === "custom" ? "Create one for a gateway or endpoint your teams use often." : undefined}
        </Empty>
      ) : (
        <SimpleGrid cols={{ base: 1, sm: 2, lg: 3 }}>
          {shown.map((t) => (
            <Card key={t.id} withBorder data-template={t.slug}>
              <Stack gap="xs" h="100%">
                <Group justify="space-between" wrap="nowrap">
                  <Text fw={600}>{t.name}</Text>
                  <Badge variant={t.system ? "outline" : "light"} color={t.system ? "gray" : "indigo"} miw="max-content">
                    {t.system ? "system" : "custom"}
                  </Badge>
                </Group>
                <Text size="xs" c="dimmed">
                  {protocolNames[t.protocol]} · {authMethodNames[t.auth_method]} · {t.models.length} model{t.models.length === 1 ? "" : "s"}
                </Text>
                <Text size="sm" lineClamp={3} style={{ flex: 1 }}>{t.description || "—"}</Text>
                {isAdmin && (
                  <Group gap="xs">
                    <Button size="xs" onClick={() => setPreviewing(t)} aria-label={`Preview and apply ${t.name}`}>Preview and apply</Button>
                    {!t.system && (
                      <Button size="xs" variant="default" onClick={() => setEditing(t)} aria-label={`Edit ${t.name}`}>Edit</Button>
                    )}
                  </Group>
                )}
              </Stack>
            </Card>
          ))}
        </SimpleGrid>
      )}
      {previewing && <ApplyDrawer template={previewing} onClose={() => setPreviewing(null)} />}
      {editing && <TemplateEditor template={editing === "new" ? undefined : editing} onClose={() => setEditing(null)} />}
    </Stack>
  );
}

/**
 * ApplyDrawer fills a template's parameters (form from its JSON Schema,
 * checked as typed), previews the provider it would create, and creates it
 * (instantiate), with the credentials when given (enabled) or without
 * (disabled). The API's field errors show beside their fields.
 */
export function ApplyDrawer({ template: t, onClose }: { template: Template; onClose(): void }) {
  const api = useApi();
  const qc = useQueryClient();
  const navigate = useNavigate();
  const fields = useMemo(() => paramFields(t.parameters), [t]);
  const secretFields = authFields(t.auth_method).filter((f) => f.secret);
  const [name, setName] = useState(t.name);
  const [values, setValues] = useState<Record<string, string>>(() => paramDefaults(t.parameters));
  const [secrets, setSecrets] = useState<Record<string, string>>({});
  const [tried, setTried] = useState(false);
  const local = Object.fromEntries(fields.map((f) => [f.name, checkParam(f, values[f.name])]).filter(([, v]) => v)) as Record<string, string>;
  const body = (): Schemas["InstantiateRequest"] => {
    const s = Object.fromEntries(Object.entries(secrets).filter(([, v]) => v));
    const complete = secretFields.every((f) => !f.required || s[f.key]);
    return {
      name: name.trim() || undefined,
      params: Object.fromEntries(fields.filter((f) => (values[f.name] ?? "") !== "").map((f) => [f.name, paramValue(f, values[f.name])])),
      ...(Object.keys(s).length ? { secrets: s } : {}),
      enabled: secretFields.length === 0 || (Object.keys(s).length > 0 && complete),
    };
  };
  const preview = useMutation({
    mutationFn: async () => unwrap(await api.POST("/templates/{id}/preview", { params: { path: { id: t.id } }, body: body() })),
  });
  const create = useMutation({
    mutationFn: async () => unwrap(await api.POST("/templates/{id}/instantiate", { params: { path: { id: t.id } }, body: body() })),
    onSuccess: (r) => {
      setSecrets({});
      qc.invalidateQueries({ queryKey: ["providers"] });
      notify("green", r.provider.enabled ? "It is enabled." : "It is disabled until its credentials are set.", `${r.provider.name} created`);
      navigate(`/providers/${r.provider.id}`);
    },
  });
  const err = create.error ?? preview.error;
  const server = fieldErrors(err instanceof ApiError ? err.problem : null);
  const shownFields = [...fields.map((f) => `params.${f.name}`), "name", ...secretFields.map((f) => `secrets.${f.key}`)];
  const go = (m: typeof preview | typeof create) => {
    setTried(true);
    if (Object.keys(local).length === 0) m.mutate();
  };
  const p = preview.data?.provider;
  return (
    <Drawer opened onClose={onClose} position="right" size="lg" title={`Apply ${t.name}`}>
      <Stack>
        <Text size="sm" c="dimmed">{t.description}</Text>
        <TextInput label="Provider name" value={name} onChange={(e) => setName(e.currentTarget.value)} error={server.name} />
        {fields.length === 0 && <Text size="sm">This template has no parameters.</Text>}
        {fields.map((f) =>
          f.enum ? (
            <Select key={f.name} label={f.title} description={f.description} required={f.required} data={f.enum} value={values[f.name] ?? null}
              onChange={(v) => setValues({ ...values, [f.name]: v ?? "" })} error={(tried && local[f.name]) || server[`params.${f.name}`]} />
          ) : (
            <TextInput key={f.name} label={f.title} description={f.description} required={f.required} placeholder={f.example} value={values[f.name] ?? ""}
              onChange={(e) => setValues({ ...values, [f.name]: e.currentTarget.value })}
              error={((tried || values[f.name]) && local[f.name]) || server[`params.${f.name}`]} />
          ),
        )}
        {secretFields.map((f) => (
          <PasswordInput key={f.key} label={f.label} description="Optional here: without it the provider is created disabled" value={secrets[f.key] ?? ""}
            onChange={(e) => setSecrets({ ...secrets, [f.key]: e.currentTarget.value })} error={server[`secrets.${f.key}`]} autoComplete="off" />
        ))}
        <ProblemAlert error={err} shown={shownFields} title={create.error ? "The provider was not created" : "The preview failed"} />
        <Group>
          <Button variant="default" onClick={() => go(preview)} loading={preview.isPending}>Preview</Button>
          <Button onClick={() => go(create)} loading={create.isPending}>Create provider</Button>
        </Group>
        {p && (
          <Card withBorder data-testid="template-preview">
            <Stack gap="xs">
              <Text fw={500}>{p.name} <Text span c="dimmed" size="sm">({p.slug})</Text></Text>
              <Table aria-label="Preview" withRowBorders={false} verticalSpacing={2}>
                <Table.Tbody>
                  <Table.Tr><Table.Td c="dimmed" w={140}>Base URL</Table.Td><Table.Td><Code>{p.base_url}</Code></Table.Td></Table.Tr>
                  <Table.Tr><Table.Td c="dimmed">Protocol</Table.Td><Table.Td>{protocolNames[p.protocol]}</Table.Td></Table.Tr>
                  <Table.Tr><Table.Td c="dimmed">Parameters</Table.Td><Table.Td><Code>{JSON.stringify(p.params ?? {})}</Code></Table.Td></Table.Tr>
                  <Table.Tr><Table.Td c="dimmed">Enabled</Table.Td><Table.Td>{p.enabled ? "yes" : "no (set its credentials first)"}</Table.Td></Table.Tr>
                  <Table.Tr><Table.Td c="dimmed">Models</Table.Td><Table.Td>{preview.data!.models.map((m) => m.upstream_id).join(", ") || "none: discover them after saving"}</Table.Td></Table.Tr>
                </Table.Tbody>
              </Table>
            </Stack>
          </Card>
        )}
      </Stack>
    </Drawer>
  );
}

/** TemplateEditor creates or edits a custom template; it checks the draft before sending it and shows the API's field errors beside their fields. */
export function TemplateEditor({ template, onClose }: { template?: Template; onClose(): void }) {
  const api = useApi();
  const qc = useQueryClient();
  const [d, setD] = useState<Draft>(() => (template ? draftOf(template) : emptyDraft));
  const [tried, setTried] = useState(false);
  const local = checkDraft(d);
  const save = useMutation({
    mutationFn: async () => {
      const body = bodyOf(d, template);
      return template
        ? unwrap(await api.PATCH("/templates/{id}", { params: { path: { id: template.id }, header: { "If-Match": `"${template.version}"` } }, body }))
        : unwrap(await api.POST("/templates", { body }));
    },
    onSuccess: (t) => {
      qc.invalidateQueries({ queryKey: ["templates"] });
      notify("green", t.slug, template ? "Template saved" : "Template created");
      onClose();
    },
  });
  const del = useMutation({
    mutationFn: async () => unwrap(await api.DELETE("/templates/{id}", { params: { path: { id: template!.id }, header: { "If-Match": `"${template!.version}"` } } })),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: ["templates"] });
      onClose();
    },
  });
  const server: Partial<Record<keyof Draft, string>> = {};
  const p = save.error instanceof ApiError ? save.error.problem : null;
  for (const e of p?.errors ?? []) {
    const k = draftField(e.field);
    if (k && !server[k]) server[k] = e.field === k ? e.message : `${e.field}: ${e.message}`;
  }
  const err = (k: keyof Draft) => (tried ? local[k] : undefined) ?? server[k];
  const set = (k: keyof Draft) => (e: { currentTarget: { value: string } }) => setD({ ...d, [k]: e.currentTarget.value });
  const params = !local.parameters ? paramFields(JSON.parse(d.parameters || "{}")) : [];
  return (
    <Modal opened onClose={onClose} title={template ? `Edit ${template.name}` : "New template"} size="xl">
      <Stack>
        <SimpleGrid cols={2}>
          <TextInput label="Name" required value={d.name} onChange={set("name")} error={err("name")} />
          <TextInput label="Slug" required description="Lower-case letters, digits and hyphens" value={d.slug} onChange={set("slug")} error={err("slug")} />
          <Select label="Protocol" required data={Object.entries(protocolNames).map(([value, label]) => ({ value, label }))} value={d.protocol}
            onChange={(v) => v && setD({ ...d, protocol: v as Draft["protocol"] })} error={err("protocol")} allowDeselect={false} />
          <Select label="Authentication" required data={Object.entries(authMethodNames).map(([value, label]) => ({ value, label }))} value={d.auth_method}
            onChange={(v) => v && setD({ ...d, auth_method: v as Draft["auth_method"] })} error={err("auth_method")} allowDeselect={false} />
        </SimpleGrid>
        <TextInput label="Base URL" required description="{name} stands for a parameter's value" value={d.base_url} onChange={set("base_url")} error={err("base_url")} />
        <Textarea label="Description" autosize minRows={2} value={d.description} onChange={set("description")} error={err("description")} />
        <Textarea label="Parameters (JSON Schema)" description="An object schema: each property is a field of the setup form; default, examples, pattern, enum and required are used"
          autosize minRows={6} maxRows={18} styles={{ input: { fontFamily: "var(--mantine-font-family-monospace)" } }} value={d.parameters} onChange={set("parameters")} error={err("parameters")} />
        {params.length > 0 && (
          <Text size="sm" c="dimmed" data-testid="param-summary">
            Fields: {params.map((f) => `${f.title}${f.required ? " (required)" : ""}${f.default !== undefined ? ` = ${f.default}` : ""}`).join(", ")}
          </Text>
        )}
        <Textarea label="Models" description="One upstream model id per line; leave empty when the provider lists its own" autosize minRows={3} maxRows={10} styles={{ input: { fontFamily: "var(--mantine-font-family-monospace)" } }}
          value={d.models} onChange={set("models")} error={err("models")} />
        <ProblemAlert error={save.error} shown={(p?.errors ?? []).filter((e) => draftField(e.field)).map((e) => e.field)} title="The template was not saved" />
        <ProblemAlert error={del.error} title="The template was not deleted" />
        <Group justify="space-between">
          <div>
            {template && (
              <Button color="red" variant="subtle" onClick={() => del.mutate()} loading={del.isPending}>Delete template</Button>
            )}
          </div>
          <Group>
            <Button variant="default" onClick={onClose}>Cancel</Button>
            <Button
              onClick={() => {
                setTried(true);
                if (Object.keys(local).length === 0) save.mutate();
              }}
              loading={save.isPending}
            >
              {template ? "Save template" : "Create template"}
            </Button>
          </Group>
        </Group>
      </Stack>
    </Modal>
  );
}

