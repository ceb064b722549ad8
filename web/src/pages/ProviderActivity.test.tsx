import { describe, expect, it } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { AuditSection, HealthSection, changedFields } from "./ProviderActivity";
import { BenchmarkDialog, benchmarkProgress } from "./Benchmark";
import { fakeApi, problem, renderAt } from "../test/harness";
import type { Model, Provider } from "../api/client";

const at = "2026-11-26T10:00:00Z";
const p = { id: "p1", name: "Alpha", enabled: true } as Provider;
const model = { id: "m1", provider_id: "p1", upstream_id: "gpt-4o" } as Model;

describe("provider health", () => {
  it("shows the status history with reasons and runs a check on demand", async () => {
    const user = userEvent.setup();
    const { api, calls } = fakeApi((method, path) => {
      if (method === "GET" && path.startsWith("/providers/p1/health?"))
        return {
          body: {
            provider_id: "p1", status: "down",
            changes: { items: [{ id: "c1", provider_id: "p1", at, from: "healthy", to: "down", reason: "3 health checks in a row failed (last: timeout)" }], next_cursor: null },
            checks: { items: [{ id: "h1", provider_id: "p1", at, ok: false, latency_ms: 10000, code: "timeout" }], next_cursor: null },
          },
        };
      if (method === "POST" && path === "/providers/p1/health/check") return { body: { id: "h2", provider_id: "p1", at, ok: false, latency_ms: 95, code: "auth_failed" } };
      return undefined;
    });
    renderAt(<HealthSection p={p} admin />, api);
    const history = await screen.findByRole("table", { name: "Status history" });
    expect(within(history).getByText("3 health checks in a row failed (last: timeout)")).toBeTruthy();
    expect(within(history).getByLabelText("status: healthy")).toBeTruthy();
    expect(within(history).getByLabelText("status: down")).toBeTruthy();
    expect(screen.getByText("Recent checks (1, 1 failed)")).toBeTruthy();
    await user.click(screen.getByRole("button", { name: "Check health now" }));
    expect(await screen.findByText("The check failed: auth_failed")).toBeTruthy();
    expect(calls.find((c) => c.method === "POST")!.headers.get("X-CSRF-Token")).toBe("csrf-123");
  });

  it("offers users no check button", async () => {
    const { api } = fakeApi(() => ({ body: { provider_id: "p1", status: "healthy", changes: { items: [], next_cursor: null }, checks: { items: [], next_cursor: null } } }));
    renderAt(<HealthSection p={p} admin={false} />, api);
    expect(await screen.findByText("No status change yet")).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Check health now" })).toBeNull();
  });
});

describe("audit trail", () => {
  it("names the fields each change made", async () => {
    expect(changedFields({ id: "a", at, actor_id: "u", actor_name: "root", action: "update", resource_type: "provider", resource_id: "p1", remote_addr: "", before: { name: "A", version: 1, settings: { x: 1 } }, after: { name: "B", version: 2, settings: { x: 1 } } })).toEqual(["name"]);
    const { api, calls } = fakeApi((_method, path) =>
      path.startsWith("/audit?")
        ? { body: { items: [{ id: "a1", at, actor_id: "u1", actor_name: "grace", action: "update", resource_type: "provider", resource_id: "p1", remote_addr: "", before: { base_url: "a" }, after: { base_url: "b" } }], next_cursor: null } }
        : undefined,
    );
    renderAt(<AuditSection p={p} />, api);
    const table = await screen.findByRole("table", { name: "Audit trail" });
    expect(within(table).getByText("grace")).toBeTruthy();
    expect(within(table).getByText("base_url")).toBeTruthy();
    expect(calls.some((c) => c.path.startsWith("/audit?") && c.path.includes("resource_id=p1"))).toBe(true);
  });
});

describe("benchmark", () => {
  it("starts a run, follows its progress and shows the result", async () => {
    const user = userEvent.setup();
    let reads = 0;
    const run = { id: "r1", model_id: "m1", status: "running", requests: 10, concurrency: 2, done: 0, errors: 0, started_at: at };
    const { api, calls } = fakeApi((method, path) => {
      if (path === "/models/m1/benchmark" && method === "GET") {
        if (reads++ === 0) return { status: 404, body: problem(404, "not_found", "never benchmarked") };
        if (reads < 3) return { body: { ...run, done: 4 } };
        return {
          body: {
            ...run, status: "completed", done: 10, errors: 1, finished_at: at,
            result: { id: "r1", model_id: "m1", at, status: "completed", requests: 10, concurrency: 2, errors: 1, error_rate: 0.1, p50_ms: 820, p95_ms: 1400, p99_ms: 2100, ttft_ms: 240, tokens_per_s: 61.5, duration_ms: 14000 },
          },
        };
      }
      if (path === "/models/m1/benchmark" && method === "POST") return { status: 202, body: run };
      if (path.startsWith("/models/m1/benchmarks")) return { body: { items: [], next_cursor: null } };
      return undefined;
    });
    renderAt(<BenchmarkDialog model={model} onClose={() => {}} />, api);
    expect(await screen.findByText("This model was never benchmarked.")).toBeTruthy();
    const requests = screen.getByRole("textbox", { name: "Requests" });
    await user.clear(requests);
    await user.type(requests, "10");
    const conc = screen.getByRole("textbox", { name: "At a time" });
    await user.clear(conc);
    await user.type(conc, "2");
    await user.click(screen.getByRole("button", { name: "Start benchmark" }));
    expect(calls.find((c) => c.method === "POST")!.body).toEqual({ requests: 10, concurrency: 2 });
    expect(await screen.findByRole("button", { name: "Cancel benchmark" })).toBeTruthy();
    expect(await screen.findByText("4 of 10 requests · 0 failed", {}, { timeout: 3000 })).toBeTruthy();
    const result = await screen.findByRole("table", { name: "Benchmark result" }, { timeout: 4000 });
    expect(within(result).getByText("820 ms")).toBeTruthy();
    expect(within(result).getByText("61.5")).toBeTruthy();
    expect(screen.getByRole("button", { name: "Start benchmark" })).toBeTruthy();
    expect(benchmarkProgress({ done: 3, requests: 4 })).toBe(75);
  });

  it("shows the API's field error beside its field", async () => {
    const user = userEvent.setup();
    const { api } = fakeApi((method, path) => {
      if (path === "/models/m1/benchmark" && method === "GET") return { status: 404, body: problem(404, "not_found", "never") };
      if (path === "/models/m1/benchmark" && method === "POST")
        return { status: 422, body: problem(422, "invalid", "the request is invalid", [{ field: "concurrency", code: "max", message: "concurrency is at most 16" }]) };
      if (path.startsWith("/models/m1/benchmarks")) return { body: { items: [], next_cursor: null } };
      return undefined;
    });
    renderAt(<BenchmarkDialog model={model} onClose={() => {}} />, api);
    await user.click(await screen.findByRole("button", { name: "Start benchmark" }));
    await waitFor(() => expect(screen.getByText("concurrency is at most 16")).toBeTruthy());
    expect(screen.getByRole("textbox", { name: "At a time" }).getAttribute("aria-invalid")).toBe("true");
  });
});
