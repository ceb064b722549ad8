import { describe, expect, it } from "vitest";
import { screen, waitFor, within, fireEvent } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import TemplatesPage, { ApplyDrawer, TemplateEditor } from "./Templates";
import { bodyOf, checkDraft, emptyDraft } from "./templateDraft";
import { azure, compatible } from "../wizard/fixtures";
import { fakeApi, problem, renderAt } from "../test/harness";
import type { Template } from "../api/client";

const custom: Template = { ...compatible, id: "t9", slug: "corp", name: "Corporate gateway", system: false, version: 2, models: [{ upstream_id: "m-a", display_name: "A" }] } as Template;

describe("template editor validation", () => {
  it("checks names, slug, the parameters schema, its defaults and the base URL placeholders", () => {
    expect(checkDraft({ ...emptyDraft, name: "Corp", slug: "corp" })).toEqual({});
    expect(checkDraft({ ...emptyDraft, slug: "Corp!" })).toMatchObject({ name: "Name is required", slug: expect.stringMatching(/lower-case/) });
    expect(checkDraft({ ...emptyDraft, name: "x", slug: "x", parameters: "{oops" }).parameters).toMatch(/^not JSON/);
    expect(checkDraft({ ...emptyDraft, name: "x", slug: "x", parameters: "[]" }).parameters).toMatch(/JSON object/);
    expect(checkDraft({ ...emptyDraft, name: "x", slug: "x", parameters: '{"type":"string"}' }).parameters).toMatch(/"object"/);
    expect(checkDraft({ ...emptyDraft, name: "x", slug: "x", parameters: '{"type":"object","required":["host"],"properties":{}}' }).parameters).toMatch(/required names host/);
    expect(
      checkDraft({ ...emptyDraft, name: "x", slug: "x", base_url: "https://{host}/v1", parameters: '{"type":"object","properties":{"host":{"type":"string"},"port":{"type":"integer","default":"eighty"}}}' }).parameters,
    ).toBe("the default of port must be a whole number");
    expect(checkDraft({ ...emptyDraft, name: "x", slug: "x", base_url: "https://{region}.example.com" }).base_url).toMatch(/\{region\} is not a parameter/);
    expect(checkDraft({ ...emptyDraft, name: "x", slug: "x", models: "a\nb\na" }).models).toBe("a is listed twice");
  });

  it("keeps the details of models that stay", () => {
    const b = bodyOf({ ...emptyDraft, name: "Corp", slug: "corp", models: "m-a\nm-b\n" }, custom);
    expect(b.models).toEqual([{ upstream_id: "m-a", display_name: "A" }, { upstream_id: "m-b" }]);
  });

  it("shows its own checks and then the API's beside the fields, and saves with If-Match", async () => {
    const user = userEvent.setup();
    const { api, calls } = fakeApi((method, path) =>
      method === "PATCH" && path === "/templates/t9"
        ? { status: 422, body: problem(422, "invalid", "the template is invalid", [{ field: "models[1].upstream_id", code: "invalid", message: "has spaces" }, { field: "slug", code: "taken", message: "corp is taken" }]) }
        : undefined,
    );
    renderAt(<TemplateEditor template={custom} onClose={() => {}} />, api);
    const params = screen.getByLabelText("Parameters (JSON Schema)");
    fireEvent.change(params, { target: { value: "{" } });
    await user.click(screen.getByRole("button", { name: "Save template" }));
    expect(screen.getByText(/^not JSON/)).toBeTruthy();
    expect(calls.some((c) => c.method === "PATCH")).toBe(false);
    fireEvent.change(params, { target: { value: JSON.stringify(compatible.parameters) } });
    fireEvent.change(screen.getByLabelText("Models"), { target: { value: "m-a\nbad id" } });
    await user.click(screen.getByRole("button", { name: "Save template" }));
    expect(await screen.findByText("models[1].upstream_id: has spaces")).toBeTruthy();
    expect(screen.getByText("corp is taken")).toBeTruthy();
    const patch = calls.find((c) => c.method === "PATCH")!;
    expect(patch.headers.get("If-Match")).toBe('"2"');
    expect((patch.body as { models: unknown[] }).models).toEqual([{ upstream_id: "m-a", display_name: "A" }, { upstream_id: "bad id" }]);
  });
});

describe("template library", () => {
  it("lists system and custom templates, filters them, and offers users no actions", async () => {
    const user = userEvent.setup();
    const { api } = fakeApi((method, path) => (method === "GET" && path.startsWith("/templates?") ? { body: { items: [azure, custom], next_cursor: null } } : undefined), {
      id: "u2", username: "ada", email: "", role: "user", disabled: false, has_password: true, version: 1, created_at: "", updated_at: "",
    });
    renderAt(<TemplatesPage />, api);
    expect(await screen.findByText("Azure OpenAI")).toBeTruthy();
    expect(screen.getByText("Corporate gateway")).toBeTruthy();
    await user.click(screen.getByText("Custom"));
    await waitFor(() => expect(screen.queryByText("Azure OpenAI")).toBeNull());
    expect(screen.queryByRole("button", { name: /Preview and apply/ })).toBeNull();
    expect(screen.queryByRole("button", { name: "New template" })).toBeNull();
  });

  it("previews with the parameters, shows the API's parameter error beside its field, then creates the provider", async () => {
    const user = userEvent.setup();
    const { api, calls } = fakeApi((method, path, body) => {
      const b = body as { params?: { resource?: string } };
      if (method === "POST" && path === `/templates/${azure.id}/preview`) {
        if (b.params?.resource === "bad") return { status: 422, body: problem(422, "invalid", "bad parameters", [{ field: "params.resource", code: "pattern", message: "no such resource form" }]) };
        return { body: { provider: { id: "", name: "Azure OpenAI", slug: "azure-openai", protocol: "azure_openai", base_url: "https://contoso.openai.azure.com", params: b.params, enabled: false, credentials: [] }, models: [] } };
      }
      if (method === "POST" && path === `/templates/${azure.id}/instantiate`) return { status: 201, body: { provider: { id: "p9", name: "Azure OpenAI", enabled: true }, models: [] } };
      return undefined;
    });
    renderAt(<ApplyDrawer template={azure} onClose={() => {}} />, api);
    const resource = await screen.findByRole("textbox", { name: /Resource/ });
    await user.click(screen.getByRole("button", { name: "Preview" }));
    expect(screen.getByText(/is required/)).toBeTruthy();
    expect(calls.some((c) => c.method === "POST")).toBe(false);
    await user.type(resource, "bad");
    await user.click(screen.getByRole("button", { name: "Preview" }));
    expect(await screen.findByText("no such resource form")).toBeTruthy();
    await user.clear(resource);
    await user.type(resource, "contoso");
    await user.click(screen.getByRole("button", { name: "Preview" }));
    const pv = await screen.findByTestId("template-preview");
    expect(within(pv).getByText("https://contoso.openai.azure.com")).toBeTruthy();
    await user.type(screen.getByLabelText("API key"), "sk-secret-value");
    await user.click(screen.getByRole("button", { name: "Create provider" }));
    await waitFor(() => expect(screen.getByText("provider page")).toBeTruthy());
    const inst = calls.find((c) => c.path.endsWith("/instantiate"))!;
    expect(inst.body).toMatchObject({ params: { resource: "contoso" }, secrets: { api_key: "sk-secret-value" }, enabled: true });
  });
});
