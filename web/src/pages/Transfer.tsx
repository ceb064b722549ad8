import { lazy, Suspense, useState } from "react";
import { Alert, Badge, Button, Card, Checkbox, Code, CopyButton, FileInput, Group, PasswordInput, SegmentedControl, Stack, Table, Tabs, Text, Title } from "@mantine/core";
import { useMutation } from "@tanstack/react-query";
import { useNavigate, useParams } from "react-router";
import { unwrap, type Schemas } from "../api/client";
import { useApi } from "../session";
import { Loading, ProblemAlert, problemOf } from "../components/States";
import { notify } from "../components/notify";

const BackupsPanel = lazy(() => import("./Backups"));
const LegacyPanel = lazy(() => import("./Legacy"));

type Plan = Schemas["ImportPlan"];
type PlanItem = Plan["items"][number];
type Doc = Schemas["ExportDocument"];
export type OnConflict = Plan["on_conflict"];

/** MIN_PASSPHRASE is the server's least passphrase length (transfer/seal.go). */
export const MIN_PASSPHRASE = 12;

/**
 * passphraseError checks a passphrase before it is sent: empty is fine when
 * it is optional (no secrets), otherwise it must be long enough; the
 * confirmation, when asked for, must match.
 */
export function passphraseError(pass: string, required: boolean, confirm?: string): { pass?: string; confirm?: string } {
  if (!pass) return required ? { pass: "Enter a passphrase to seal the secrets with" } : {};
  if (pass.length < MIN_PASSPHRASE) return { pass: `The passphrase must be at least ${MIN_PASSPHRASE} characters` };
  if (confirm !== undefined && confirm !== pass) return { confirm: "The two passphrases differ" };
  return {};
}

/** passphraseHeader puts a passphrase in its header (never in the URL), or nothing. */
export function passphraseHeader(pass: string): { "X-Switchyard-Passphrase"?: string } {
  return pass ? { "X-Switchyard-Passphrase": pass } : {};
}

/** TransferPage is the admins' import/export, backups and legacy migration screen. */
export default function TransferPage() {
  const { tab = "export" } = useParams();
  const navigate = useNavigate();
  return (
    <Stack>
      <Title order={2}>Import and export</Title>
      <Tabs value={tab} onChange={(t) => navigate(`/transfer/${t ?? "export"}`)} keepMounted={false}>
        <Tabs.List>
          <Tabs.Tab value="export">Export and import</Tabs.Tab>
          <Tabs.Tab value="backups">Backups</Tabs.Tab>
          <Tabs.Tab value="legacy">Legacy migration</Tabs.Tab>
        </Tabs.List>
        <Tabs.Panel value="export" pt="md">
          <Stack>
            <ExportCard />
            <ImportCard />
          </Stack>
        </Tabs.Panel>
        <Tabs.Panel value="backups" pt="md">
          <Suspense fallback={<Loading label="Loading" />}>
            <BackupsPanel />
          </Suspense>
        </Tabs.Panel>
        <Tabs.Panel value="legacy" pt="md">
          <Suspense fallback={<Loading label="Loading" />}>
            <LegacyPanel />
          </Suspense>
        </Tabs.Panel>
      </Tabs>
    </Stack>
  );
}

