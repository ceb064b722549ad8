import { describe, expect, it } from "vitest";
import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import WizardPage from "./Wizard";
import { azure, compatible } from "./fixtures";
import { fakeApi, problem, renderAt } from "../test/harness";

const preview = {
  provider: {
    id: "", name: "Azure EU", slug: "azure-eu", protocol: "azure_openai", base_url: "https://contoso.openai.azure.com", template: "azure-openai",
    params: { resource: "contoso", api_version: "2024-10-21" }, system: false, enabled: false, status: "unknown",
    credentials: [{ id: "", name: "default", method: "api_key", config: { header: "api-key", prefix: "" }, secrets: { api_key: { set: false } }, weight: 1, status: "active", models: [] }],
    headers: {}, settings: {}, version: 0, created_at: "2026-11-01T10:00:00Z", updated_at: "2026-11-01T10:00:00Z",
  },
  models: azure.models.map((m, i) => ({
    id: `m${i}`, provider_id: "", upstream_id: m.upstream_id, display_name: m.display_name, aliases: [], enabled: true, status: "unknown",
    capabilities: { context_window: 128000, max_output_tokens: 4096, input_modalities: ["text"], output_modalities: ["text"], tools: true, json_mode: false, streaming: true, vision: i === 0, embeddings: false, reasoning: false },
    pricing: m.pricing, sources: {}, version: 0, created_at: "2026-11-01T10:00:00Z", updated_at: "2026-11-01T10:00:00Z",
  })),
};

const passed = {
  at: "2026-11-26T10:00:00Z", ok: true, models: 2,
  stages: ["dns", "tcp", "tls", "auth", "endpoint", "models"].map((name) => ({ name, status: "ok", duration_ms: 3 })),
};

function api() {
  return fakeApi((method, path, body) => {
    const b = body as Record<string, any>;
    if (method === "GET" && path.startsWith("/templates?")) return { body: { items: [azure, compatible], next_cursor: null } };
    if (method === "POST" && path === "/templates/t-azure/preview") {
      if (b.params.resource === "taken") return { status: 400, body: problem(400, "invalid", "template parameters are invalid", [{ field: "params.resource", code: "taken", message: "the resource name is refused by the server" }]) };
      return { body: preview };
    }
    if (method === "POST" && path === "/connectivity-tests") return { body: passed };
    if (method === "POST" && path === "/templates/t-azure/instantiate") return { status: 201, body: { provider: { ...preview.provider, id: "p-new" }, models: [] } };
    return undefined;
  });
}

const field = (name: RegExp) => screen.getByLabelText(name, { selector: "input" }) as HTMLInputElement;

