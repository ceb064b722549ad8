// End-to-end walk through the dashboard in headless Chromium (Debian's
// /usr/bin/chromium driven by playwright-core; nothing is downloaded).
// Run by cmd/switchyard/web_e2e_test.go, which starts switchyard serve and a
// fake upstream and passes them in the environment:
//   BASE_URL, UPSTREAM_URL, UPSTREAM_KEY, ADMIN_USER, ADMIN_PASSWORD,
//   USER_USER, USER_PASSWORD, SCREENSHOTS (a directory), CHROMIUM.
import { chromium } from "playwright-core";
import { mkdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";

const env = (k) => {
  const v = process.env[k];
  if (!v) throw new Error(`${k} is not set`);
  return v;
};
const base = env("BASE_URL");
const shots = env("SCREENSHOTS");
mkdirSync(shots, { recursive: true });
rmSync(join(shots, "failure.png"), { force: true });

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
});
const problems = [];
let step = "start";
let page;
const log = (msg) => console.log(`e2e: ${msg}`);

try {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: "light" });
  page = await context.newPage();
  page.setDefaultTimeout(10_000);
  page.on("pageerror", (e) => problems.push(`page error: ${e.message}`));
  page.on("console", (m) => {
    // Refused API calls (a wrong password, a field error) are part of the
    // walk and shown by the app; anything else logged as an error is not.
    if (m.type() === "error" && !m.text().startsWith("Failed to load resource")) problems.push(`console error: ${m.text()}`);
  });
  const shot = async (name, fullPage = false) => {
    // Notifications would cover the screen's corner: dismiss them first.
    for (const b of await page.getByRole("button", { name: "Dismiss notification" }).all()) await b.click().catch(() => {});
    await page.getByRole("button", { name: "Dismiss notification" }).first().waitFor({ state: "detached", timeout: 2000 }).catch(() => {});
    await page.screenshot({ path: join(shots, `${name}.png`), fullPage });
  };
  const expectVisible = async (locator, what) => {
    try {
      await locator.first().waitFor({ state: "visible" });
    } catch (e) {
      throw new Error(`${what} is not visible: ${e.message.split("\n")[0]}`);
    }
  };

  step = "first load";
  const t0 = Date.now();
  await page.goto(base + "/");
  await expectVisible(page.getByRole("button", { name: "Log in" }), "the login form");
  log(`login form interactive after ${Date.now() - t0} ms`);
  if (!page.url().includes("/login")) throw new Error(`not sent to the login page: ${page.url()}`);
  await shot("login");

  step = "wrong password";
  await page.getByRole("textbox", { name: "Username", exact: true }).fill(env("ADMIN_USER"));
  await page.getByRole("textbox", { name: "Password", exact: true }).fill("not the password");
  await page.getByRole("button", { name: "Log in" }).click();
  await expectVisible(page.getByRole("alert").filter({ hasText: "Could not log in" }), "the login problem");

  step = "log in as admin, with the keyboard only";
  await page.getByRole("textbox", { name: "Username", exact: true }).focus();
  await page.keyboard.press("Control+A");
  await page.keyboard.type(env("ADMIN_USER"));
  await page.keyboard.press("Tab");
  const focused = await page.evaluate(() => document.activeElement?.getAttribute("autocomplete"));
  if (focused !== "current-password") throw new Error(`Tab from the username went to ${focused}, not the password`);
  await page.keyboard.press("Control+A");
  await page.keyboard.type(env("ADMIN_PASSWORD"));
  await page.keyboard.press("Enter");
  await expectVisible(page.getByRole("heading", { name: "Providers" }), "the providers list");
  await expectVisible(page.getByRole("table", { name: "Providers" }), "the providers table");
  await shot("providers");

  step = "wizard: template";
  await page.getByRole("link", { name: "Add provider" }).first().click();
  await expectVisible(page.getByRole("heading", { name: "Add a provider" }), "the wizard");
  await expectVisible(page.getByRole("button", { name: "Use the Azure OpenAI template" }), "the template gallery");
  await shot("wizard-templates");
  await page.getByLabel("Search templates").fill("compatible");
  await page.getByRole("button", { name: "Use the OpenAI-compatible endpoint template" }).click();

  step = "wizard: parameters";
  await page.getByRole("textbox", { name: "Name" }).fill("Local fake");
  await page.getByRole("button", { name: "Next" }).click();
  await expectVisible(page.getByText("Base URL is required"), "the inline validation message");
  await page.getByRole("textbox", { name: "Base URL" }).fill(env("UPSTREAM_URL") + "/v1");
  await shot("wizard-parameters");
  await page.getByRole("button", { name: "Next" }).click();

  step = "wizard: credentials (a wrong key)";
  await page.getByRole("textbox", { name: "API key", exact: true }).fill("sk-wrong-key");
  await page.getByRole("button", { name: "Next" }).click();
  step = "wizard: connectivity fails with the wrong key";
  await expectVisible(page.getByText(/^Failed: auth/), "the failed connectivity test");
  await expectVisible(page.locator('[data-stage="auth"][data-status="failed"]'), "the failed auth stage");
  await expectVisible(page.getByText(/^Hint: /), "the hint of the failed stage");
  await shot("wizard-test-failed");

  step = "wizard: fix the key";
  await page.getByRole("button", { name: "Back" }).click();
  await page.getByRole("textbox", { name: "API key", exact: true }).fill(env("UPSTREAM_KEY"));
  await page.getByRole("button", { name: "Next" }).click();
  step = "wizard: connectivity passes";
  await expectVisible(page.getByText("Connection works"), "the passed connectivity test");
  for (const s of ["dns", "tcp", "auth", "endpoint", "models"]) {
    await expectVisible(page.locator(`[data-stage="${s}"][data-status="ok"]`), `stage ${s} ok`);
  }
  await shot("wizard-test-passed");
  await page.getByRole("button", { name: "Next" }).click();
  await expectVisible(page.getByText(/This template lists no models/), "the models step");
  await page.getByRole("button", { name: "Next" }).click();
  step = "wizard: review";
  await expectVisible(page.getByRole("table", { name: "Review" }), "the review");
  if ((await page.content()).includes(env("UPSTREAM_KEY"))) throw new Error("the review shows the API key");
  await shot("wizard-review");
  await page.getByRole("button", { name: "Save provider" }).click();

  step = "discover and add models";
  await expectVisible(page.getByRole("dialog", { name: "Models the provider lists" }), "the discovery dialog");
  await page.getByRole("checkbox", { name: "Add gpt-4o-mini" }).check();
  await page.getByRole("button", { name: "Add 1 model" }).click();
  await expectVisible(page.locator('tr[data-model="gpt-4o-mini"]'), "the added model in the models table");

  const providerUrl = page.url();
  step = "add a model by hand, with a field error first";
  await page.getByRole("button", { name: "Add model" }).click();
  const dialog = page.getByRole("dialog", { name: "Add a model" });
  await dialog.getByRole("button", { name: "Add model" }).click();
  await expectVisible(dialog.getByText("Upstream model id is required"), "the add-model validation");
  await dialog.getByRole("textbox", { name: "Upstream model id" }).fill("local-llama");
  await dialog.getByRole("textbox", { name: "Input $ per 1M tokens" }).fill("0.5");
  await dialog.getByRole("textbox", { name: "Output $ per 1M tokens" }).fill("1.5");
  await dialog.getByRole("button", { name: "Add model" }).click();
  await expectVisible(page.locator('tr[data-model="local-llama"]').getByText("$0.50 / $1.50"), "the hand-added model with its prices");

  step = "provider detail: secrets masked, test connection";
  const html = await page.content();
  if (html.includes(env("UPSTREAM_KEY"))) throw new Error("the provider page shows the API key");
  await expectVisible(page.getByText(/api_key/).first(), "the masked secret");
  const testConnection = async () => {
    const answered = page.waitForResponse((r) => r.request().method() === "POST" && /\/api\/v1\/providers\/[^/]+\/test$/.test(r.url()));
    await page.getByRole("button", { name: "Test connection" }).click();
    await answered;
  };
  await testConnection();
  await expectVisible(page.getByText("Connection works"), "the provider's connectivity test");

  step = "replace the key with a broken one: the test fails";
  const replaceKey = async (value) => {
    await page.getByRole("button", { name: "Replace api_key of default" }).click();
    await page.getByRole("textbox", { name: "New api_key", exact: true }).fill(value);
    const saved = page.waitForResponse((r) => r.request().method() === "PATCH" && r.url().includes("/api/v1/providers/"));
    await page.getByRole("button", { name: "Save settings" }).click();
    const res = await saved;
    if (!res.ok()) throw new Error(`saving the settings answered ${res.status()}: ${await res.text()}`);
    await expectVisible(page.getByRole("button", { name: "Replace api_key of default" }), "the masked key again");
    if ((await page.content()).includes(value)) throw new Error("the replaced key is still in the page after saving");
  };
  await replaceKey("sk-broken-key-000000");
  await testConnection();
  await expectVisible(page.getByText(/^Failed: auth/), "the failed connectivity test after breaking the key");
  await expectVisible(page.locator('[data-stage="auth"][data-status="failed"]'), "the failed auth stage");

  step = "put the right key back: the test passes";
  await replaceKey(env("UPSTREAM_KEY"));
  await testConnection();
  await expectVisible(page.getByText("Connection works"), "the connectivity test after fixing the key");

  step = "model test";
  await page.getByRole("button", { name: "Test gpt-4o-mini" }).click();
  await expectVisible(page.getByText("The model answered"), "the model test result");
  await expectVisible(page.getByRole("table", { name: "Capability checks" }), "the capability checks");
  await shot("model-test");
  await page.getByRole("dialog").getByRole("button", { name: "Close" }).last().click();

  step = "benchmark a model";
  await page.getByRole("button", { name: "Benchmark gpt-4o-mini" }).click();
  const bench = page.getByRole("dialog", { name: "Benchmark gpt-4o-mini" });
  await expectVisible(bench.getByText("This model was never benchmarked."), "the benchmark dialog");
  await bench.getByRole("textbox", { name: "Requests" }).fill("6");
  await bench.getByRole("textbox", { name: "At a time" }).fill("2");
  await bench.getByRole("button", { name: "Start benchmark" }).click();
  await expectVisible(bench.getByRole("table", { name: "Benchmark result" }), "the benchmark's result");
  await expectVisible(bench.getByText("6 of 6 requests · 0 failed"), "the benchmark's progress at its end");
  await shot("benchmark");
  await bench.getByRole("button", { name: "Close" }).last().click();

  step = "dark theme";
  await page.getByRole("button", { name: "Switch to the dark theme" }).click();
  await expectVisible(page.getByRole("button", { name: "Switch to the light theme" }), "the light-theme toggle");
  const scheme = await page.evaluate(() => document.documentElement.getAttribute("data-mantine-color-scheme"));
  if (scheme !== "dark") throw new Error(`color scheme is ${scheme} after switching to dark`);
  await shot("provider-detail-dark");
  await page.getByRole("button", { name: "Switch to the light theme" }).click();

  step = "connections: create, key shown once";
  await page.getByRole("link", { name: "Connections" }).click();
  await page.getByRole("button", { name: "New connection" }).click();
  const conn = page.getByRole("dialog", { name: "New connection" });
  await conn.getByRole("textbox", { name: "Name" }).fill("e2e app");
  await conn.getByRole("button", { name: "Create" }).click();
  await expectVisible(conn.getByText(/name a provider/).first(), "the API's field error beside Provider");
  await shot("connection-field-error");
  await conn.getByLabel("Provider", { exact: true }).click();
  await page.getByRole("option", { name: "Local fake" }).click();
  await conn.getByRole("button", { name: "Create" }).click();
  await expectVisible(page.getByTestId("new-key"), "the new gateway key");
  const key = await page.getByTestId("new-key").textContent();
  if (!key?.startsWith("sk-sy-")) throw new Error(`the shown key is ${key}`);
  await page.getByRole("button", { name: "Done" }).click();
  await expectVisible(page.getByRole("table", { name: "Connections" }).getByText("e2e app"), "the connection in the list");
  if ((await page.content()).includes(key)) throw new Error("the key is still in the page after closing its dialog");

  step = "analytics";
  await page.getByRole("link", { name: "Analytics" }).click();
  await expectVisible(page.getByRole("heading", { name: "Analytics" }), "the analytics screen");
  await expectVisible(page.getByRole("heading", { name: "Recommendations" }), "the recommendations");
  await page.locator("label").filter({ hasText: /^7 days$/ }).click();
  await expectVisible(page.getByText(/No requests in this range|Per hour/).first(), "the usage for 7 days");
  await page.waitForTimeout(300); // the range control slides to its choice
  await shot("analytics");

  step = "export with sealed secrets";
  await page.getByRole("link", { name: "Import and export" }).click();
  await expectVisible(page.getByRole("heading", { name: "Export" }), "the export card");
  const passphrase = "e2e export passphrase";
  await page.getByLabel("Include the secrets, sealed with a passphrase").check();
  await page.getByRole("textbox", { name: "Passphrase", exact: true }).fill(passphrase);
  await page.getByRole("textbox", { name: "Passphrase again" }).fill(passphrase);
  const downloading = page.waitForEvent("download");
  await page.getByRole("button", { name: "Download export" }).click();
  const exported = join(shots, "..", "export.json");
  await (await downloading).saveAs(exported);
  const exportText = readFileSync(exported, "utf8");
  if (!exportText.includes('"secrets": "sealed"')) throw new Error("the export's secrets are not sealed");
  if (exportText.includes(env("UPSTREAM_KEY"))) throw new Error("the export shows the API key in clear");

  step = "re-import: the dry-run plan";
  await page.locator('input[type="file"]').setInputFiles(exported);
  await page.getByRole("textbox", { name: "Document passphrase" }).fill(passphrase);
  await page.getByRole("button", { name: "Preview the plan" }).click();
  const planTable = page.getByRole("table", { name: "Import plan" });
  await expectVisible(page.getByText(/importing it changes nothing|Show the \d+ unchanged/).first(), "the plan's unchanged items");
  await page.getByLabel(/Show the \d+ unchanged items?/).check();
  await expectVisible(planTable.locator('tr[data-action="unchanged"]'), "the plan's unchanged items");
  await expectVisible(page.getByText("Plan (nothing written yet)"), "the dry-run plan");
  await expectVisible(page.getByText("Secrets are imported."), "the opened secrets");
  await shot("import-plan");
  await page.getByRole("button", { name: "Apply this plan" }).click();
  await expectVisible(page.getByText("The plan below was applied in one transaction."), "the applied import");
  rmSync(exported, { force: true });

  step = "backups: take one and see it listed";
  await page.getByRole("tab", { name: "Backups" }).click();
  await page.getByRole("button", { name: "Take a backup now" }).click();
  await expectVisible(page.getByRole("table", { name: "Backups" }).locator("tr[data-backup]").filter({ hasText: "manual" }), "the new backup in the list");
  await shot("backups");
  const backupDownload = page.waitForEvent("download");
  await page.getByRole("link", { name: /^Download switchyard-.*\.tar\.gz$/ }).first().click();
  const backupName = (await backupDownload).suggestedFilename();
  if (!/^switchyard-.*\.tar\.gz$/.test(backupName)) throw new Error(`the backup downloads as ${backupName}`);
  await page.getByRole("button", { name: /^Restore / }).first().click();
  await expectVisible(page.getByRole("dialog", { name: "Restore this backup?" }), "the restore confirmation");
  if (await page.getByRole("dialog").getByRole("button", { name: "Restore", exact: true }).isEnabled()) throw new Error("Restore is enabled before the confirmation");
  await page.getByRole("dialog").getByRole("button", { name: "Cancel" }).click();

  step = "legacy migration: the plan report";
  await page.getByRole("tab", { name: "Legacy migration" }).click();
  await page.getByRole("textbox", { name: "LiteLLM proxy config.yaml" }).fill("model_list:\n  - model_name: local\n    litellm_params:\n      model: openai/qwen2.5\n      api_base: https://llm.example.com/v1\n      api_key: os.environ/LOCAL_KEY\n  - model_name: sm\n    litellm_params:\n      model: sagemaker/x\n");
  await page.getByRole("button", { name: "Plan the migration" }).click();
  await expectVisible(page.getByRole("table", { name: "Migration report" }), "the migration report");
  await expectVisible(page.getByRole("table", { name: "Migration report" }).getByText("cannot map"), "an item that cannot map");
  await shot("legacy-plan", true);

  step = "live status: the upstream goes down";
  await page.goto(providerUrl);
  await expectVisible(page.getByRole("heading", { name: "Local fake" }), "the provider page");
  // One failed check takes it down, one good check brings it back: the
  // provider's own health thresholds (docs/monitoring.md).
  await page.evaluate(async (id) => {
    const s = await (await fetch("/api/v1/session")).json();
    const p = await (await fetch(`/api/v1/providers/${id}`)).json();
    const r = await fetch(`/api/v1/providers/${id}`, {
      method: "PATCH",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": s.csrf_token, "If-Match": `"${p.version}"` },
      body: JSON.stringify({ settings: { ...p.settings, health_failures_to_down: 1, health_successes_to_recover: 1 } }),
    });
    if (!r.ok) throw new Error(`saving the health settings answered ${r.status}: ${await r.text()}`);
  }, new URL(providerUrl).pathname.split("/").pop());
  // A second tab on the providers list, which is not reloaded.
  const watcher = await context.newPage();
  watcher.setDefaultTimeout(10_000);
  watcher.on("pageerror", (e) => problems.push(`page error (second tab): ${e.message}`));
  await watcher.goto(base + "/providers");
  await expectVisible(watcher.getByRole("status", { name: "Live updates: live" }), "the live indicator");
  const row = watcher.getByRole("row", { name: /Local fake/ });
  const setUpstream = async (isDown) => {
    const r = await fetch(env("UPSTREAM_URL") + "/_control/down", { method: isDown ? "PUT" : "DELETE" });
    if (!r.ok) throw new Error(`the fake upstream's switch answered ${r.status}`);
  };
  // Check until the status moves (a settings change reaches the monitor
  // with the registry's next reload); the other tab must see it by itself.
  const checkUntil = async (status) => {
    for (let i = 0; i < 6; i++) {
      const answered = page.waitForResponse((r) => r.request().method() === "POST" && r.url().endsWith("/health/check"));
      await page.getByRole("button", { name: "Check health now" }).click();
      await answered;
      const seen = await row.getByLabel(`status: ${status}`).waitFor({ state: "visible", timeout: 3000 }).then(() => true, () => false);
      if (seen) return;
    }
    const live = await watcher.getByRole("status", { name: /^Live updates/ }).getAttribute("data-live").catch((e) => e.message);
    const shown = await row.getAttribute("data-status").catch((e) => e.message);
    throw new Error(`the providers list in the other tab did not show ${status} (it shows ${shown}; its event stream is ${live})`);
  };
  await setUpstream(true);
  await checkUntil("down");
  await expectVisible(page.getByText("The check failed: unavailable"), "the failed check");
  await expectVisible(page.getByRole("table", { name: "Status history" }).getByText(/failed/).first(), "the change's reason in the status history");
  await watcher.bringToFront();
  await watcher.screenshot({ path: join(shots, "providers-live.png") });
  step = "live status: the upstream comes back";
  await setUpstream(false);
  await page.bringToFront();
  await checkUntil("healthy");
  await page.locator('section[aria-labelledby="health-title"]').screenshot({ path: join(shots, "provider-health.png") });
  // The whole page, now with health checks, a status history and the audit
  // trail (from the top: the header is fixed).
  await page.evaluate(() => window.scrollTo(0, 0));
  await shot("provider-detail", true);
  await watcher.close();

  step = "templates: create a custom one";
  await page.getByRole("link", { name: "Templates" }).click();
  await expectVisible(page.getByRole("heading", { name: "Templates" }), "the template library");
  await page.getByRole("button", { name: "New template" }).click();
  const editor = page.getByRole("dialog", { name: "New template" });
  await editor.getByRole("button", { name: "Create template" }).click();
  await expectVisible(editor.getByText("Name is required"), "the editor's validation");
  await editor.getByRole("textbox", { name: "Name" }).fill("E2E gateway");
  await editor.getByRole("textbox", { name: "Slug" }).fill("e2e-gateway");
  await editor.getByRole("textbox", { name: "Base URL" }).fill("http://{host}/v1");
  await editor.getByRole("textbox", { name: "Models" }).fill("gpt-4o-mini");
  await editor.getByRole("button", { name: "Create template" }).click();
  await expectVisible(page.locator('[data-template="e2e-gateway"]'), "the new template in the gallery");
  await page.locator("label").filter({ hasText: /^Custom$/ }).click();
  await shot("templates");

  step = "templates: preview and apply";
  await page.getByRole("button", { name: "Preview and apply E2E gateway" }).click();
  const drawer = page.getByRole("dialog", { name: "Apply E2E gateway" });
  await drawer.getByRole("textbox", { name: "Host" }).fill(new URL(env("UPSTREAM_URL")).host);
  await drawer.getByRole("button", { name: "Preview" }).click();
  await expectVisible(drawer.getByTestId("template-preview").getByText(env("UPSTREAM_URL") + "/v1"), "the previewed base URL");
  await shot("template-apply");
  await drawer.getByLabel("API key").fill(env("UPSTREAM_KEY"));
  await drawer.getByRole("button", { name: "Create provider" }).click();
  await expectVisible(page.getByRole("heading", { name: "E2E gateway" }), "the provider made from the template");
  await expectVisible(page.locator('tr[data-model="gpt-4o-mini"]'), "the template's model");

  step = "alerts: a webhook channel with an HMAC secret";
  await page.getByRole("link", { name: "Alerts" }).click();
  await expectVisible(page.getByRole("heading", { name: "Alerts" }), "the alerts screen");
  await page.getByRole("tab", { name: "Channels" }).click();
  await page.getByRole("button", { name: "New channel" }).click();
  const newChannel = page.getByRole("dialog", { name: "New alert channel" });
  await newChannel.getByRole("textbox", { name: "Name" }).fill("e2e hook");
  await newChannel.getByRole("textbox", { name: "URL" }).fill(env("UPSTREAM_URL") + "/hook");
  const hmac = "e2e-hmac-secret-first-0001";
  await newChannel.getByLabel("HMAC secret (optional)").fill(hmac);
  await newChannel.getByRole("button", { name: "Create channel" }).click();
  const channelRow = page.getByRole("table", { name: "Alert channels" }).locator('tr[data-channel="e2e hook"]');
  await expectVisible(channelRow.getByText(/hmac_secret: set/), "the new channel with its secret set");

  step = "alerts: edit the channel, replacing its secret";
  await channelRow.getByRole("button", { name: "Edit e2e hook" }).click();
  const editChannel = page.getByRole("dialog", { name: "Edit the channel e2e hook" });
  await expectVisible(editChannel.getByRole("button", { name: "Replace the HMAC secret" }), "the secret shown only as set");
  if ((await page.content()).includes(hmac)) throw new Error("the channel form shows the HMAC secret");
  await shot("alert-channel-edit");
  await editChannel.getByRole("textbox", { name: "Name" }).fill("e2e webhook");
  await editChannel.getByRole("button", { name: "Replace the HMAC secret" }).click();
  const hmac2 = "e2e-hmac-secret-second-0002";
  await editChannel.getByLabel("New HMAC secret").fill(hmac2);
  const channelSaved = page.waitForResponse((r) => r.request().method() === "PATCH" && r.url().includes("/api/v1/alerts/channels/"));
  await editChannel.getByRole("button", { name: "Save channel" }).click();
  const channelPatch = await channelSaved;
  if (!channelPatch.ok()) throw new Error(`saving the channel answered ${channelPatch.status()}: ${await channelPatch.text()}`);
  const renamed = page.getByRole("table", { name: "Alert channels" }).locator('tr[data-channel="e2e webhook"]');
  await expectVisible(renamed, "the renamed channel");
  if ((await page.content()).includes(hmac2)) throw new Error("the replaced HMAC secret is in the page after saving");

  step = "alerts: disable the channel with the keyboard";
  await renamed.getByRole("switch", { name: "Enable e2e webhook" }).focus();
  await page.keyboard.press("Space");
  await page.waitForFunction(() => !document.querySelector('tr[data-channel="e2e webhook"] input[role="switch"]')?.checked);

  step = "alerts: edit and toggle the built-in rule";
  await page.getByRole("tab", { name: "Rules" }).click();
  const rules = page.getByRole("table", { name: "Alert rules" });
  await expectVisible(rules.getByText("built-in"), "the built-in rule");
  if (await rules.getByRole("button", { name: "Delete Provider down" }).count()) throw new Error("the built-in rule offers Delete");
  await rules.getByRole("button", { name: "Edit Provider down" }).click();
  const editRule = page.getByRole("dialog", { name: "Edit the rule Provider down" });
  const cooldown = editRule.getByRole("textbox", { name: "Cooldown (minutes)" });
  if ((await cooldown.inputValue()) !== "5") throw new Error(`the built-in rule's cooldown shows ${await cooldown.inputValue()}, not 5`);
  await cooldown.fill("10");
  await editRule.getByLabel("Channels").click();
  await page.getByRole("option", { name: "e2e webhook" }).click();
  await editRule.getByRole("textbox", { name: "Name" }).click(); // closes the list
  const ruleSaved = page.waitForResponse((r) => r.request().method() === "PATCH" && r.url().includes("/api/v1/alerts/rules/"));
  await editRule.getByRole("button", { name: "Save rule" }).click();
  const rulePatch = await ruleSaved;
  if (!rulePatch.ok()) throw new Error(`saving the rule answered ${rulePatch.status()}: ${await rulePatch.text()}`);
  const sent = rulePatch.request().postDataJSON();
  if (JSON.stringify(Object.keys(sent).sort()) !== '["channel_ids","cooldown_minutes"]') throw new Error(`the rule's PATCH sent ${JSON.stringify(sent)}`);
  const builtinRow = rules.locator('tr[data-rule="Provider down"]');
  await expectVisible(builtinRow.getByText("e2e webhook"), "the rule's channel after saving");
  const builtinSwitch = builtinRow.getByRole("switch", { name: "Enable Provider down" });
  await builtinSwitch.focus();
  await page.keyboard.press("Space");
  await page.waitForFunction(() => !document.querySelector('tr[data-rule="Provider down"] input[role="switch"]')?.checked);
  await page.keyboard.press("Space");
  await page.waitForFunction(() => document.querySelector('tr[data-rule="Provider down"] input[role="switch"]')?.checked);

  step = "alerts: a custom rule for one provider, unscoped, deleted after a confirmation";
  await page.getByRole("button", { name: "New rule" }).click();
  const newRule = page.getByRole("dialog", { name: "New alert rule" });
  await newRule.getByRole("textbox", { name: "Name" }).fill("e2e errors");
  const provider = newRule.getByRole("combobox", { name: "Provider" });
  await provider.fill("Local fake");
  await page.getByRole("option", { name: "Local fake", exact: true }).click();
  await shot("alert-rule-provider");
  const ruleCreated = page.waitForResponse((r) => r.request().method() === "POST" && r.url().endsWith("/api/v1/alerts/rules"));
  await newRule.getByRole("button", { name: "Create rule" }).click();
  const created = await ruleCreated;
  if (!created.ok()) throw new Error(`creating the rule answered ${created.status()}: ${await created.text()}`);
  const fakeId = new URL(providerUrl).pathname.split("/").pop();
  if (created.request().postDataJSON().provider_id !== fakeId) throw new Error(`the new rule's POST sent ${created.request().postData()}, not the provider ${fakeId}`);
  const customRow = rules.locator('tr[data-rule="e2e errors"]');
  await expectVisible(customRow.getByText("Local fake"), "the new rule's provider, by name");
  await shot("alerts");
  await customRow.getByRole("button", { name: "Edit e2e errors" }).click();
  const editCustom = page.getByRole("dialog", { name: "Edit the rule e2e errors" });
  const scope = editCustom.getByRole("combobox", { name: "Provider" });
  await page.waitForFunction((el) => !el.disabled && el.value === "Local fake", await scope.elementHandle()); // the rule's provider, by name
  await scope.fill("All");
  await page.getByRole("option", { name: "All providers" }).click();
  const unscoped = page.waitForResponse((r) => r.request().method() === "PATCH" && r.url().includes("/api/v1/alerts/rules/"));
  await editCustom.getByRole("button", { name: "Save rule" }).click();
  const unscopePatch = await unscoped;
  if (!unscopePatch.ok()) throw new Error(`unscoping the rule answered ${unscopePatch.status()}: ${await unscopePatch.text()}`);
  if (unscopePatch.request().postData() !== '{"provider_id":""}') throw new Error(`unscoping the rule sent ${unscopePatch.request().postData()}`);
  await expectVisible(customRow.getByText("All providers"), "the rule for all providers");
  await rules.getByRole("button", { name: "Delete e2e errors" }).click();
  await page.getByRole("dialog", { name: "Delete the rule e2e errors?" }).getByRole("button", { name: "Delete" }).click();
  await rules.locator('tr[data-rule="e2e errors"]').waitFor({ state: "detached" });

  step = "log out";
  await page.getByRole("button", { name: "Log out" }).click();
  await expectVisible(page.getByRole("button", { name: "Log in" }), "the login form after logging out");

  step = "log in as a plain user";
  await page.getByRole("textbox", { name: "Username", exact: true }).fill(env("USER_USER"));
  await page.getByRole("textbox", { name: "Password", exact: true }).fill(env("USER_PASSWORD"));
  await page.getByRole("button", { name: "Log in" }).click();
  await expectVisible(page.getByRole("heading", { name: "Providers" }), "the user's providers list");
  await expectVisible(page.getByRole("link", { name: "Local fake" }), "the enabled provider, for the user");
  const nav = page.getByRole("navigation", { name: "Main" });
  for (const admin of ["Add provider", "Users", "Templates", "Import and export", "Alerts"]) {
    if (await nav.getByRole("link", { name: admin }).count()) throw new Error(`a plain user sees the ${admin} link`);
  }
  if (await page.getByRole("button", { name: "Add provider" }).count()) throw new Error("a plain user sees Add provider");
  if (await page.getByRole("checkbox").count()) throw new Error("a plain user sees bulk selection");
  await shot("user-providers");
  await page.getByRole("link", { name: "Local fake" }).click();
  await expectVisible(page.locator('tr[data-model="gpt-4o-mini"]'), "the models, for the user");
  for (const admin of ["Test connection", "Add model", "Discover models", "Save settings"]) {
    if (await page.getByRole("button", { name: admin }).count()) throw new Error(`a plain user sees ${admin}`);
  }
  for (const path of ["/providers/new", "/users", "/templates", "/transfer/backups", "/alerts"]) {
    await page.goto(base + path);
    await expectVisible(page.getByRole("heading", { name: "Admins only" }), `the admins-only page at ${path}`);
  }
  await shot("user-admin-only");

  if (problems.length) throw new Error(`the browser reported:\n${problems.join("\n")}`);
  log("all steps passed");
} catch (e) {
  console.error(`e2e failed at "${step}": ${e.message}`);
  if (page) await page.screenshot({ path: join(shots, "failure.png") }).catch(() => {});
  if (problems.length) console.error(problems.join("\n"));
  await browser.close();
  process.exit(1);
}
await browser.close();