/** download hands the browser a file to save. */
function download(name: string, text: string, type = "application/json") {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = document.createElement("a");
  a.href = url;
  a.download = name;
  document.body.appendChild(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function ExportCard() {
  const api = useApi();
  const [withSecrets, setWithSecrets] = useState(false);
  const [pass, setPass] = useState("");
  const [confirm, setConfirm] = useState("");
  const [tried, setTried] = useState(false);
  const errs = withSecrets ? passphraseError(pass, true, confirm) : {};
  const exp = useMutation({
    mutationFn: async () => unwrap(await api.GET("/export", { params: { header: passphraseHeader(withSecrets ? pass : "") } })),
    onSuccess: (doc) => {
      const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
      download(`switchyard-export-${stamp}.json`, JSON.stringify(doc, null, 2) + "\n");
      notify("green", doc.secrets === "sealed" ? "Its secrets are sealed with your passphrase." : "Secrets are left out.", "Configuration exported");
      setPass("");
      setConfirm("");
      setTried(false);
    },
  });
  const serverPassError = exp.error && /passphrase/i.test(problemOf(exp.error).detail) ? problemOf(exp.error).detail : undefined;
  return (
    <Card withBorder component="section" aria-labelledby="export-title">
      <Stack>
        <Title order={3} size="h4" id="export-title">Export</Title>
        <Text size="sm" c="dimmed">
          Providers with their credentials and models, custom templates and connections' settings, as one JSON document. Gateway keys are
          never exported.
        </Text>
        <Checkbox label="Include the secrets, sealed with a passphrase" checked={withSecrets} onChange={(e) => setWithSecrets(e.currentTarget.checked)} />
        {withSecrets && (
          <Group align="start">
            <PasswordInput
              label="Passphrase"
              description={`At least ${MIN_PASSPHRASE} characters; only it opens the secrets`}
              value={pass}
              onChange={(e) => setPass(e.currentTarget.value)}
              error={(tried && errs.pass) || serverPassError}
              autoComplete="new-password"
              w={300}
            />
            <PasswordInput
              label="Passphrase again"
              value={confirm}
              onChange={(e) => setConfirm(e.currentTarget.value)}
              error={tried && errs.confirm}
              autoComplete="new-password"
              w={300}
              mt={22}
            />
          </Group>
        )}
        <ProblemAlert error={serverPassError ? null : exp.error} title="Could not export" />
        <Group>
          <Button
            onClick={() => {
              setTried(true);
              if (!errs.pass && !errs.confirm) exp.mutate();
            }}
            loading={exp.isPending}
          >
            Download export
          </Button>
        </Group>
      </Stack>
    </Card>
  );
}

export function ImportCard() {
  const api = useApi();
  const [file, setFile] = useState<File | null>(null);
  const [doc, setDoc] = useState<Doc | null>(null);
  const [fileError, setFileError] = useState<string | undefined>();
  const [pass, setPass] = useState("");
  const [onConflict, setOnConflict] = useState<OnConflict>("skip");
  // The plan shown, and the inputs it was made with: apply only what was previewed.
  const [planned, setPlanned] = useState<{ plan: Plan; doc: Doc; pass: string; onConflict: OnConflict } | null>(null);
  // The applied plan, without the gateway keys it created: those are kept
  // apart, shown once, and forgotten when dismissed.
  const [applied, setApplied] = useState<Plan | null>(null);
  const [newKeys, setNewKeys] = useState<NewKey[]>([]);

  const pick = async (f: File | null) => {
    setFile(f);
    setDoc(null);
    setPlanned(null);
    setApplied(null);
    setNewKeys([]);
    setFileError(undefined);
    if (!f) return;
    try {
      const parsed = JSON.parse(await f.text());
      if (parsed?.format !== "switchyard-export") throw new Error("not a Switchyard export (its format is not switchyard-export)");
      setDoc(parsed as Doc);
    } catch (e) {
      setFileError(e instanceof SyntaxError ? `not JSON: ${e.message}` : (e as Error).message);
    }
  };

  const run = useMutation({
    mutationFn: async (mode: "dry-run" | "apply") => {
      const input = mode === "apply" && planned ? planned : { doc: doc!, pass, onConflict };
      const plan = unwrap(
        await api.POST("/import", {
          params: { query: { mode, on_conflict: input.onConflict }, header: passphraseHeader(input.pass) },
          body: input.doc,
        }),
      );
      return { plan, input };
    },
    onSuccess: ({ plan, input }) => {
      if (plan.dry_run) {
        setPlanned({ plan, ...input });
        setApplied(null);
        setNewKeys([]);
      } else {
        setPlanned(null);
        setPass("");
        setNewKeys(newGatewayKeys(plan));
        setApplied({ ...plan, items: plan.items.map(({ gateway_key: _, ...it }) => it) });
        notify("green", "The registry follows at once.", "Import applied");
      }
    },
  });
  const pe = passphraseError(pass, false);
  const serverPassError = run.error && /passphrase/i.test(problemOf(run.error).detail) ? problemOf(run.error).detail : undefined;
  const stale = planned && (planned.doc !== doc || planned.pass !== pass || planned.onConflict !== onConflict);
  return (
    <Card withBorder component="section" aria-labelledby="import-title">
      <Stack>
        <Title order={3} size="h4" id="import-title">Import</Title>
        <Text size="sm" c="dimmed">
          The document is checked whole and planned first; nothing is written until you apply the plan, and then all of it is written or
          nothing.
        </Text>
        <Group align="start" wrap="wrap">
          <FileInput label="Export document" placeholder="switchyard-export-….json" accept="application/json,.json" value={file} onChange={pick} error={fileError} clearable w={320} />
          <PasswordInput
            label="Document passphrase"
            description="Opens the document's sealed secrets; without it they are not imported"
            value={pass}
            onChange={(e) => setPass(e.currentTarget.value)}
            error={(pass && pe.pass) || serverPassError}
            autoComplete="off"
            w={320}
          />
          <Stack gap={4}>
            <Text size="sm" fw={500} id="conflict-label">When an item exists and differs</Text>
            <SegmentedControl
              aria-labelledby="conflict-label"
              value={onConflict}
              onChange={(v) => setOnConflict(v as OnConflict)}
              data={[
                { value: "skip", label: "Keep ours" },
                { value: "overwrite", label: "Overwrite" },
                { value: "rename", label: "Import a copy" },
              ]}
            />
          </Stack>
        </Group>
        <ProblemAlert error={serverPassError ? null : run.error} title="The document cannot be imported" />
        <Group>
          <Button variant={planned && !stale ? "default" : "filled"} disabled={!doc || !!(pass && pe.pass)} onClick={() => run.mutate("dry-run")} loading={run.isPending && run.variables === "dry-run"}>
            Preview the plan
          </Button>
          {planned && (
            <Button color="orange" disabled={!!stale} onClick={() => run.mutate("apply")} loading={run.isPending && run.variables === "apply"}>
              Apply this plan
            </Button>
          )}
          {stale && <Text size="sm" c="dimmed">The inputs changed: preview the plan again before applying it.</Text>}
        </Group>
        {planned && !stale && <PlanView plan={planned.plan} />}
        {applied && (
          <Stack gap="xs">
            <Alert color="green" title="Applied">The plan below was applied in one transaction.</Alert>
            {newKeys.length > 0 && (
              <NewGatewayKeys
                keys={newKeys}
                onDone={() => {
                  // The keys leave the page, and the mutation's copy of the answer with them.
                  setNewKeys([]);
                  run.reset();
                }}
              />
            )}
            <PlanView plan={applied} />
          </Stack>
        )}
      </Stack>
    </Card>
  );
}

/** NewKey is the gateway key of a connection an import created. */
export interface NewKey {
  connection: string;
  key: string;
}

/** newGatewayKeys picks the keys of the connections an applied import created. */
export function newGatewayKeys(plan: Plan): NewKey[] {
  return plan.items
    .filter((it) => it.gateway_key)
    .map((it) => ({ connection: it.renamed_to ? `${it.key} (imported as ${it.renamed_to})` : it.key, key: it.gateway_key! }));
}

/**
 * NewGatewayKeys shows the keys of the connections an import created, once:
 * the server keeps only their hashes, and they leave the page when dismissed.
 */
export function NewGatewayKeys({ keys, onDone }: { keys: NewKey[]; onDone(): void }) {
  const one = keys.length === 1;
  return (
    <Alert color="yellow" title={one ? "Copy the new gateway key now" : `Copy the ${keys.length} new gateway keys now`} data-testid="new-gateway-keys">
      <Stack gap="sm">
        <Text size="sm">
          This import created {one ? "a connection" : `${keys.length} connections`}. {one ? "Its key is" : "Their keys are"} shown here this once and
          will not be shown again: Switchyard keeps only a hash. Give {one ? "it" : "each"} to the app that uses the connection.
        </Text>
        {keys.map((k) => (
          <Stack key={k.connection} gap={4}>
            <Text size="sm" fw={500}>{k.connection}</Text>
            <Group gap="xs" wrap="nowrap">
              <Code block style={{ flex: 1 }} data-testid="imported-gateway-key">{k.key}</Code>
              <CopyButton value={k.key}>
                {({ copied, copy }) => (
                  <Button size="xs" onClick={copy} color={copied ? "teal" : undefined} aria-label={`Copy the key of ${k.connection}`}>
                    {copied ? "Copied" : "Copy"}
                  </Button>
                )}
              </CopyButton>
            </Group>
          </Stack>
        ))}
        <Group>
          <Button variant="default" onClick={onDone}>{one ? "I have copied it" : "I have copied them"}</Button>
        </Group>
      </Stack>
    </Alert>
  );
}

const actionLook: Record<PlanItem["action"], { color: string; label: string }> = {
  create: { color: "green", label: "create" },
  update: { color: "orange", label: "update" },
  unchanged: { color: "gray", label: "unchanged" },
  skip: { color: "yellow", label: "skip (keep ours)" },
  rename: { color: "blue", label: "import as a copy" },
};

const secretsNote: Record<Plan["secrets"], string> = {
  imported: "Secrets are imported.",
  omitted: "The document has no secrets: existing secrets are kept, new providers that need them are created disabled.",
  not_opened: "The document's secrets are sealed and no passphrase was given: they are not imported.",
};

/** PlanView shows an import plan: counts per action, then every item with its action, changes and note. */
export function PlanView({ plan }: { plan: Plan }) {
  // A re-import lists every model of every provider: what changes comes first.
  const [showUnchanged, setShowUnchanged] = useState(false);
  const unchanged = plan.items.filter((it) => it.action === "unchanged").length;
  const items = showUnchanged ? plan.items : plan.items.filter((it) => it.action !== "unchanged");
  return (
    <Stack gap="xs" data-testid="import-plan" aria-live="polite">
      <Group gap="xs">
        <Text fw={500}>{plan.dry_run ? "Plan (nothing written yet)" : "Applied"}</Text>
        {Object.entries(plan.summary).map(([action, n]) => (
          <Badge key={action} color={actionLook[action as PlanItem["action"]]?.color ?? "gray"} variant="light">
            {n} {action}
          </Badge>
        ))}
      </Group>
      <Text size="sm" c={plan.secrets === "imported" ? undefined : "orange"}>{secretsNote[plan.secrets]}</Text>
      {unchanged > 0 && (
        <Checkbox
          label={`Show the ${unchanged} unchanged item${unchanged === 1 ? "" : "s"}`}
          checked={showUnchanged}
          onChange={(e) => setShowUnchanged(e.currentTarget.checked)}
        />
      )}
      {items.length === 0 ? (
        <Text size="sm">Everything in the document is already here as it is: importing it changes nothing.</Text>
      ) : (
        <Table.ScrollContainer minWidth={760}>
          <Table aria-label="Import plan" verticalSpacing={4} striped>
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Kind</Table.Th>
                <Table.Th>Item</Table.Th>
                <Table.Th>Action</Table.Th>
                <Table.Th>Details</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {items.map((it) => (
                <Table.Tr key={it.path} data-action={it.action}>
                  <Table.Td>{it.kind}</Table.Td>
                  <Table.Td>
                    <Text size="sm" fw={500}>{it.key}</Text>
                    <Text size="xs" c="dimmed"><code>{it.path}</code></Text>
                  </Table.Td>
                  <Table.Td>
                    <Badge color={actionLook[it.action].color} variant="light" miw="max-content">
                      {actionLook[it.action].label}
                    </Badge>
                    {it.conflict && <Text size="xs" c="orange">exists and differs</Text>}
                  </Table.Td>
                  <Table.Td>
                    {it.renamed_to && <Text size="sm">as <b>{it.renamed_to}</b></Text>}
                    {it.changes && it.changes.length > 0 && <Text size="sm">changes: {it.changes.join(", ")}</Text>}
                    {it.note && <Text size="sm" c="dimmed">{it.note}</Text>}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
    </Stack>
  );
}
