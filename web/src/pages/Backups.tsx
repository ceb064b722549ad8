import { useState } from "react";
import { Alert, Anchor, Badge, Button, Checkbox, Group, Modal, Stack, Table, Text } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { unwrap, type Schemas } from "../api/client";
import { useApi, useSession } from "../session";
import { Empty, Loading, ProblemAlert } from "../components/States";
import { notify } from "../components/notify";

type Backup = Schemas["Backup"];

export function size(n: number): string {
  if (n >= 1 << 20) return `${(n / (1 << 20)).toFixed(1)} MB`;
  if (n >= 1024) return `${Math.round(n / 1024)} KB`;
  return `${n} B`;
}

/**
 * BackupsPanel lists the backups, takes one, downloads one and restores one
 * after a confirmation; a restore's undo backup is shown, with a button that
 * restores it.
 */
export default function BackupsPanel() {
  const api = useApi();
  const { api: session } = useSession();
  const qc = useQueryClient();
  const [restoring, setRestoring] = useState<Backup | null>(null);
  const [undo, setUndo] = useState<{ restored: Backup; undo: Backup } | null>(null);
  const list = useQuery({ queryKey: ["backups"], queryFn: async () => unwrap(await api.GET("/backups")) });
  const create = useMutation({
    mutationFn: async () => unwrap(await api.POST("/backups")),
    onSuccess: (b) => {
      notify("green", b.name, "Backup taken");
      qc.invalidateQueries({ queryKey: ["backups"] });
    },
  });
  const items = list.data?.items ?? [];
  return (
    <Stack>
      <Group justify="space-between">
        <Text size="sm" c="dimmed" maw={720}>
          A backup is a consistent snapshot of every table: configuration, usage and audit history. Secrets stay encrypted, so a backup
          restores only with the master key it was taken with.
        </Text>
        <Button onClick={() => create.mutate()} loading={create.isPending}>Take a backup now</Button>
      </Group>
      <ProblemAlert error={create.error} title="Could not take a backup" />
      {undo && (
        <Alert color="green" title={`Restored ${undo.restored.name}`} data-testid="restore-undo">
          <Stack gap="xs">
            <Text size="sm">
              The state before the restore was saved as <b>{undo.undo.name}</b>: restore it to undo this restore.
            </Text>
            <Group>
              <Button size="xs" variant="default" onClick={() => setRestoring(undo.undo)}>Undo this restore</Button>
            </Group>
          </Stack>
        </Alert>
      )}
      {list.isPending ? (
        <Loading label="Loading the backups" />
      ) : list.isError ? (
        <ProblemAlert error={list.error} title="Could not list the backups" />
      ) : items.length === 0 ? (
        <Empty title="No backups yet">Take one now, or let the scheduled backups run (see docs/deployment.md).</Empty>
      ) : (
        <Table.ScrollContainer minWidth={820}>
          <Table aria-label="Backups" striped verticalSpacing="xs">
            <Table.Thead>
              <Table.Tr>
                <Table.Th>Taken</Table.Th>
                <Table.Th>Kind</Table.Th>
                <Table.Th>Name</Table.Th>
                <Table.Th>Size</Table.Th>
                <Table.Th>Database</Table.Th>
                <Table.Th>Rows</Table.Th>
                <Table.Th>Actions</Table.Th>
              </Table.Tr>
            </Table.Thead>
            <Table.Tbody>
              {items.map((b) => (
                <Table.Tr key={b.name} data-backup={b.name}>
                  <Table.Td>{new Date(b.manifest.created_at).toLocaleString()}</Table.Td>
                  <Table.Td>
                    <Badge variant="light" color={b.manifest.note === "pre-restore" ? "orange" : "gray"} miw="max-content">{b.manifest.note || "—"}</Badge>
                  </Table.Td>
                  <Table.Td><Text size="xs" ff="monospace">{b.name}</Text></Table.Td>
                  <Table.Td>{size(b.size)}</Table.Td>
                  <Table.Td>{b.manifest.dialect}, schema {b.manifest.schema_version}</Table.Td>
                  <Table.Td>{b.manifest.tables.reduce((n, t) => n + t.rows, 0).toLocaleString("en")}</Table.Td>
                  <Table.Td>
                    <Group gap="xs" wrap="nowrap">
                      <Anchor href={`${session.baseUrl}/backups/${encodeURIComponent(b.name)}`} download={b.name} size="sm" aria-label={`Download ${b.name}`}>
                        Download
                      </Anchor>
                      <Button size="xs" variant="light" color="orange" onClick={() => setRestoring(b)} aria-label={`Restore ${b.name}`}>
                        Restore
                      </Button>
                    </Group>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Table.ScrollContainer>
      )}
      {restoring && (
        <RestoreDialog
          backup={restoring}
          onClose={() => setRestoring(null)}
          onRestored={(r) => {
            setRestoring(null);
            setUndo(r);
            // Everything may have changed.
            qc.invalidateQueries();
          }}
        />
      )}
    </Stack>
  );
}

/** RestoreDialog asks for an explicit confirmation before a restore replaces everything. */
export function RestoreDialog({ backup, onClose, onRestored }: { backup: Backup; onClose(): void; onRestored(r: Schemas["BackupRestored"]): void }) {
  const api = useApi();
  const [sure, setSure] = useState(false);
  const restore = useMutation({
    mutationFn: async () => unwrap(await api.POST("/backups/{name}/restore", { params: { path: { name: backup.name } } })),
    onSuccess: onRestored,
  });
  return (
    <Modal opened onClose={onClose} title="Restore this backup?" size="lg">
      <Stack>
        <Text size="sm">
          Every table is replaced with the backup's, taken {new Date(backup.manifest.created_at).toLocaleString()} (<code>{backup.name}</code>).
          Changes made since are lost, except in the backup of the current state that is taken first, which undoes the restore. Sessions
          become those of the backup, so you may have to log in again.
        </Text>
        <Checkbox label="I understand that everything changed since this backup is replaced" checked={sure} onChange={(e) => setSure(e.currentTarget.checked)} />
        <ProblemAlert error={restore.error} title="The backup was not restored (nothing changed)" />
        <Group justify="end">
          <Button variant="default" onClick={onClose}>Cancel</Button>
          <Button color="orange" disabled={!sure} onClick={() => restore.mutate()} loading={restore.isPending}>
            Restore
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}
