import { describe, expect, it } from "vitest";
import { act, screen, waitFor, within } from "@testing-library/react";
import ProvidersPage from "./pages/Providers";
import { LiveIndicator } from "./components/Shell";
import { LiveProvider, mergeLive, type EventStream } from "./live";
import { fakeApi, renderAt } from "./test/harness";

const at = "2026-11-26T10:00:00Z";
const provider = {
  id: "p1", name: "OpenAI production", slug: "openai-prod", protocol: "openai", base_url: "https://api.openai.com/v1", template: "openai", params: {},
  system: false, enabled: true, status: "healthy", headers: {}, settings: {}, version: 3, created_at: at, updated_at: at, credentials: [],
};

/** FakeStream is an EventSource the test drives. */
class FakeStream implements EventStream {
  readyState = 0;
  onopen: ((e: Event) => void) | null = null;
  onerror: ((e: Event) => void) | null = null;
  listeners = new Map<string, ((e: MessageEvent) => void)[]>();
  closed = false;
  constructor(public url: string) {}
  addEventListener(type: string, fn: (e: MessageEvent) => void) {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), fn]);
  }
  close() {
    this.closed = true;
    this.readyState = 2;
  }
  open() {
    this.readyState = 1;
    act(() => this.onopen?.(new Event("open")));
  }
  emit(type: string, data: unknown) {
    act(() => this.listeners.get(type)?.forEach((fn) => fn(new MessageEvent(type, { data: JSON.stringify(data) }))));
  }
  fail() {
    this.readyState = 2;
    act(() => this.onerror?.(new Event("error")));
  }
}

function setup() {
  let status = "healthy";
  const { api, calls } = fakeApi((method, path) => {
    if (method === "GET" && path.startsWith("/providers?")) return { body: { items: [{ ...provider, status }], next_cursor: null } };
    if (method === "GET" && path === "/health")
      return {
        body: {
          checks_enabled: true, leader: true,
          providers: [{ provider_id: "p1", name: provider.name, slug: provider.slug, status, checks_enabled: true, reason: null, changed_at: at,
            last_check: { id: "h1", provider_id: "p1", at, ok: status !== "down", latency_ms: 180, code: status === "down" ? "unavailable" : null } }],
        },
      };
    if (method === "GET" && path.startsWith("/analytics/usage?")) {
      const point = (h: number, requests: number) => ({ at: `2026-11-26T0${h}:00:00Z`, requests, errors: 1, cancelled: 0, error_rate: 1 / requests, input_tokens: 100, output_tokens: 10, cost_usd: 0.5, latency_p50_ms: 300, latency_p95_ms: 1234.5, latency_p99_ms: 2000, ttft_p50_ms: 0 });
      return {
        body: {
          from: at, to: at, resolution: "hour", group_by: "provider",
          series: [{ key: "p1", name: provider.name, total: { ...point(0, 40), error_rate: 0.05, cost_usd: 1.25 }, points: [point(1, 10), point(2, 30)] }],
        },
      };
    }
    return undefined;
  });
  return { api, calls, setStatus: (s: string) => (status = s) };
}

describe("live status", () => {
  it("shows a status change from the event stream without polling, and today's numbers", async () => {
    const { api, calls, setStatus } = setup();
    const streams: FakeStream[] = [];
    const open = (url: string) => {
      const s = new FakeStream(url);
      streams.push(s);
      return s;
    };
    renderAt(
      <LiveProvider url={`${api.baseUrl}/events`} open={open}>
        <LiveIndicator />
        <ProvidersPage />
      </LiveProvider>,
      api,
    );
    const row = await screen.findByRole("row", { name: /OpenAI production/ });
    await waitFor(() => expect(within(row).getByText("$1.25")).toBeTruthy());
    expect(within(row).getByText("5.0%")).toBeTruthy();
    expect(within(row).getByText("1235 ms")).toBeTruthy();
    expect(within(row).getByText("40")).toBeTruthy();
    expect(within(row).getByText(/ok · 180 ms/)).toBeTruthy();
    // The sparkline, whose charts library loads after the table shows.
    expect(await within(row).findByLabelText("Requests per hour today for OpenAI production")).toBeTruthy();
    expect(screen.getByRole("status", { name: "Live updates: connecting" })).toBeTruthy();
    expect(streams[0].url).toBe("http://localhost/api/v1/events");

    streams[0].open();
    expect(await screen.findByRole("status", { name: "Live updates: live" })).toBeTruthy();
    setStatus("down");
    const before = calls.length;
    streams[0].emit("provider.status", { provider_id: "p1", slug: "openai-prod", from: "healthy", to: "down", reason: "3 health checks in a row failed", at });
    // The badge changes from the event itself.
    await waitFor(() => expect(within(screen.getByRole("row", { name: /OpenAI production/ })).getByLabelText("status: down")).toBeTruthy());
    await waitFor(() => expect(within(screen.getByRole("row", { name: /OpenAI production/ })).getByText(/failed \(unavailable\)/)).toBeTruthy());
    expect(calls.slice(before).some((c) => c.path === "/health")).toBe(true);
  });

  it("keeps a status from an event when a read of /health that raced it is older", async () => {
    const { api, calls } = setup(); // the server keeps answering healthy, changed at `at`
    const streams: FakeStream[] = [];
    renderAt(
      <LiveProvider url="/api/v1/events" open={(u) => (streams.push(new FakeStream(u)), streams[streams.length - 1])}>
        <ProvidersPage />
      </LiveProvider>,
      api,
    );
    await screen.findByRole("row", { name: /OpenAI production/ });
    streams[0].open();
    const reads = () => calls.filter((c) => c.path === "/health").length;
    const before = reads();
    streams[0].emit("provider.status", { provider_id: "p1", slug: "openai-prod", from: "healthy", to: "down", reason: "x", at: "2026-11-26T10:05:00Z" });
    await waitFor(() => expect(reads()).toBeGreaterThan(before));
    await new Promise((r) => setTimeout(r, 50));
    expect(within(screen.getByRole("row", { name: /OpenAI production/ })).getByLabelText("status: down")).toBeTruthy();
    // An event older than the last change the server reports does not win.
    expect(mergeLive({ checks_enabled: true, leader: true, providers: [{ provider_id: "p1", status: "healthy", changed_at: "2026-11-26T10:10:00Z" } as never] },
      { p1: { provider_id: "p1", slug: "", from: "healthy", to: "down", reason: "", at: "2026-11-26T10:05:00Z" } })!.providers[0].status).toBe("healthy");
  });

  it("shows the stream going away and opens it again", async () => {
    const { api } = setup();
    const streams: FakeStream[] = [];
    const open = (url: string) => {
      const s = new FakeStream(url);
      streams.push(s);
      return s;
    };
    renderAt(
      <LiveProvider url="/api/v1/events" open={open}>
        <LiveIndicator />
      </LiveProvider>,
      api,
    );
    streams[0].open();
    expect(await screen.findByRole("status", { name: "Live updates: live" })).toBeTruthy();
    streams[0].fail();
    expect(await screen.findByRole("status", { name: "Live updates: offline" })).toBeTruthy();
    expect(streams[0].closed).toBe(true);
    await waitFor(() => expect(streams.length).toBe(2), { timeout: 3000 });
    streams[1].open();
    expect(await screen.findByRole("status", { name: "Live updates: live" })).toBeTruthy();
  });
});
