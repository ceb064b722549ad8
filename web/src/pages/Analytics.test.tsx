import { describe, expect, it } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import AnalyticsPage from "./Analytics";
import { evidenceValue, pivot } from "./analytics";
import { adminUser, fakeApi, renderAt } from "../test/harness";

const pt = (at: string, requests: number, extra: object = {}) => ({
  at, requests, errors: 0, cancelled: 0, error_rate: 0, input_tokens: 10, output_tokens: 5, cost_usd: 0.01, latency_p50_ms: 100, latency_p95_ms: 200, latency_p99_ms: 300, ttft_p50_ms: 50, ...extra,
});
const total = (requests: number) => ({ ...pt("", requests), error_rate: 0.25, errors: requests / 4, cost_usd: 1.5 });
const report = {
  from: "2026-11-25T10:00:00Z", to: "2026-11-26T10:00:00Z", resolution: "hour", group_by: "provider",
  series: [
    { key: "p1", name: "Alpha", total: total(40), points: [pt("2026-11-26T08:00:00Z", 10), pt("2026-11-26T09:00:00Z", 30)] },
    { key: "p2", name: "", total: total(4), points: [pt("2026-11-26T09:00:00Z", 4)] },
  ],
};
const recs = {
  items: [{
    kind: "faster_provider", subject: { type: "provider", id: "p1", name: "Alpha" }, alternative: { type: "provider", id: "p2", name: "Beta" },
    message: "Beta answers gpt-4o in 301 ms at the median, against 902 ms on Alpha, over the last 7 days",
    evidence: { window_days: 7, latency_p50_ms: 902.1, alternative_requests: 80 },
  }],
};

describe("analytics", () => {
  it("pivots series into chart rows, filling buckets a series lacks", () => {
    expect(pivot(report.series, (p) => p.requests)).toEqual([
      { at: "2026-11-26T08:00:00Z", s0: 10, s1: 0 },
      { at: "2026-11-26T09:00:00Z", s0: 30, s1: 4 },
    ]);
    expect(evidenceValue("saving_share", 0.25)).toBe("25.0%");
    expect(evidenceValue("cost_usd", 1.234)).toBe("$1.23");
    expect(evidenceValue("latency_p50_ms", 902.1)).toBe("902 ms");
  });

  it("asks for the chosen range, resolution and grouping, and shows totals and recommendations with evidence", async () => {
    const user = userEvent.setup();
    const { api, calls } = fakeApi((_method, path) => {
      if (path.startsWith("/analytics/usage?")) return { body: report };
      if (path === "/analytics/recommendations") return { body: recs };
      return undefined;
    });
    renderAt(<AnalyticsPage />, api);
    const totals = await screen.findByRole("table", { name: "Totals" });
    expect(within(totals).getByRole("link", { name: "Alpha" })).toBeTruthy();
    expect(within(totals).getByText("p2… (deleted)")).toBeTruthy();
    expect(within(totals).getAllByText("10 (25%)")).toHaveLength(1);
    let q = new URLSearchParams(calls.filter((c) => c.path.startsWith("/analytics/usage?")).pop()!.path.split("?")[1]);
    expect(q.get("group_by")).toBe("provider");
    expect(q.get("resolution")).toBeNull();
    expect(Date.parse(q.get("to") ?? "") || 0).toBe(0);
    const from = Date.parse(q.get("from")!);
    expect(Math.abs(Date.now() - from - 24 * 3600_000)).toBeLessThan(60_000);

    await user.click(screen.getByRole("radio", { name: "7 days" }));
    await user.click(screen.getAllByLabelText("Resolution")[0]);
    await user.click(await screen.findByRole("option", { name: "Day" }));
    await user.click(screen.getAllByLabelText("Group by")[0]);
    await user.click(await screen.findByRole("option", { name: "Model" }));
    await waitFor(() => {
      q = new URLSearchParams(calls.filter((c) => c.path.startsWith("/analytics/usage?")).pop()!.path.split("?")[1]);
      expect(q.get("group_by")).toBe("model");
      expect(q.get("resolution")).toBe("day");
      expect(Math.abs(Date.now() - Date.parse(q.get("from")!) - 7 * 24 * 3600_000)).toBeLessThan(60_000);
    });

    const rec = await screen.findByTestId("recommendation");
    expect(within(rec).getByText(/Beta answers gpt-4o/)).toBeTruthy();
    const ev = within(rec).getByRole("table", { name: "Evidence for Alpha" });
    expect(within(ev).getByText("7 days")).toBeTruthy();
    expect(within(ev).getByText("902 ms")).toBeTruthy();
    expect(within(ev).getByText("alternative: requests")).toBeTruthy();
  });

  it("shows users no recommendations and says when there is no traffic", async () => {
    const { api, calls } = fakeApi((_m, path) => (path.startsWith("/analytics/usage?") ? { body: { ...report, series: [] } } : undefined), { ...adminUser, role: "user" });
    renderAt(<AnalyticsPage />, api);
    expect(await screen.findByText("No requests in this range")).toBeTruthy();
    expect(screen.queryByRole("heading", { name: "Recommendations" })).toBeNull();
    expect(calls.some((c) => c.path === "/analytics/recommendations")).toBe(false);
  });
});
