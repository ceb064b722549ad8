import { useState } from "react";
import { Badge, Button, Group, Modal, PasswordInput, Select, Stack, Table, TextInput, Title } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, fieldErrors, unwrap, type Schemas } from "../api/client";
import { useApi } from "../session";
import { Empty, Loading, ProblemAlert } from "../components/States";

/** UsersPage lists the people who log in and adds new ones (admins only). */
export default function UsersPage() {
  const api = useApi();
  const [creating, setCreating] = useState(false);
  const list = useQuery({
    queryKey: ["users"],
    queryFn: async () => unwrap(await api.GET("/users", { params: { query: { limit: 1000 } } })),
  });
  const items = list.data?.items ?? [];
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Users</Title>
        <Button onClick={() => setCreating(true)}>New user</Button>
      </Group>
      {list.isPending ? (
        <Loading label="Loading users" />
      ) : list.isError ? (
        <ProblemAlert error={list.error} title="Could not load the users" />
      ) : items.length === 0 ? (
        <Empty title="No users" />
      ) : (
        <Table striped aria-label="Users">
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Username</Table.Th>
              <Table.Th>Email</Table.Th>
              <Table.Th>Role</Table.Th>
              <Table.Th>State</Table.Th>
              <Table.Th>Last login</Table.Th>
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {items.map((u) => (
              <Table.Tr key={u.id}>
                <Table.Td>{u.username}</Table.Td>
                <Table.Td>{u.email || "—"}</Table.Td>
                <Table.Td><Badge variant="light" color={u.role === "admin" ? "indigo" : "gray"}>{u.role}</Badge></Table.Td>
                <Table.Td>{u.disabled ? "disabled" : "active"}</Table.Td>
                <Table.Td>{u.last_login_at ? new Date(u.last_login_at).toLocaleString() : "never"}</Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      )}
      <Modal opened={creating} onClose={() => setCreating(false)} title="New user">
        {creating && <CreateUserForm onDone={() => setCreating(false)} />}
      </Modal>
    </Stack>
  );
}

function CreateUserForm({ onDone }: { onDone(): void }) {
  const api = useApi();
  const qc = useQueryClient();
  const [username, setUsername] = useState("");
  const [email, setEmail] = useState("");
  const [role, setRole] = useState<Schemas["Role"]>("user");
  const [password, setPassword] = useState("");
  const create = useMutation({
    mutationFn: async () =>
      unwrap(await api.POST("/users", { body: { username: username.trim(), role, ...(email ? { email } : {}), ...(password ? { password } : {}) } })),
    onSuccess: () => {
      qc.invalidateQueries({ queryKey: ["users"] });
      onDone();
    },
  });
  const fe = create.error instanceof ApiError ? fieldErrors(create.error.problem) : {};
  return (
    <form noValidate onSubmit={(e) => { e.preventDefault(); create.mutate(); }}>
      <Stack>
        <TextInput label="Username" required value={username} onChange={(e) => setUsername(e.currentTarget.value)} error={fe.username} data-autofocus />
        <TextInput label="Email" type="email" value={email} onChange={(e) => setEmail(e.currentTarget.value)} error={fe.email} />
        <Select label="Role" allowDeselect={false} data={[{ value: "user", label: "User" }, { value: "admin", label: "Admin" }]} value={role} onChange={(v) => v && setRole(v as Schemas["Role"])} />
        <PasswordInput label="Password" description="At least 12 characters" autoComplete="new-password" value={password} onChange={(e) => setPassword(e.currentTarget.value)} error={fe.password} />
        <ProblemAlert error={create.error} shown={["username", "email", "role", "password"]} title="Could not create the user" />
        <Group justify="end">
          <Button type="submit" loading={create.isPending}>Create</Button>
        </Group>
      </Stack>
    </form>
  );
}
