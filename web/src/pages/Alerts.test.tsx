import { describe, expect, it } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Notifications } from "@mantine/notifications";
import AlertsPage, { ChannelForm, RuleForm, describeRule, ruleDraft, rulePatch, thresholdIn, thresholdOut } from "./Alerts";
import { fakeApi, problem, renderAt } from "../test/harness";

describe("alert rules", () => {
  it("sends thresholds in the API's units and describes rules in words", async () => {
    expect(thresholdOut("error_rate", 10)).toBe(0.1);
    expect(thresholdOut("latency_p95", 8000)).toBe(8000);
    expect(thresholdIn("error_rate", 0.07)).toBe(7);
    expect(thresholdIn("monthly_spend", 250)).toBe(250);
    expect(describeRule({ kind: "error_rate", threshold: 0.1, window_minutes: 30 } as never)).toBe("Error rate at 10% over 30 min");
    const user = userEvent.setup();
    const { api, calls } = fakeApi((method, path, body) =>
      method === "POST" && path === "/alerts/rules" ? { status: 201, body: { id: "r1", builtin: false, enabled: true, cooldown_minutes: 5, channel_ids: [], version: 1, created_at: "", updated_at: "", ...(body as object) } } : undefined,
    );
    renderAt(<RuleForm channels={[]} onClose={() => {}} />, api);
    await user.type(screen.getByRole("textbox", { name: "Name" }), "Errors");
    const th = screen.getByRole("textbox", { name: "Error rate (%)" });
    await user.clear(th);
    await user.type(th, "25");
    await user.click(screen.getByRole("button", { name: "Create rule" }));
    await waitFor(() => expect(calls.some((c) => c.path === "/alerts/rules")).toBe(true));
    expect(calls.find((c) => c.path === "/alerts/rules")!.body).toEqual({ name: "Errors", kind: "error_rate", threshold: 0.25, window_minutes: 15, channel_ids: [] });
  });
});

describe("alert channels", () => {
  it("shows the API's error beside the URL and sends the secret only in the body", async () => {
    const user = userEvent.setup();
    const { api, calls } = fakeApi((method, path) =>
      method === "POST" && path === "/alerts/channels"
        ? { status: 422, body: problem(422, "invalid", "the channel is invalid", [{ field: "url", code: "blocked", message: "127.0.0.1 is a private address: allow it with SWITCHYARD_OUTBOUND_ALLOW" }]) }
        : undefined,
    );
    renderAt(<ChannelForm onClose={() => {}} />, api);
    await user.type(screen.getByRole("textbox", { name: "Name" }), "ops");
    await user.type(screen.getByRole("textbox", { name: "URL" }), "http://127.0.0.1/hook");
    await user.type(screen.getByLabelText("HMAC secret (optional)"), "s3cret-hmac");
    await user.click(screen.getByRole("button", { name: "Create channel" }));
    expect(await screen.findByText(/private address/)).toBeTruthy();
    expect(screen.getByRole("textbox", { name: "URL" }).closest('[data-error="true"]')).not.toBeNull();
    const post = calls.find((c) => c.path === "/alerts/channels")!;
    expect(post.body).toEqual({ name: "ops", kind: "webhook", url: "http://127.0.0.1/hook", secrets: { hmac_secret: "s3cret-hmac" } });
  });
});

