import { useState } from "react";
import { Badge, Button, Group, Modal, NumberInput, Progress, Stack, Table, Text } from "@mantine/core";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { ApiError, fieldErrors, unwrap, type Model, type Schemas } from "../api/client";
import { useApi } from "../session";
import { Loading, ProblemAlert } from "../components/States";
import { ms, percent } from "../components/usage";

type Run = Schemas["BenchmarkRun"];
type Result = Schemas["BenchmarkResult"];

/** benchmarkProgress is a run's completion in percent. */
export function benchmarkProgress(r: Pick<Run, "done" | "requests">): number {
  return r.requests > 0 ? Math.min(100, Math.round((r.done / r.requests) * 100)) : 0;
}

/**
 * BenchmarkDialog starts a model's benchmark, follows its progress (reading
 * it every second while it runs) and shows its result and the model's
 * earlier runs.
 */
export function BenchmarkDialog({ model, onClose }: { model: Model; onClose(): void }) {
  const api = useApi();
  const qc = useQueryClient();
  const [requests, setRequests] = useState<number | string>(20);
  const [concurrency, setConcurrency] = useState<number | string>(4);
  const key = ["benchmark", model.id];
  const run = useQuery({
    queryKey: key,
    queryFn: async () => {
      const res = await api.GET("/models/{id}/benchmark", { params: { path: { id: model.id } } });
      if (res.response.status === 404) return null; // never benchmarked
      return unwrap(res);
    },
    refetchInterval: (q) => (q.state.data?.status === "running" ? 1000 : false),
  });
  const history = useQuery({
    queryKey: ["benchmarks", model.id, run.data?.status],
    queryFn: async () => unwrap(await api.GET("/models/{id}/benchmarks", { params: { path: { id: model.id }, query: { limit: 5 } } })),
  });
  const start = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/models/{id}/benchmark", {
          params: { path: { id: model.id } },
          body: { requests: Number(requests) || undefined, concurrency: Number(concurrency) || undefined },
        }),
      ),
    onSuccess: (r) => qc.setQueryData(key, r),
  });
  const cancel = useMutation({
    mutationFn: async () => unwrap(await api.DELETE("/models/{id}/benchmark", { params: { path: { id: model.id } } })),
    onSuccess: (r) => qc.setQueryData(key, r),
  });
  const fe = fieldErrors(start.error instanceof ApiError ? start.error.problem : null);
  const r = run.data;
  const running = r?.status === "running";
  return (
    <Modal opened onClose={onClose} title={`Benchmark ${model.upstream_id}`} size="lg">
      <Stack>
        <Text size="sm" c="dimmed">
          Small streamed requests through the provider measure latency, time to first token and throughput. They are real calls and
          are billed like any other.
        </Text>
        <Group align="end">
          <NumberInput label="Requests" min={1} max={500} value={requests} onChange={setRequests} error={fe.requests} w={140} disabled={running} />
          <NumberInput label="At a time" min={1} max={16} value={concurrency} onChange={setConcurrency} error={fe.concurrency} w={140} disabled={running} />
          {running ? (
            <Button color="red" variant="light" onClick={() => cancel.mutate()} loading={cancel.isPending}>
              Cancel benchmark
            </Button>
          ) : (
            <Button onClick={() => start.mutate()} loading={start.isPending}>
              Start benchmark
            </Button>
          )}
        </Group>
        <ProblemAlert error={start.error} shown={["requests", "concurrency"]} title="The benchmark did not start" />
        <ProblemAlert error={cancel.error} title="Could not cancel it" />
        {run.isPending ? (
          <Loading label="Loading the last benchmark" />
        ) : run.isError ? (
          <ProblemAlert error={run.error} title="Could not read the benchmark" />
        ) : r ? (
          <Stack gap="xs" aria-live="polite" data-testid="benchmark-run">
            <Group justify="space-between">
              <Badge color={running ? "blue" : r.status === "completed" ? "green" : "gray"} variant="light">
                {r.status}
              </Badge>
              <Text size="sm">
                {r.done} of {r.requests} requests · {r.errors} failed
              </Text>
            </Group>
            <Progress value={benchmarkProgress(r)} animated={running} aria-label="Benchmark progress" />
            {r.message && <Text size="sm" c="red">{r.message}</Text>}
            {r.result && <ResultTable results={[r.result]} label="Benchmark result" />}
          </Stack>
        ) : (
          <Text size="sm" c="dimmed">This model was never benchmarked.</Text>
        )}
        {history.data && history.data.items.length > 1 && (
          <Stack gap={4}>
            <Text size="sm" fw={500}>Earlier runs</Text>
            <ResultTable results={history.data.items} label="Earlier benchmark runs" />
          </Stack>
        )}
        <Group justify="end">
          <Button variant="default" onClick={onClose}>Close</Button>
        </Group>
      </Stack>
    </Modal>
  );
}

function ResultTable({ results, label }: { results: Result[]; label: string }) {
  return (
    <Table aria-label={label} verticalSpacing={4}>
      <Table.Thead>
        <Table.Tr>
          <Table.Th>When</Table.Th>
          <Table.Th>Requests</Table.Th>
          <Table.Th>Errors</Table.Th>
          <Table.Th>p50</Table.Th>
          <Table.Th>p95</Table.Th>
          <Table.Th>p99</Table.Th>
          <Table.Th>First token</Table.Th>
          <Table.Th>Tokens/s</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {results.map((x, i) => (
          <Table.Tr key={x.id ?? i}>
            <Table.Td>{new Date(x.at).toLocaleString()}</Table.Td>
            <Table.Td>{x.requests}</Table.Td>
            <Table.Td>{percent(x.error_rate)}</Table.Td>
            <Table.Td>{ms(x.p50_ms)}</Table.Td>
            <Table.Td>{ms(x.p95_ms)}</Table.Td>
            <Table.Td>{ms(x.p99_ms)}</Table.Td>
            <Table.Td>{ms(x.ttft_ms)}</Table.Td>
            <Table.Td>{x.tokens_per_s ? x.tokens_per_s.toFixed(1) : "—"}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}
