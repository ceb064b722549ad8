import { describe, expect, it } from "vitest";
import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { LoginPage, safeNext } from "./Login";
import { AddModelForm } from "./ProviderDetail";
import ProvidersPage from "./Providers";
import { adminUser, fakeApi, problem, renderAt } from "../test/harness";

const input = (name: RegExp) => screen.getByLabelText(name, { selector: "input" }) as HTMLInputElement;

describe("login form", () => {
  it("names the missing fields, then shows the API's problem", async () => {
    const user = userEvent.setup();
    const { api, calls } = fakeApi(
      (method, path) =>
        method === "POST" && path === "/session" ? { status: 401, body: problem(401, "unauthorized", "the username or password is wrong") } : undefined,
      null,
    );
    renderAt(<LoginPage />, api, "/login");
    await user.click(await screen.findByRole("button", { name: "Log in" }));
    expect(screen.getByText("Enter your username")).toBeTruthy();
    expect(screen.getByText("Enter your password")).toBeTruthy();
    expect(calls.filter((c) => c.method === "POST")).toHaveLength(0);

    await user.type(input(/^Username/), "ada");
    await user.type(input(/^Password/), "wrong");
    await user.click(screen.getByRole("button", { name: "Log in" }));
    expect(await screen.findByText("the username or password is wrong")).toBeTruthy();
    expect(calls.find((c) => c.method === "POST")?.body).toEqual({ username: "ada", password: "wrong" });
  });

  it("keeps redirects after login inside the dashboard", () => {
    expect(safeNext("/providers/abc")).toBe("/providers/abc");
    expect(safeNext("//evil.example")).toBe("/providers");
    expect(safeNext("https://evil.example")).toBe("/providers");
    expect(safeNext("/\\evil.example")).toBe("/providers");
    expect(safeNext(null)).toBe("/providers");
  });
});

describe("add model form", () => {
  it("shows the API's field errors beside their fields", async () => {
    const user = userEvent.setup();
    const { api, calls } = fakeApi((method, path) =>
      method === "POST" && path === "/providers/p1/models"
        ? {
            status: 409,
            body: problem(409, "conflict", "model is invalid", [
              { field: "upstream_id", code: "duplicate", message: "this provider already has gpt-4o" },
              { field: "aliases[0]", code: "invalid", message: "an alias nobody shows" },
            ]),
          }
        : undefined,
    );
    renderAt(<AddModelForm providerId="p1" onDone={() => {}} />, api);
    await user.click(await screen.findByRole("button", { name: "Add model" }));
    expect(screen.getByText("Upstream model id is required")).toBeTruthy();

    await user.type(input(/^Upstream model id/), "gpt-4o");
    await user.type(input(/^Input \$/), "2.5");
    await user.click(screen.getByRole("button", { name: "Add model" }));
    expect(await screen.findByText("this provider already has gpt-4o")).toBeTruthy();
    expect(input(/^Upstream model id/).getAttribute("aria-invalid")).toBe("true");
    // A field no input claims is listed in the problem box.
    expect(screen.getByText(/an alias nobody shows/)).toBeTruthy();
    const post = calls.find((c) => c.method === "POST")!;
    expect(post.body).toEqual({ upstream_id: "gpt-4o", pricing: { input_per_mtok: 2.5, output_per_mtok: 0 } });
    expect(post.headers.get("X-CSRF-Token")).toBe("csrf-123");
  });
});

const provider = (id: string, name: string, enabled: boolean) => ({
  id, name, slug: name.toLowerCase(), protocol: "openai", base_url: "https://api.openai.com/v1", template: "", params: {}, system: false, enabled,
  status: enabled ? "healthy" : "disabled", settings: {}, version: 1, created_at: "2026-11-01T10:00:00Z", updated_at: "2026-11-01T10:00:00Z",
});

describe("providers list", () => {
  it("lets admins enable the selected providers at once", async () => {
    const user = userEvent.setup();
    const { api, calls } = fakeApi((method, path) => {
      if (method === "GET" && path.startsWith("/providers?")) return { body: { items: [provider("a", "Alpha", false), provider("b", "Beta", false), provider("c", "Gamma", true)], next_cursor: null } };
      if (method === "POST" && /^\/providers\/[ab]\/enable$/.test(path)) return { body: provider(path.split("/")[2], "x", true) };
      return undefined;
    });
    renderAt(<ProvidersPage />, api);
    await user.click(await screen.findByLabelText("Select Alpha"));
    await user.click(screen.getByLabelText("Select Beta"));
    await user.click(screen.getByLabelText("Select Gamma"));
    await user.click(screen.getByRole("button", { name: "Enable selected" }));
    await waitFor(() => expect(calls.filter((c) => c.method === "POST").map((c) => c.path)).toEqual(["/providers/a/enable", "/providers/b/enable"]));
  });

  it("shows users no selection and no admin actions", async () => {
    const { api } = fakeApi(
      (method, path) => (method === "GET" && path.startsWith("/providers?") ? { body: { items: [provider("c", "Gamma", true)], next_cursor: null } } : undefined),
      { ...adminUser, role: "user", username: "ada" },
    );
    renderAt(<ProvidersPage />, api);
    expect(await screen.findByRole("link", { name: "Gamma" })).toBeTruthy();
    expect(screen.queryByRole("checkbox")).toBeNull();
    expect(screen.queryByRole("link", { name: "Add provider" })).toBeNull();
    expect(screen.queryByLabelText("Enabled")).toBeNull();
  });

  it("says when there is nothing to show", async () => {
    const { api } = fakeApi((method, path) => (method === "GET" && path.startsWith("/providers?") ? { body: { items: [], next_cursor: null } } : undefined));
    renderAt(<ProvidersPage />, api);
    expect(await screen.findByText("No providers yet")).toBeTruthy();
  });
});