const at = "2026-11-26T10:00:00Z";
const builtin = { id: "r1", name: "Provider down", kind: "provider_down", enabled: true, builtin: true, cooldown_minutes: 5, channel_ids: [], version: 1, created_at: at, updated_at: at };
const errors = { id: "r2", name: "Errors", kind: "error_rate", enabled: true, builtin: false, threshold: 0.1, window_minutes: 30, cooldown_minutes: 5, channel_ids: ["c1"], version: 4, created_at: at, updated_at: at };
const latency = {
  id: "r3", name: "Slow OpenAI", kind: "latency_p95", enabled: true, builtin: false, provider_id: "p1", threshold: 8000, window_minutes: 10, cooldown_minutes: 0, channel_ids: [], version: 2, created_at: at, updated_at: at,
};
const orphan = { id: "r4", name: "Old degraded", kind: "provider_degraded", enabled: true, builtin: false, provider_id: "p-gone", for_minutes: 15, cooldown_minutes: 5, channel_ids: [], version: 3, created_at: at, updated_at: at };
const spend = { id: "r5", name: "Spend", kind: "monthly_spend", enabled: true, builtin: false, threshold: 500, cooldown_minutes: 0, channel_ids: [], version: 1, created_at: at, updated_at: at };
const openai = { id: "p1", name: "OpenAI production", slug: "openai-prod" };
const anthropic = { id: "p2", name: "Anthropic", slug: "anthropic" };
const ollama = { id: "p3", name: "Local Ollama", slug: "ollama" };
const webhook = { id: "c1", name: "ops", kind: "webhook", enabled: true, url: "https://hooks.example.com/a", secrets: { hmac_secret: { set: true, hint: "…3f9a" } }, version: 2, created_at: at, updated_at: at };
const slack = { id: "c2", name: "team", kind: "slack", enabled: false, secrets: { url: { set: true, hint: "https://hooks.slack.com/…XXXX" } }, version: 7, created_at: at, updated_at: at };
const email = {
  id: "c3", name: "mail", kind: "email", enabled: true, smtp_host: "smtp.example.com", smtp_port: 587, username: "alerts", from: "sy@example.com",
  to: ["a@example.com", "b@example.com"], insecure_smtp: false, secrets: { password: { set: true } }, version: 1, created_at: at, updated_at: at,
};

type Reply = { status?: number; body?: unknown } | undefined;

/**
 * providersPage serves the providers in two pages (the second after the
 * cursor "next"), as the API pages a long list.
 */
function providersPage(path: string): Reply {
  if (!path.startsWith("/providers?")) return undefined;
  return new URLSearchParams(path.split("?")[1]).get("cursor") === "next"
    ? { body: { items: [anthropic, ollama], next_cursor: null } }
    : { body: { items: [openai], next_cursor: "next" } };
}

/** alertsApi serves the lists from mutable state; `mutate` answers the changes. */
function alertsApi(mutate: (method: string, path: string, body: unknown) => Reply, rules: object[] = [builtin, errors]) {
  const state = { rules, channels: [webhook, slack, email] as object[] };
  const fake = fakeApi((method, path, body) => {
    if (method === "GET" && path.startsWith("/alerts/rules?")) return { body: { items: state.rules, next_cursor: null } };
    if (method === "GET" && path.startsWith("/alerts/channels?")) return { body: { items: state.channels, next_cursor: null } };
    if (method === "GET") return providersPage(path);
    return mutate(method, path, body);
  });
  return { ...fake, state };
}

const renderTab = (tab: string, api: ReturnType<typeof fakeApi>["api"]) =>
  renderAt(
    <>
      <Notifications />
      <AlertsPage />
    </>,
    api,
    `/alerts/${tab}`,
    "/alerts/:tab",
  );

const value = (name: string, within_: HTMLElement = document.body) => (within(within_).getByRole("textbox", { name }) as HTMLInputElement).value;

