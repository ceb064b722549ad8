import { useState } from "react";
import { Alert, Badge, Button, Card, Checkbox, Group, List, Modal, Stack, Table, Text, Textarea, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { unwrap, type Schemas } from "../api/client";
import { useApi } from "../session";
import { Empty, Loading, ProblemAlert, problemOf } from "../components/States";
import { notify } from "../components/notify";

type Report = Schemas["LegacyReport"];
type Migration = Schemas["LegacyMigration"];

const statusColor: Record<Schemas["LegacyItem"]["status"], string> = {
  "maps cleanly": "green",
  "maps with changes": "yellow",
  "cannot map": "red",
};

/**
 * LegacyPanel migrates hardcoded configurations (old-style connections, a
 * LiteLLM config.yaml): plan report, apply, and rollback of past migrations.
 */
export default function LegacyPanel() {
  const api = useApi();
  const qc = useQueryClient();
  const [connections, setConnections] = useState(true);
  const [litellm, setLitellm] = useState("");
  const [planned, setPlanned] = useState<{ report: Report; body: Schemas["LegacyRequest"] } | null>(null);
  const body = (): Schemas["LegacyRequest"] => ({ connections, ...(litellm.trim() ? { litellm_config: litellm } : {}) });
  const plan = useMutation({
    mutationFn: async () => {
      const b = body();
      return { report: unwrap(await api.POST("/legacy/plan", { body: b })), body: b };
    },
    onSuccess: setPlanned,
  });
  const apply = useMutation({
    mutationFn: async () => unwrap(await api.POST("/legacy/apply", { body: planned!.body })),
    onSuccess: (m) => {
      setPlanned(null);
      notify("green", `${m.changes.length} change${m.changes.length === 1 ? "" : "s"} recorded; it can be rolled back below.`, "Migration applied");
      qc.invalidateQueries({ queryKey: ["legacy"] });
      qc.invalidateQueries({ queryKey: ["providers"] });
    },
  });
  const stale = planned && JSON.stringify(planned.body) !== JSON.stringify(body());
  return (
    <Stack>
      <Card withBorder component="section" aria-labelledby="legacy-title">
        <Stack>
          <Title order={3} size="h4" id="legacy-title">Migrate a hardcoded configuration</Title>
          <Text size="sm" c="dimmed">
            Nothing is written until you apply the plan. Secrets given as <code>os.environ/NAME</code> are never resolved here: such providers
            are created disabled, to be given their secret afterwards.
          </Text>
          <Checkbox label="Old-style connections (naming a provider type): point them at their provider" checked={connections} onChange={(e) => setConnections(e.currentTarget.checked)} />
          <Textarea
            label="LiteLLM proxy config.yaml"
            description="Paste the file's text (optional)"
            autosize
            minRows={4}
            maxRows={16}
            styles={{ input: { fontFamily: "var(--mantine-font-family-monospace)" } }}
            value={litellm}
            onChange={(e) => setLitellm(e.currentTarget.value)}
            error={problemOf(plan.error ?? apply.error).errors?.find((e) => e.field === "litellm_config")?.message}
          />
          <ProblemAlert error={plan.error} shown={["litellm_config"]} title="Could not plan the migration" />
          <ProblemAlert error={apply.error} shown={["litellm_config"]} title="The migration was not applied" />
          <Group>
            <Button variant={planned && !stale ? "default" : "filled"} disabled={!connections && !litellm.trim()} onClick={() => plan.mutate()} loading={plan.isPending}>
              Plan the migration
            </Button>
            {planned && (
              <Button color="orange" disabled={!!stale} onClick={() => apply.mutate()} loading={apply.isPending}>
                Apply the migration
              </Button>
            )}
            {stale && <Text size="sm" c="dimmed">The inputs changed: plan again before applying.</Text>}
          </Group>
          {planned && !stale && <ReportView report={planned.report} />}
        </Stack>
      </Card>
      <Migrations />
    </Stack>
  );
}

/** ReportView is the compatibility report: counts per status, then each item. */
export function ReportView({ report }: { report: Report }) {
  if (report.items.length === 0) return <Empty title="Nothing to migrate">No old-style connection and no model in the config.</Empty>;
  return (
    <Stack gap="xs" data-testid="legacy-report">
      <Group gap="xs">
        {Object.entries(report.summary).map(([s, n]) => (
          <Badge key={s} color={statusColor[s as keyof typeof statusColor] ?? "gray"} variant="light">
            {n} {s}
          </Badge>
        ))}
      </Group>
      <Table.ScrollContainer minWidth={760}>
        <Table aria-label="Migration report" striped verticalSpacing={4}>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Source</Table.Th>
              <Table.Th>Item</Table.Th>
              <Table.Th>Outcome</Table.Th>
              <Table.Th>Becomes</Table.Th>
              <Table.Th>Details</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {report.items.map((it, i) => (
              <Table.Tr key={i}>
                <Table.Td>{it.source}</Table.Td>
                <Table.Td>
                  <Text size="sm" fw={500}>{it.key}</Text>
                  {it.path && <Text size="xs" c="dimmed"><code>{it.path}</code></Text>}
                </Table.Td>
                <Table.Td>
                  <Badge color={statusColor[it.status]} variant="light" miw="max-content">{it.status}</Badge>
                </Table.Td>
                <Table.Td>{it.target ?? "—"}</Table.Td>
                <Table.Td>
                  {it.reason && <Text size="sm" c="red">{it.reason}</Text>}
                  {it.changes && it.changes.length > 0 && (
                    <List size="sm">
                      {it.changes.map((c) => <List.Item key={c}>{c}</List.Item>)}
                    </List>
                  )}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Table.ScrollContainer>
    </Stack>
  );
}

function Migrations() {
  const api = useApi();
  const [rolling, setRolling] = useState<Migration | null>(null);
  const list = useQuery({ queryKey: ["legacy"], queryFn: async () => unwrap(await api.GET("/legacy", { params: { query: { limit: 50 } } })) });
  return (
    <Card withBorder component="section" aria-labelledby="migrations-title">
      <Stack>
        <Title order={3} size="h4" id="migrations-title">Past migrations</Title>
        {list.isPending ? (
          <Loading label="Loading the migrations" />
        ) : list.isError ? (
          <ProblemAlert error={list.error} title="Could not list the migrations" />
        ) : list.data.items.length === 0 ? (
          <Empty title="No migration yet" />
        ) : (
          <Table aria-label="Past migrations" verticalSpacing="xs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>When</Table.Th>
                <Table.Th>Sources</Table.Th>
                <Table.Th>Changes</Table.Th>
                <Table.Th>State</Table.Th>
                <Table.Th />
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {list.data.items.map((m) => (
                <Table.Tr key={m.id}>
                  <Table.Td>{new Date(m.created_at).toLocaleString()}</Table.Td>
                  <Table.Td>{m.sources.join(", ")}</Table.Td>
                  <Table.Td>
                    <Text size="sm">{m.changes.map((c) => `${c.action} ${c.kind} ${c.key}`).join("; ") || "—"}</Text>
                  </Table.Td>
                  <Table.Td>
                    {m.rolled_back_at ? <Badge color="gray" variant="light">rolled back</Badge> : <Badge color="green" variant="light">applied</Badge>}
                  </Table.Td>
                  <Table.Td>
                    {!m.rolled_back_at && (
                      <Button size="xs" variant="light" color="orange" onClick={() => setRolling(m)}>
                        Roll back
                      </Button>
                    )}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        )}
        {rolling && <RollbackDialog migration={rolling} onClose={() => setRolling(null)} />}
      </Stack>
    </Card>
  );
}

/**
 * RollbackDialog rolls a migration back. When the API refuses because things
 * it touched changed since (409), it names them and offers to force the
 * rollback, which discards them, behind a second confirmation.
 */
export function RollbackDialog({ migration, onClose }: { migration: Migration; onClose(): void }) {
  const api = useApi();
  const qc = useQueryClient();
  const [sure, setSure] = useState(false);
  const rollback = useMutation({
    mutationFn: async (force: boolean) =>
      unwrap(await api.POST("/legacy/{id}/rollback", { params: { path: { id: migration.id }, query: force ? { force: true } : {} } })),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: ["legacy"] });
      qc.invalidateQueries({ queryKey: ["providers"] });
    },
  });
  const conflict = rollback.error && problemOf(rollback.error).status === 409;
  const done = rollback.data;
  return (
    <Modal opened onClose={onClose} title="Roll this migration back?" size="lg">
      <Stack>
        {done ? (
          <>
            <Alert color="green" title="Rolled back" data-testid="rollback-done">
              <List size="sm">
                {done.restored.map((r) => <List.Item key={r}>{r}</List.Item>)}
              </List>
              {done.overridden && done.overridden.length > 0 && (
                <>
                  <Text size="sm" mt="xs" fw={500}>Later changes discarded:</Text>
                  <List size="sm">
                    {done.overridden.map((r) => <List.Item key={r}>{r}</List.Item>)}
                  </List>
                </>
              )}
            </Alert>
            <Group justify="end">
              <Button onClick={onClose}>Close</Button>
            </Group>
          </>
        ) : (
          <>
            <Text size="sm">
              Connections point back to their provider types, providers and models it created are removed, and those it changed are restored.
              A provider it created that a connection now uses is kept.
            </Text>
            {conflict ? (
              <>
                <Alert color="orange" title="Things it touched changed since" role="alert">
                  <Text size="sm">{problemOf(rollback.error).detail}</Text>
                </Alert>
                <Checkbox label="Discard those later changes and roll back anyway" checked={sure} onChange={(e) => setSure(e.currentTarget.checked)} />
              </>
            ) : (
              <ProblemAlert error={rollback.error} title="Not rolled back" />
            )}
            <Group justify="end">
              <Button variant="default" onClick={onClose}>Cancel</Button>
              {conflict ? (
                <Button color="red" disabled={!sure} onClick={() => rollback.mutate(true)} loading={rollback.isPending}>
                  Roll back anyway
                </Button>
              ) : (
                <Button color="orange" onClick={() => rollback.mutate(false)} loading={rollback.isPending}>
                  Roll back
                </Button>
              )}
            </Group>
          </>
        )}
      </Stack>
    </Modal>
  );
}
