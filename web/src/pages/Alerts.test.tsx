import { describe, expect, it } from "vitest";
import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { ChannelForm, RuleForm, describeRule, thresholdOut } from "./Alerts";
import { fakeApi, problem, renderAt } from "../test/harness";

describe("alert rules", () => {
  it("sends thresholds in the API's units and describes rules in words", async () => {
    expect(thresholdOut("error_rate", 10)).toBe(0.1);
    expect(thresholdOut("latency_p95", 8000)).toBe(8000);
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
