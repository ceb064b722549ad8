import { describe, expect, it } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import ProviderDetailPage from "./ProviderDetail";
import { fakeApi, problem, renderAt } from "../test/harness";

const at = "2026-11-01T10:00:00Z";
const provider = {
  id: "p1", name: "OpenAI production", slug: "openai-prod", protocol: "openai", base_url: "https://api.openai.com/v1", template: "openai", params: {},
  system: false, enabled: true, status: "healthy", headers: {}, settings: { timeout_ms: 60000, max_retries: 2 }, version: 3, created_at: at, updated_at: at,
  credentials: [{ id: "c1", name: "primary", method: "api_key", config: {}, secrets: { api_key: { set: true, hint: "sk-…abcd" } }, weight: 1, status: "active", models: [] }],
};
const caps = { context_window: 128000, max_output_tokens: 16384, input_modalities: ["text"], output_modalities: ["text"], tools: true, json_mode: true, streaming: true, vision: false, embeddings: false, reasoning: false };
const model = (id: string, upstream: string, version: number) => ({
  id, provider_id: "p1", upstream_id: upstream, display_name: upstream.toUpperCase(), aliases: [], enabled: true, status: "available",
  capabilities: caps, pricing: { input_per_mtok: 2.5, output_per_mtok: 10 }, sources: { tools: "override" }, version, created_at: at, updated_at: at,
});

function setup(bulkFails: boolean) {
  return fakeApi((method, path, body) => {
    if (method === "GET" && path === "/providers/p1") return { body: provider };
    if (method === "GET" && path.startsWith("/providers/p1/models?")) return { body: { items: [model("m1", "gpt-4o", 4), model("m2", "gpt-4o-mini", 1)], next_cursor: null } };
    if (method === "PATCH" && path === "/providers/p1") return { body: { ...provider, version: 4, ...(body as object) , credentials: provider.credentials } };
    if (method === "POST" && path === "/providers/p1/models/bulk") {
      if (bulkFails)
        return {
          status: 412,
          body: { applied: false, results: [{ index: 0, op: "update", status: "error", error: problem(412, "stale_version", "the model changed since you read it; read it again") }, { index: 1, op: "update", status: "not_applied" }] },
        };
      return { body: { applied: true, results: [] } };
    }
    return undefined;
  });
}

describe("provider detail", () => {
  it("shows secrets only as set and masked, and replaces one without showing it again", async () => {
    const user = userEvent.setup();
    const { api, calls } = setup(false);
    renderAt(<ProviderDetailPage />, api, "/p/p1", "/p/:id");
    expect(await screen.findByText("sk-…abcd")).toBeTruthy();
    await user.click(screen.getByRole("button", { name: "Replace api_key of primary" }));
    await user.type(screen.getByLabelText("New api_key"), "sk-new-secret");
    await user.click(screen.getByRole("button", { name: "Save settings" }));
    await waitFor(() => expect(calls.some((c) => c.method === "PATCH")).toBe(true));
    const patch = calls.find((c) => c.method === "PATCH")!;
    expect(patch.headers.get("If-Match")).toBe('"3"');
    expect((patch.body as { credentials: unknown[] }).credentials).toEqual([
      { id: "c1", name: "primary", method: "api_key", config: {}, weight: 1, status: "active", models: [], secrets: { api_key: "sk-new-secret" } },
    ]);
    await screen.findByRole("button", { name: "Replace api_key of primary" });
    expect(document.body.innerHTML).not.toContain("sk-new-secret");
  });

  it("lists models with capability badges and prices, and names the failures of a refused bulk change", async () => {
    const user = userEvent.setup();
    const { api, calls } = setup(true);
    renderAt(<ProviderDetailPage />, api, "/p/p1", "/p/:id");
    const table = await screen.findByRole("table", { name: "Models" });
    const row = within(table).getByText("gpt-4o").closest("tr")!;
    expect(within(row).getByText("tools")).toBeTruthy();
    expect(within(row).getByText("JSON")).toBeTruthy();
    expect(within(row).getByText("$2.50 / $10.00")).toBeTruthy();
    expect(within(row).getByText("128k")).toBeTruthy();

    await user.click(screen.getByLabelText("Select all models"));
    await user.click(screen.getByRole("button", { name: "Disable selected" }));
    expect(await screen.findByText("gpt-4o: the model changed since you read it; read it again")).toBeTruthy();
    const bulk = calls.find((c) => c.path === "/providers/p1/models/bulk")!;
    expect(bulk.body).toEqual({
      operations: [
        { op: "update", id: "m1", version: 4, patch: { enabled: false } },
        { op: "update", id: "m2", version: 1, patch: { enabled: false } },
      ],
    });
  });
});
