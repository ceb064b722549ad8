import { describe, expect, it } from "vitest";
import { fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { ExportCard, ImportCard, PlanView, passphraseError } from "./Transfer";
import BackupsPanel from "./Backups";
import { RollbackDialog } from "./Legacy";
import { fakeApi, problem, renderAt } from "../test/harness";

const at = "2026-11-26T10:00:00Z";
// Mantine's FileInput is a button labelled "Export document" over a hidden file input.
const fileInput = () => document.querySelector<HTMLInputElement>('input[type="file"]')!;
const doc = { format: "switchyard-export", version: 1, exported_at: at, secrets: "sealed", sealed: "-----BEGIN AGE…", providers: [{ slug: "alpha" }] };
const plan = (dry: boolean) => ({
  dry_run: dry, on_conflict: "rename", secrets: "imported", summary: { create: 1, update: 1, unchanged: 1, skip: 1, rename: 1 },
  items: [
    { kind: "provider", key: "alpha", path: "providers[0]", action: "create", note: "created enabled" },
    { kind: "model", key: "alpha/gpt-4o", path: "providers[0].models[0]", action: "update", conflict: true, changes: ["pricing.input_per_mtok"] },
    { kind: "template", key: "mine", path: "templates[0]", action: "unchanged" },
    { kind: "connection", key: "ada/app", path: "connections[0]", action: "skip", conflict: true },
    { kind: "provider", key: "beta", path: "providers[1]", action: "rename", conflict: true, renamed_to: "beta-2" },
  ],
});

describe("import plan", () => {
  it("renders each action with its details", () => {
    renderAt(<PlanView plan={plan(true) as never} />, fakeApi(() => undefined).api);
    expect(within(screen.getByRole("table", { name: "Import plan" })).getAllByRole("row")).toHaveLength(5);
    fireEvent.click(screen.getByLabelText("Show the 1 unchanged item"));
    const rows = within(screen.getByRole("table", { name: "Import plan" })).getAllByRole("row").slice(1);
    expect(rows.map((r) => r.getAttribute("data-action"))).toEqual(["create", "update", "unchanged", "skip", "rename"]);
    expect(within(rows[0]).getByText("created enabled")).toBeTruthy();
    expect(within(rows[1]).getByText("changes: pricing.input_per_mtok")).toBeTruthy();
    expect(within(rows[1]).getByText("exists and differs")).toBeTruthy();
    expect(within(rows[3]).getByText("skip (keep ours)")).toBeTruthy();
    expect(within(rows[4]).getByText("beta-2")).toBeTruthy();
    expect(screen.getByText("Plan (nothing written yet)")).toBeTruthy();
    expect(screen.getByText("1 rename")).toBeTruthy();
  });

  it("checks the passphrase before sending it", () => {
    expect(passphraseError("", false)).toEqual({});
    expect(passphraseError("", true).pass).toMatch(/Enter a passphrase/);
    expect(passphraseError("short", false).pass).toMatch(/at least 12/);
    expect(passphraseError("long enough pass", true, "other").confirm).toMatch(/differ/);
  });

  it("previews with the passphrase in a header, then applies exactly what was previewed", async () => {
    const user = userEvent.setup();
    const { api, calls } = fakeApi((method, path) => {
      if (method === "POST" && path.startsWith("/import?")) return { body: plan(!path.includes("mode=apply")) };
      return undefined;
    });
    renderAt(<ImportCard />, api);
    const file = new File([JSON.stringify(doc)], "export.json", { type: "application/json" });
    await user.upload(fileInput(), file);
    await user.type(screen.getByLabelText("Document passphrase"), "short");
    expect(screen.getByText(/at least 12 characters/)).toBeTruthy();
    expect((screen.getByRole("button", { name: "Preview the plan" }) as HTMLButtonElement).disabled).toBe(true);
    await user.type(screen.getByLabelText("Document passphrase"), " but now long enough");
    await user.click(screen.getByText("Import a copy"));
    await user.click(screen.getByRole("button", { name: "Preview the plan" }));
    expect(await screen.findByTestId("import-plan")).toBeTruthy();
    const dry = calls.find((c) => c.path.startsWith("/import?"))!;
    expect(dry.path).toBe("/import?mode=dry-run&on_conflict=rename");
    expect(dry.path).not.toContain("short");
    expect(dry.headers.get("X-Switchyard-Passphrase")).toBe("short but now long enough");
    expect(dry.body).toEqual(doc);
    await user.click(screen.getByRole("button", { name: "Apply this plan" }));
    expect(await screen.findByText("The plan below was applied in one transaction.")).toBeTruthy();
    const applied = calls.filter((c) => c.path.startsWith("/import?"))[1];
    expect(applied.path).toBe("/import?mode=apply&on_conflict=rename");
    expect(applied.headers.get("X-Switchyard-Passphrase")).toBe("short but now long enough");
    // The passphrase is not kept on the screen after the import.
    expect((screen.getByLabelText("Document passphrase") as HTMLInputElement).value).toBe("");
  });

  it("shows the gateway key of a connection the import created once, with a copy button, and forgets it when dismissed", async () => {
    const user = userEvent.setup();
    const key = "sk-sy-imported0123456789abcdefghijklmnop";
    const item = { kind: "connection", key: "ada/app", path: "connections[0]", action: "create" };
    const { api } = fakeApi((method, path) => {
      if (method !== "POST" || !path.startsWith("/import?")) return undefined;
      const dry = !path.includes("mode=apply");
      return { body: { dry_run: dry, on_conflict: "skip", secrets: "omitted", summary: { create: 1 }, items: [dry ? item : { ...item, gateway_key: key }] } };
    });
    renderAt(<ImportCard />, api);
    await user.upload(fileInput(), new File([JSON.stringify({ ...doc, secrets: "omitted", sealed: undefined })], "e.json", { type: "application/json" }));
    await user.click(screen.getByRole("button", { name: "Preview the plan" }));
    await screen.findByTestId("import-plan");
    expect(screen.queryByTestId("new-gateway-keys")).toBeNull();
    await user.click(screen.getByRole("button", { name: "Apply this plan" }));

    const shown = await screen.findByTestId("new-gateway-keys");
    expect(within(shown).getByText("Copy the new gateway key now")).toBeTruthy();
    expect(within(shown).getByText(/will not be shown again/)).toBeTruthy();
    expect(within(shown).getByText("ada/app")).toBeTruthy();
    expect(within(shown).getByTestId("imported-gateway-key").textContent).toBe(key);
    // Once: not repeated in the plan's table.
    expect(document.body.innerHTML.split(key)).toHaveLength(2);
    await user.click(within(shown).getByRole("button", { name: "Copy the key of ada/app" }));
    expect(await navigator.clipboard.readText()).toBe(key);
    expect(await within(shown).findByRole("button", { name: "Copy the key of ada/app" })).toHaveProperty("textContent", "Copied");

    await user.click(within(shown).getByRole("button", { name: "I have copied it" }));
    expect(screen.queryByTestId("new-gateway-keys")).toBeNull();
    expect(document.body.innerHTML).not.toContain(key);
    expect(screen.getByText("The plan below was applied in one transaction.")).toBeTruthy();
  });

  it("refuses a file that is not an export, and shows a wrong passphrase beside its field", async () => {
    const user = userEvent.setup();
    const { api } = fakeApi((method, path) =>
      method === "POST" && path.startsWith("/import?") ? { status: 400, body: problem(400, "invalid", "the passphrase does not open the document's secrets") } : undefined,
    );
    renderAt(<ImportCard />, api);
    await user.upload(fileInput(), new File(["{nope"], "x.json", { type: "application/json" }));
    expect(await screen.findByText(/^not JSON/)).toBeTruthy();
    await user.upload(fileInput(), new File([JSON.stringify(doc)], "e.json", { type: "application/json" }));
    await user.type(screen.getByLabelText("Document passphrase"), "a wrong passphrase");
    await user.click(screen.getByRole("button", { name: "Preview the plan" }));
    const input = screen.getByLabelText("Document passphrase");
    await waitFor(() => expect(screen.getByText("the passphrase does not open the document's secrets")).toBeTruthy());
    // Beside the passphrase field, not in a general alert.
    expect(input.closest('[data-error="true"]')).not.toBeNull();
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("exports with the passphrase in a header only after both entries match", async () => {
    const user = userEvent.setup();
    URL.createObjectURL = () => "blob:x";
    URL.revokeObjectURL = () => {};
    const { api, calls } = fakeApi((method, path) => (method === "GET" && path === "/export" ? { body: doc } : undefined));
    renderAt(<ExportCard />, api);
    await user.click(screen.getByLabelText("Include the secrets, sealed with a passphrase"));
    await user.type(screen.getByLabelText("Passphrase"), "a long passphrase");
    await user.type(screen.getByLabelText("Passphrase again"), "another one!!");
    await user.click(screen.getByRole("button", { name: "Download export" }));
    expect(screen.getByText("The two passphrases differ")).toBeTruthy();
    expect(calls.some((c) => c.path === "/export")).toBe(false);
    await user.clear(screen.getByLabelText("Passphrase again"));
    await user.type(screen.getByLabelText("Passphrase again"), "a long passphrase");
    await user.click(screen.getByRole("button", { name: "Download export" }));
    await waitFor(() => expect(calls.some((c) => c.path === "/export")).toBe(true));
    expect(calls.find((c) => c.path === "/export")!.headers.get("X-Switchyard-Passphrase")).toBe("a long passphrase");
    await waitFor(() => expect((screen.getByLabelText("Passphrase") as HTMLInputElement).value).toBe(""));
  });
});

describe("backups", () => {
  const backup = (name: string, note: string) => ({
    name, size: 48213, manifest: { format: "switchyard-backup", version: 1, created_at: at, dialect: "sqlite", schema_version: 7, master_key_ids: ["k"], note, tables: [{ name: "providers", columns: ["id"], rows: 21, sha256: "x" }] },
  });
  it("restores only after confirmation and shows the undo backup", async () => {
    const user = userEvent.setup();
    const { api, calls } = fakeApi((method, path) => {
      if (method === "GET" && path === "/backups") return { body: { items: [backup("b1.tar.gz", "manual")] } };
      if (method === "POST" && path === "/backups/b1.tar.gz/restore") return { body: { restored: backup("b1.tar.gz", "manual"), undo: backup("undo.tar.gz", "pre-restore") } };
      if (method === "POST" && path === "/backups") return { status: 201, body: backup("b2.tar.gz", "manual") };
      return undefined;
    });
    renderAt(<BackupsPanel />, api);
    const table = await screen.findByRole("table", { name: "Backups" });
    expect(within(table).getByRole("link", { name: "Download b1.tar.gz" }).getAttribute("href")).toBe("http://localhost/api/v1/backups/b1.tar.gz");
    await user.click(within(table).getByRole("button", { name: "Restore b1.tar.gz" }));
    const dialog = await screen.findByRole("dialog", { name: "Restore this backup?" });
    const restore = within(dialog).getByRole("button", { name: "Restore" }) as HTMLButtonElement;
    expect(restore.disabled).toBe(true);
    await user.click(within(dialog).getByRole("checkbox"));
    await user.click(restore);
    const undo = await screen.findByTestId("restore-undo");
    expect(within(undo).getByText("undo.tar.gz")).toBeTruthy();
    expect(calls.filter((c) => c.path.endsWith("/restore")).map((c) => c.headers.get("X-CSRF-Token"))).toEqual(["csrf-123"]);
    await user.click(within(undo).getByRole("button", { name: "Undo this restore" }));
    expect(await screen.findByText(/undo\.tar\.gz/, { selector: "code" })).toBeTruthy();
    await user.click(screen.getByRole("button", { name: "Take a backup now" }));
    await waitFor(() => expect(calls.some((c) => c.method === "POST" && c.path === "/backups")).toBe(true));
  });
});

describe("legacy rollback", () => {
  it("names the later changes and forces only after a second confirmation", async () => {
    const user = userEvent.setup();
    const { api, calls } = fakeApi((method, path) => {
      if (method === "POST" && path === "/legacy/m1/rollback")
        return { status: 409, body: problem(409, "conflict", "migration m1 cannot be rolled back without losing later changes: provider local changed; roll back with force to discard them") };
      if (method === "POST" && path === "/legacy/m1/rollback?force=true") return { body: { id: "m1", restored: ["created provider local"], overridden: ["provider local changed"] } };
      return undefined;
    });
    const m = { id: "m1", created_at: at, actor_id: "u", sources: ["litellm"], report: { sources: [], summary: {}, items: [] }, changes: [], rolled_back_at: null };
    renderAt(<RollbackDialog migration={m as never} onClose={() => {}} />, api);
    await user.click(await screen.findByRole("button", { name: "Roll back" }));
    expect(await screen.findByText(/provider local changed; roll back with force/)).toBeTruthy();
    const force = screen.getByRole("button", { name: "Roll back anyway" }) as HTMLButtonElement;
    expect(force.disabled).toBe(true);
    await user.click(screen.getByLabelText("Discard those later changes and roll back anyway"));
    await user.click(force);
    const done = await screen.findByTestId("rollback-done");
    expect(within(done).getByText("created provider local")).toBeTruthy();
    expect(within(done).getByText("provider local changed")).toBeTruthy();
    expect(calls.map((c) => c.path).filter((p) => p.includes("rollback"))).toEqual(["/legacy/m1/rollback", "/legacy/m1/rollback?force=true"]);
  });
});
