import { describe, expect, it } from "vitest";
import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { Notifications } from "@mantine/notifications";
import AlertsPage, { ChannelForm, RuleForm, describeRule, thresholdIn, thresholdOut } from "./Alerts";
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
const webhook = { id: "c1", name: "ops", kind: "webhook", enabled: true, url: "https://hooks.example.com/a", secrets: { hmac_secret: { set: true, hint: "…3f9a" } }, version: 2, created_at: at, updated_at: at };
const slack = { id: "c2", name: "team", kind: "slack", enabled: false, secrets: { url: { set: true, hint: "https://hooks.slack.com/…XXXX" } }, version: 7, created_at: at, updated_at: at };
const email = {
  id: "c3", name: "mail", kind: "email", enabled: true, smtp_host: "smtp.example.com", smtp_port: 587, username: "alerts", from: "sy@example.com",
  to: ["a@example.com", "b@example.com"], insecure_smtp: false, secrets: { password: { set: true } }, version: 1, created_at: at, updated_at: at,
};

type Reply = { status?: number; body?: unknown } | undefined;

/** alertsApi serves the lists from mutable state; `mutate` answers the changes. */
function alertsApi(mutate: (method: string, path: string, body: unknown) => Reply) {
  const state = { rules: [builtin, errors] as object[], channels: [webhook, slack, email] as object[] };
  const fake = fakeApi((method, path, body) => {
    if (method === "GET" && path.startsWith("/alerts/rules?")) return { body: { items: state.rules, next_cursor: null } };
    if (method === "GET" && path.startsWith("/alerts/channels?")) return { body: { items: state.channels, next_cursor: null } };
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