describe("editing alert rules", () => {
  it("opens the form with the rule's values, sends only the change with its version, and shows a refusal beside the field", async () => {
    const user = userEvent.setup();
    const { api, calls } = alertsApi((method, path) =>
      method === "PATCH" && path === "/alerts/rules/r2"
        ? { status: 422, body: problem(422, "invalid", "alert rule is invalid", [{ field: "threshold", code: "out_of_range", message: "must be a fraction above 0 (0.1 for 10 %), at most 1" }]) }
        : undefined,
    );
    renderTab("rules", api);
    await user.click(await screen.findByRole("button", { name: "Edit Errors" }));
    const dialog = await screen.findByRole("dialog", { name: "Edit the rule Errors" });
    expect(value("Name", dialog)).toBe("Errors");
    expect(value("Error rate (%)", dialog)).toBe("10");
    expect(value("Window (minutes)", dialog)).toBe("30");
    expect(value("Cooldown (minutes)", dialog)).toBe("5");
    // The chosen channel, as a pill with its name.
    expect([...dialog.querySelectorAll(".mantine-Pill-label")].map((p) => p.textContent)).toEqual(["ops"]);

    const th = within(dialog).getByRole("textbox", { name: "Error rate (%)" });
    await user.clear(th);
    await user.type(th, "150");
    await user.click(within(dialog).getByRole("button", { name: "Save rule" }));
    expect(await within(dialog).findByText(/at most 1/)).toBeTruthy();
    expect(th.closest('[data-error="true"]')).not.toBeNull();
    const patch = calls.find((c) => c.method === "PATCH")!;
    expect(patch.headers.get("If-Match")).toBe('"4"');
    expect(patch.body).toEqual({ threshold: 1.5 });
  });

  it("edits the built-in rule, which offers no Delete, with the keyboard", async () => {
    const user = userEvent.setup();
    const { api, calls, state } = alertsApi((method, path, body) => {
      if (method === "PATCH" && path === "/alerts/rules/r1") {
        state.rules[0] = { ...builtin, ...(body as object), version: 2 };
        return { body: state.rules[0] };
      }
      return undefined;
    });
    renderTab("rules", api);
    expect(await screen.findByRole("button", { name: "Delete Errors" })).toBeTruthy();
    expect(screen.queryByRole("button", { name: "Delete Provider down" })).toBeNull();
    screen.getByRole("button", { name: "Edit Provider down" }).focus();
    await user.keyboard("{Enter}");
    const dialog = await screen.findByRole("dialog", { name: "Edit the rule Provider down" });
    expect(within(dialog).getByText(/can be changed or disabled, not deleted/)).toBeTruthy();
    const cooldown = within(dialog).getByRole("textbox", { name: "Cooldown (minutes)" });
    await user.clear(cooldown);
    await user.type(cooldown, "15{Enter}");
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    const patch = calls.find((c) => c.method === "PATCH")!;
    expect(patch.path).toBe("/alerts/rules/r1");
    expect(patch.body).toEqual({ cooldown_minutes: 15 });
    expect(patch.headers.get("X-CSRF-Token")).toBe("csrf-123");
  });

  it("disables a rule with its version, says why a refused toggle failed, and deletes a rule after a confirmation", async () => {
    const user = userEvent.setup();
    let stale = true;
    const { api, calls, state } = alertsApi((method, path, body) => {
      if (method === "PATCH" && path === "/alerts/rules/r2") {
        if (stale) {
          stale = false;
          return { status: 412, body: problem(412, "stale_version", "alert rule r2 changed since you read it (version 5, not 4); read it again") };
        }
        state.rules[1] = { ...errors, ...(body as object), version: 6 };
        return { body: state.rules[1] };
      }
      if (method === "DELETE" && path === "/alerts/rules/r2") {
        state.rules = [builtin];
        return { status: 204 };
      }
      return undefined;
    });
    renderTab("rules", api);
    const toggle = await screen.findByRole("switch", { name: "Enable Errors" });
    await user.click(toggle);
    expect(await screen.findByText(/changed since you read it/)).toBeTruthy();
    expect(screen.getByText("Could not disable Errors")).toBeTruthy();
    await user.click(screen.getByRole("switch", { name: "Enable Errors" }));
    await waitFor(() => expect((screen.getByRole("switch", { name: "Enable Errors" }) as HTMLInputElement).checked).toBe(false));
    const patches = calls.filter((c) => c.method === "PATCH");
    expect(patches.map((c) => c.body)).toEqual([{ enabled: false }, { enabled: false }]);
    expect(patches[0].headers.get("If-Match")).toBe('"4"');

    await user.click(screen.getByRole("button", { name: "Delete Errors" }));
    const confirm = await screen.findByRole("dialog", { name: "Delete the rule Errors?" });
    await user.click(within(confirm).getByRole("button", { name: "Cancel" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(calls.some((c) => c.method === "DELETE")).toBe(false);
    await user.click(screen.getByRole("button", { name: "Delete Errors" }));
    await user.click(within(await screen.findByRole("dialog", { name: "Delete the rule Errors?" })).getByRole("button", { name: "Delete" }));
    await waitFor(() => expect(screen.queryByRole("button", { name: "Edit Errors" })).toBeNull());
    const del = calls.find((c) => c.method === "DELETE")!;
    expect(del.path).toBe("/alerts/rules/r2");
    expect(del.headers.get("If-Match")).toBe('"6"');
  });
});

describe("editing alert channels", () => {
  it("shows a secret only as set, replaces it without rendering it back, and sends only the changes", async () => {
    const user = userEvent.setup();
    const { api, calls, state } = alertsApi((method, path, body) => {
      if (method === "PATCH" && path === "/alerts/channels/c1") {
        state.channels[0] = { ...webhook, url: (body as { url?: string }).url ?? webhook.url, secrets: { hmac_secret: { set: true, hint: "…cret" } }, version: 3 };
        return { body: state.channels[0] };
      }
      return undefined;
    });
    renderTab("channels", api);
    await user.click(await screen.findByRole("button", { name: "Edit ops" }));
    const dialog = await screen.findByRole("dialog", { name: "Edit the channel ops" });
    expect(value("URL", dialog)).toBe("https://hooks.example.com/a");
    expect(within(dialog).getByText("…3f9a")).toBeTruthy();
    expect(dialog.querySelector('input[type="password"]')).toBeNull(); // no input holds it
    await user.click(within(dialog).getByRole("button", { name: "Replace the HMAC secret" }));
    await user.type(within(dialog).getByLabelText("New HMAC secret"), "a-new-hmac-secret");
    const url = within(dialog).getByRole("textbox", { name: "URL" });
    await user.clear(url);
    await user.type(url, "https://hooks.example.com/b");
    await user.click(within(dialog).getByRole("button", { name: "Save channel" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    const patch = calls.find((c) => c.method === "PATCH")!;
    expect(patch.headers.get("If-Match")).toBe('"2"');
    expect(patch.body).toEqual({ url: "https://hooks.example.com/b", secrets: { hmac_secret: "a-new-hmac-secret" } });
    expect(await screen.findByText("hmac_secret: set · …cret")).toBeTruthy();
    expect(document.body.innerHTML).not.toContain("a-new-hmac-secret");
  });

  it("removes an optional secret, never a Slack URL, and keeps an email channel's fields", async () => {
    const user = userEvent.setup();
    const { api, calls } = alertsApi((method, _path, body) => (method === "PATCH" ? { body: { ...email, ...(body as object), secrets: {} } } : undefined));
    renderTab("channels", api);
    await user.click(await screen.findByRole("button", { name: "Edit team" }));
    let dialog = await screen.findByRole("dialog", { name: "Edit the channel team" });
    expect(within(dialog).getByText("https://hooks.slack.com/…XXXX")).toBeTruthy();
    expect(within(dialog).getByRole("button", { name: "Replace the Slack webhook URL" })).toBeTruthy();
    expect(within(dialog).queryByRole("button", { name: /Remove/ })).toBeNull();
    await user.click(within(dialog).getByRole("button", { name: "Cancel" }));

    await user.click(screen.getByRole("button", { name: "Edit mail" }));
    dialog = await screen.findByRole("dialog", { name: "Edit the channel mail" });
    expect(value("SMTP host", dialog)).toBe("smtp.example.com");
    expect(value("SMTP port", dialog)).toBe("587");
    expect(value("Username", dialog)).toBe("alerts");
    expect(value("To", dialog)).toBe("a@example.com, b@example.com");
    await user.click(within(dialog).getByRole("button", { name: "Remove the SMTP password" }));
    expect(within(dialog).getByText("removed when you save")).toBeTruthy();
    await user.click(within(dialog).getByRole("button", { name: "Save channel" }));
    await waitFor(() => expect(calls.some((c) => c.method === "PATCH")).toBe(true));
    expect(calls.find((c) => c.method === "PATCH")!.body).toEqual({ secrets: { password: null } });
  });

  it("enables a channel and shows a refused delete in its confirmation", async () => {
    const user = userEvent.setup();
    const { api, calls, state } = alertsApi((method, path, body) => {
      if (method === "PATCH" && path === "/alerts/channels/c2") {
        state.channels[1] = { ...slack, ...(body as object), version: 8 };
        return { body: state.channels[1] };
      }
      if (method === "DELETE") return { status: 412, body: problem(412, "stale_version", "alert channel c2 changed since you read it; read it again") };
      return undefined;
    });
    renderTab("channels", api);
    const toggle = await screen.findByRole("switch", { name: "Enable team" });
    expect((toggle as HTMLInputElement).checked).toBe(false);
    await user.click(toggle);
    await waitFor(() => expect((screen.getByRole("switch", { name: "Enable team" }) as HTMLInputElement).checked).toBe(true));
    const patch = calls.find((c) => c.method === "PATCH")!;
    expect(patch.body).toEqual({ enabled: true });
    expect(patch.headers.get("If-Match")).toBe('"7"');

    await user.click(screen.getByRole("button", { name: "Delete team" }));
    const confirm = await screen.findByRole("dialog", { name: "Delete the channel team?" });
    await user.click(within(confirm).getByRole("button", { name: "Delete" }));
    expect(await within(confirm).findByText(/changed since you read it/)).toBeTruthy();
    expect(calls.find((c) => c.method === "DELETE")!.headers.get("If-Match")).toBe('"8"');
  });
});

const ruleRow = (name: string) => document.querySelector(`tr[data-rule="${name}"]`) as HTMLElement;

describe("a rule's provider", () => {
  it("creates a rule scoped to one provider, chosen by searching its name, and sends its id", async () => {
    const user = userEvent.setup();
    const { api, calls } = fakeApi((method, path, body) =>
      method === "POST" && path === "/alerts/rules"
        ? { status: 201, body: { id: "r9", builtin: false, enabled: true, cooldown_minutes: 0, channel_ids: [], version: 1, created_at: at, updated_at: at, ...(body as object) } }
        : method === "GET" ? providersPage(path) : undefined,
    );
    renderAt(<RuleForm channels={[]} onClose={() => {}} />, api);
    await user.type(screen.getByRole("textbox", { name: "Name" }), "Anthropic errors");
    const provider = screen.getByRole("combobox", { name: "Provider" });
    await waitFor(() => expect((provider as HTMLInputElement).disabled).toBe(false));
    expect((provider as HTMLInputElement).placeholder).toBe("All providers");
    await user.type(provider, "anth");
    // Only the match is offered; the provider from the second page is there.
    expect(screen.getAllByRole("option").map((o) => o.textContent)).toEqual(["Anthropic"]);
    await user.click(screen.getByRole("option", { name: "Anthropic" }));
    expect((provider as HTMLInputElement).value).toBe("Anthropic");
    await user.click(screen.getByRole("button", { name: "Create rule" }));
    await waitFor(() => expect(calls.some((c) => c.method === "POST")).toBe(true));
    expect(calls.find((c) => c.method === "POST")!.body).toEqual({ name: "Anthropic errors", kind: "error_rate", threshold: 0.1, window_minutes: 15, provider_id: "p2", channel_ids: [] });
  });

  it("is offered only for the kinds about providers, and a new rule for all of them sends none", async () => {
    const user = userEvent.setup();
    const { api, calls } = fakeApi((method, path, body) =>
      method === "POST" ? { status: 201, body: { id: "r9", builtin: false, enabled: true, cooldown_minutes: 0, channel_ids: [], version: 1, created_at: at, updated_at: at, ...(body as object) } } : method === "GET" ? providersPage(path) : undefined,
    );
    renderAt(<RuleForm channels={[]} onClose={() => {}} />, api);
    await user.type(screen.getByRole("textbox", { name: "Name" }), "Down");
    const kind = screen.getByRole("combobox", { name: "Fires on" });
    for (const [label, offered] of [["Monthly spend", false], ["Connection budget", false], ["p95 latency", true], ["Provider degraded for a while", true], ["Provider down", true]] as const) {
      await user.click(kind);
      await user.click(screen.getByRole("option", { name: label }));
      expect(screen.queryByRole("combobox", { name: "Provider" }) !== null).toBe(offered);
    }
    await user.click(screen.getByRole("button", { name: "Create rule" }));
    await waitFor(() => expect(calls.some((c) => c.method === "POST")).toBe(true));
    expect(calls.find((c) => c.method === "POST")!.body).toEqual({ name: "Down", kind: "provider_down", channel_ids: [] });
  });

  it("shows each rule's provider by name in the table and the form, and clearing it sends an empty provider_id", async () => {
    const user = userEvent.setup();
    const { api, calls, state } = alertsApi(
      (method, path, body) => {
        if (method === "PATCH" && path === "/alerts/rules/r3") {
          const { provider_id: _, ...rest } = { ...latency, ...(body as object), version: 3 };
          state.rules[1] = (body as { provider_id?: string }).provider_id ? { ...rest, provider_id: (body as { provider_id: string }).provider_id } : rest;
          return { body: state.rules[1] };
        }
        return undefined;
      },
      [builtin, latency, spend],
    );
    renderTab("rules", api);
    // A rule for one provider, one for all of them, and one not about providers.
    await waitFor(() => expect(within(ruleRow("Slow OpenAI")).queryByText("OpenAI production")).not.toBeNull());
    expect(within(ruleRow("Provider down")).getByText("All providers")).toBeTruthy();
    expect(within(ruleRow("Spend")).getByText("—")).toBeTruthy();

    await user.click(screen.getByRole("button", { name: "Edit Slow OpenAI" }));
    const dialog = await screen.findByRole("dialog", { name: "Edit the rule Slow OpenAI" });
    const provider = within(dialog).getByRole("combobox", { name: "Provider" }) as HTMLInputElement;
    expect(provider.value).toBe("OpenAI production");
    // The clear button (Mantine's, hidden from screen readers: the list offers "All providers" too).
    await user.click(provider.closest(".mantine-Input-wrapper")!.querySelector("button")!);
    expect(provider.value).toBe("");
    expect(provider.placeholder).toBe("All providers");
    await user.click(within(dialog).getByRole("button", { name: "Save rule" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    const patch = calls.find((c) => c.method === "PATCH")!;
    expect(patch.headers.get("If-Match")).toBe('"2"');
    expect(patch.body).toEqual({ provider_id: "" });
    await waitFor(() => expect(within(ruleRow("Slow OpenAI")).queryByText("All providers")).not.toBeNull());
  });

  it("shows the id of a provider that is gone, the API's refusal beside the field, and saves once All providers is chosen", async () => {
    const user = userEvent.setup();
    let refused = false;
    const { api, calls, state } = alertsApi(
      (method, path, body) => {
        if (method !== "PATCH" || path !== "/alerts/rules/r4") return undefined;
        if ((body as { provider_id?: string }).provider_id === undefined) {
          refused = true;
          return { status: 422, body: problem(422, "invalid", "alert rule is invalid", [{ field: "provider_id", code: "not_found", message: 'no provider "p-gone"' }]) };
        }
        const { provider_id: _, ...rest } = { ...orphan, ...(body as object), version: 4 };
        state.rules[0] = rest;
        return { body: rest };
      },
      [orphan],
    );
    renderTab("rules", api);
    await waitFor(() => expect(within(ruleRow("Old degraded")).queryByText("p-gone")).not.toBeNull());
    await user.click(screen.getByRole("button", { name: "Edit Old degraded" }));
    const dialog = await screen.findByRole("dialog", { name: "Edit the rule Old degraded" });
    const provider = within(dialog).getByRole("combobox", { name: "Provider" }) as HTMLInputElement;
    expect(provider.value).toBe("p-gone");
    expect(within(dialog).getByText(/No provider has this id any more/)).toBeTruthy();

    const cooldown = within(dialog).getByRole("textbox", { name: "Cooldown (minutes)" });
    await user.clear(cooldown);
    await user.type(cooldown, "30");
    await user.click(within(dialog).getByRole("button", { name: "Save rule" }));
    expect(await within(dialog).findByText('no provider "p-gone"')).toBeTruthy();
    expect(refused).toBe(true);
    expect(provider.closest('[data-error="true"]')).not.toBeNull();
    // Shown beside the field, not repeated in the form's alert.
    expect(within(within(dialog).getByRole("alert")).queryByText(/provider_id/)).toBeNull();

    // With the keyboard: the list offers All providers.
    provider.focus();
    await user.keyboard("{Control>}a{/Control}All");
    await user.click(within(await screen.findByRole("listbox")).getByRole("option", { name: "All providers" }));
    await user.click(within(dialog).getByRole("button", { name: "Save rule" }));
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(calls.filter((c) => c.method === "PATCH").map((c) => c.body)).toEqual([{ cooldown_minutes: 30 }, { cooldown_minutes: 30, provider_id: "" }]);
  });

  it("drops the scope when a rule becomes a kind that is not about providers, and sends it again only when it changed", () => {
    const r = latency as Parameters<typeof rulePatch>[0];
    expect(rulePatch(r, { ...ruleDraft(r), kind: "monthly_spend", threshold: 100 })).toEqual({ kind: "monthly_spend", threshold: 100, provider_id: "" });
    expect(rulePatch(r, { ...ruleDraft(r), kind: "error_rate", threshold: 5 })).toEqual({ kind: "error_rate", threshold: 0.05, window_minutes: 10 });
    expect(rulePatch(r, { ...ruleDraft(r), providerId: "p2" })).toEqual({ provider_id: "p2" });
    expect(rulePatch(r, ruleDraft(r))).toEqual({});
  });
});