describe("setup wizard", () => {
  it("builds the parameters form from the template's schema and validates it inline", async () => {
    const user = userEvent.setup();
    const { api: client } = api();
    renderAt(<WizardPage />, client);
    await user.click(await screen.findByRole("button", { name: "Use the Azure OpenAI template" }));

    expect(field(/^Resource name/).value).toBe("");
    expect(field(/^API version/).value).toBe("2024-10-21");
    expect(field(/^Name/).value).toBe("Azure OpenAI");
    expect(field(/^Slug/).value).toBe("azure-openai");

    await user.click(screen.getByRole("button", { name: "Next" }));
    expect(await screen.findByText("Resource name is required")).toBeTruthy();
    expect(field(/^Resource name/).getAttribute("aria-invalid")).toBe("true");

    await user.type(field(/^Resource name/), "Bad Name");
    await user.click(screen.getByRole("button", { name: "Next" }));
    expect(await screen.findByText("does not have the expected form, such as my-openai-resource")).toBeTruthy();

    // The server's own check shows beside the field it names.
    await user.clear(field(/^Resource name/));
    await user.type(field(/^Resource name/), "taken");
    await user.click(screen.getByRole("button", { name: "Next" }));
    expect(await screen.findByText("the resource name is refused by the server")).toBeTruthy();
    expect(field(/^Resource name/).getAttribute("aria-invalid")).toBe("true");
  });

  it("keeps input across back and forward, tests, and saves with the chosen models", async () => {
    const user = userEvent.setup();
    const { api: client, calls } = api();
    renderAt(<WizardPage />, client);
    await user.click(await screen.findByRole("button", { name: "Use the Azure OpenAI template" }));
    await user.clear(field(/^Name/));
    await user.type(field(/^Name/), "Azure EU");
    expect(field(/^Slug/).value).toBe("azure-eu");
    await user.type(field(/^Resource name/), "contoso");
    await user.click(screen.getByRole("button", { name: "Next" }));

    await user.type(await screen.findByLabelText(/^API key/), "sk-secret-value");
    await user.click(screen.getByRole("button", { name: "Back" }));
    expect(field(/^Resource name/).value).toBe("contoso");
    expect(field(/^Name/).value).toBe("Azure EU");
    await user.click(screen.getByRole("button", { name: "Next" }));
    expect((screen.getByLabelText(/^API key/) as HTMLInputElement).value).toBe("sk-secret-value");

    await user.click(screen.getByRole("button", { name: "Next" }));
    expect(await screen.findByText("Connection works")).toBeTruthy();
    const test = calls.find((c) => c.path === "/connectivity-tests")!;
    expect(test.headers.get("X-CSRF-Token")).toBe("csrf-123");
    expect(test.body).toMatchObject({
      slug: "azure-eu", protocol: "azure_openai", base_url: "https://contoso.openai.azure.com", template: "azure-openai",
      credentials: [{ name: "default", method: "api_key", config: { header: "api-key" }, secrets: { api_key: "sk-secret-value" } }],
    });

    await user.click(screen.getByRole("button", { name: "Next" }));
    await user.click(screen.getByRole("button", { name: "Next" }));
    expect(await screen.findByText("Choose at least one model")).toBeTruthy();
    await user.click(screen.getByLabelText("Add gpt-4o"));
    await user.click(screen.getByRole("button", { name: "Next" }));

    // The review names the secret as set and never shows it.
    expect(await screen.findByText("api_key: set")).toBeTruthy();
    expect(document.body.textContent).not.toContain("sk-secret-value");
    await user.click(screen.getByRole("button", { name: "Save provider" }));
    expect(await screen.findByText("provider page")).toBeTruthy();
    const save = calls.find((c) => c.path === "/templates/t-azure/instantiate")!;
    expect(save.body).toEqual({ name: "Azure EU", slug: "azure-eu", params: { resource: "contoso", api_version: "2024-10-21" }, secrets: { api_key: "sk-secret-value" }, models: ["gpt-4o"], enabled: true });
  });

  it("sends the user back to the step of a field the server refuses on save", async () => {
    const user = userEvent.setup();
    const { api: client } = fakeApi((method, path) => {
      if (method === "GET" && path.startsWith("/templates?")) return { body: { items: [compatible], next_cursor: null } };
      if (method === "POST" && path === "/templates/t-compat/preview") return { body: { ...preview, models: [], provider: { ...preview.provider, protocol: "openai_compatible", base_url: "http://127.0.0.1:1/v1" } } };
      if (method === "POST" && path === "/connectivity-tests") return { body: passed };
      if (method === "POST" && path === "/templates/t-compat/instantiate")
        return { status: 409, body: problem(409, "conflict", "a provider with this slug exists", [{ field: "slug", code: "duplicate", message: "is taken by another provider; choose another" }]) };
      return undefined;
    });
    renderAt(<WizardPage />, client);
    await user.click(await screen.findByRole("button", { name: "Use the OpenAI-compatible endpoint template" }));
    await user.type(field(/^Base URL/), "http://127.0.0.1:1/v1");
    await user.click(screen.getByRole("button", { name: "Next" }));
    await user.type(await screen.findByLabelText(/^API key/), "k");
    await user.click(screen.getByRole("button", { name: "Next" }));
    await screen.findByText("Connection works");
    await user.click(screen.getByRole("button", { name: "Next" }));
    expect(screen.getByText(/This template lists no models/)).toBeTruthy();
    await user.click(screen.getByRole("button", { name: "Next" }));
    await user.click(screen.getByRole("button", { name: "Save provider" }));
    await waitFor(() => expect(field(/^Slug/).getAttribute("aria-invalid")).toBe("true"));
    expect(screen.getByText("is taken by another provider; choose another")).toBeTruthy();
    expect(screen.getByText("a provider with this slug exists")).toBeTruthy();
  });
});

describe("setup wizard from scratch", () => {
  it("asks for the protocol, address and auth method's fields, then creates the provider", async () => {
    const user = userEvent.setup();
    const { api: client, calls } = fakeApi((method, path) => {
      if (method === "GET" && path.startsWith("/templates?")) return { body: { items: [azure], next_cursor: null } };
      if (method === "POST" && path === "/connectivity-tests") return { body: passed };
      if (method === "POST" && path === "/providers") return { status: 201, body: { ...preview.provider, id: "p-blank" } };
      return undefined;
    });
    renderAt(<WizardPage />, client);
    await user.click(await screen.findByRole("button", { name: "Start blank" }));
    await user.type(field(/^Name/), "Corp gateway");
    await user.type(field(/^Base URL/), "llm.corp");
    await user.click(screen.getByRole("button", { name: "Next" }));
    expect(await screen.findByText("must be an http or https URL such as https://llm.example.com/v1")).toBeTruthy();
    await user.clear(field(/^Base URL/));
    await user.type(field(/^Base URL/), "https://llm.corp/v1");
    await user.click(screen.getByRole("button", { name: "Next" }));

    // Bearer token: one secret field.
    await user.click(screen.getByLabelText("Authentication", { selector: "input" }));
    await user.click(await screen.findByRole("option", { name: "Bearer token" }));
    await user.click(screen.getByRole("button", { name: "Next" }));
    expect(await screen.findByText("Bearer token is required")).toBeTruthy();
    await user.type(screen.getByLabelText(/^Bearer token/, { selector: "input" }), "tok-123");
    await user.click(screen.getByRole("button", { name: "Next" }));
    await screen.findByText("Connection works");
    await user.click(screen.getByRole("button", { name: "Next" }));
    expect(screen.getByText(/A blank provider starts without models/)).toBeTruthy();
    await user.click(screen.getByRole("button", { name: "Next" }));
    await user.click(screen.getByRole("button", { name: "Save provider" }));
    expect(await screen.findByText("provider page")).toBeTruthy();
    const create = calls.find((c) => c.method === "POST" && c.path === "/providers")!;
    expect(create.body).toEqual({
      name: "Corp gateway", slug: "corp-gateway", protocol: "openai_compatible", base_url: "https://llm.corp/v1",
      credentials: [{ name: "default", method: "bearer", config: {}, secrets: { token: "tok-123" } }], headers: {}, enabled: true,
    });
  });
});
