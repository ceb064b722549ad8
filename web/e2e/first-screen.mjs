// Measures how fast the dashboard's first screens become usable, against a
// running `switchyard serve`, in headless Chromium (Debian's /usr/bin/chromium
// driven by playwright-core). Not a test: it asserts nothing about time; it
// prints the median (and the range) of RUNS runs. See docs/ui.md#how-fast.
//
// Each run starts Chromium with a new, empty profile (no HTTP cache, no
// cookies) and measures, in the page's own clock (performance.now(), from the
// start of the navigation):
//   1. the login page, cold: DOMContentLoaded, load, when the login form is
//      rendered, when a key typed into it as soon as it shows is in the field
//      (this includes the driver's round trips to the browser), and the input
//      delay (from the key reaching the page to it being in the field);
//   2. logging in: from the Enter key to the providers table rendered with
//      its rows, and to a key typed into its search field being in it;
//   3. the providers screen opened directly with the session cookie and an
//      emptied HTTP cache (a bookmark, a new tab): the same as 1.
// It also lists, for the cold providers load, the requests made before the
// table showed, in the order they started (the waterfall).
//
//   BASE_URL        where switchyard serves (default http://127.0.0.1:8080);
//                   several, separated by commas, are measured in turns
//   ADMIN_TOKEN     an admin API token: the script adds a user to log in as
//   or LOGIN_USER and LOGIN_PASSWORD of an existing user
//   RUNS            how many runs (default 7)
//   CHROMIUM        the browser (default /usr/bin/chromium)
//   JSON=1          print the raw numbers as JSON too
import { chromium } from "playwright-core";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";

// Several servers (BASE_URL=http://a,http://b) are measured in turns, run
// by run, so that a noisy machine weighs on each alike.
const bases = (process.env.BASE_URL || "http://127.0.0.1:8080").split(",").map((u) => u.trim().replace(/\/$/, ""));
const runs = Number(process.env.RUNS || 7);
const executablePath = process.env.CHROMIUM || "/usr/bin/chromium";

async function loginUser(base) {
  if (process.env.LOGIN_USER && process.env.LOGIN_PASSWORD) return { username: process.env.LOGIN_USER, password: process.env.LOGIN_PASSWORD };
  const token = process.env.ADMIN_TOKEN;
  if (!token) throw new Error("set ADMIN_TOKEN (an admin API token), or LOGIN_USER and LOGIN_PASSWORD");
  const username = `first-screen-${randomBytes(3).toString("hex")}`;
  const password = randomBytes(18).toString("base64url");
  const r = await fetch(`${base}/api/v1/users`, {
    method: "POST",
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: JSON.stringify({ username, role: "admin", password }),
  });
  if (!r.ok) throw new Error(`creating the user ${username} answered ${r.status}: ${await r.text()}`);
  return { username, password };
}

// In the page: the time (performance.now()) of the first frame where `sel`
// matches, polled on every animation frame.
const rendered = (page, sel) =>
  page.waitForFunction((s) => (document.querySelector(s) ? performance.now() : 0), sel, { polling: "raf", timeout: 20_000 }).then((h) => h.jsonValue());

// Types one key into `sel` as soon as it can, and returns when the key is in
// the field (performance.now()) and how long that took after the key reached
// the page (the input delay: the driver's own round trips are not in it).
async function responds(page, sel) {
  await page.focus(sel);
  await page.evaluate(() => document.addEventListener("keydown", (e) => (window.__keyAt = e.timeStamp), { once: true, capture: true }));
  await page.keyboard.type("x");
  const t = await page.waitForFunction((s) => (document.querySelector(s)?.value.endsWith("x") ? performance.now() : 0), sel, { polling: "raf" }).then((h) => h.jsonValue());
  const keyAt = await page.evaluate(() => window.__keyAt);
  await page.keyboard.press("Backspace");
  return { at: t, delay: t - keyAt };
}

const navTiming = (page) =>
  page.evaluate(() => {
    const n = performance.getEntriesByType("navigation")[0];
    return { dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd };
  });

// The requests the page made up to `until`, as [start, end, what, bytes].
const waterfall = (page, until) =>
  page.evaluate((u) => {
    const n = performance.getEntriesByType("navigation")[0];
    const rows = [[0, n.responseEnd, new URL(n.name).pathname, n.transferSize]];
    for (const r of performance.getEntriesByType("resource")) {
      if (r.startTime > u) continue;
      rows.push([r.startTime, r.responseEnd, new URL(r.name).pathname.replace(/^\/api\/v1/, "API "), r.transferSize]);
    }
    return rows.sort((a, b) => a[0] - b[0]);
  }, until);

async function oneRun(base, user) {
  const profile = mkdtempSync(join(tmpdir(), "switchyard-first-screen-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    viewport: { width: 1280, height: 800 },
    colorScheme: "light",
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"],
  });
  try {
    const page = context.pages()[0] ?? (await context.newPage());
    page.setDefaultTimeout(20_000);
    const out = {};

    // 1. The login page, cold.
    await page.goto(`${base}/`, { waitUntil: "commit" });
    const loginShown = await rendered(page, 'input[autocomplete="current-password"]');
    const loginResponds = await responds(page, 'input[autocomplete="username"]');
    await page.waitForLoadState("load");
    out.login = { ...(await navTiming(page)), rendered: loginShown, responds: loginResponds.at, inputDelay: loginResponds.delay };

    // 2. Log in: Enter → the providers table.
    await page.fill('input[autocomplete="username"]', user.username);
    await page.fill('input[autocomplete="current-password"]', user.password);
    await page.evaluate(() => document.addEventListener("keydown", (e) => e.key === "Enter" && (window.__enterAt = performance.now()), { once: true, capture: true }));
    await page.keyboard.press("Enter");
    const tableShown = await rendered(page, 'table[aria-label="Providers"] tbody tr');
    const searchResponds = await responds(page, 'input[placeholder="Name or slug"]');
    const enterAt = await page.evaluate(() => window.__enterAt);
    out.afterLogin = { rendered: tableShown - enterAt, responds: searchResponds.at - enterAt, inputDelay: searchResponds.delay };

    // 3. The providers screen opened directly, logged in, with an empty HTTP cache.
    const cdp = await context.newCDPSession(page);
    await cdp.send("Network.clearBrowserCache");
    await page.goto(`${base}/providers`, { waitUntil: "commit" });
    const directShown = await rendered(page, 'table[aria-label="Providers"] tbody tr');
    const directResponds = await responds(page, 'input[placeholder="Name or slug"]');
    await page.waitForLoadState("load");
    out.providers = { ...(await navTiming(page)), rendered: directShown, responds: directResponds.at, inputDelay: directResponds.delay };
    out.waterfall = await waterfall(page, directShown);
    return out;
  } finally {
    await context.close();
    rmSync(profile, { recursive: true, force: true });
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const ms = (x) => `${Math.round(x)}`;

const users = [];
for (const base of bases) users.push(await loginUser(base));
const results = bases.map(() => []);
for (let i = 0; i < runs; i++) {
  for (const [j, base] of bases.entries()) {
    const r = await oneRun(base, users[j]);
    results[j].push(r);
    console.error(
      `${base} run ${i + 1}/${runs}: login page ${ms(r.login.rendered)} ms, providers after Enter ${ms(r.afterLogin.rendered)} ms, providers cold ${ms(r.providers.rendered)} ms`,
    );
  }
}

const rows = [
  ["login page (cold profile)", "login"],
  ["providers, after pressing Enter on the login form", "afterLogin"],
  ["providers, opened directly (logged in, empty cache)", "providers"],
];
const cols = [
  ["DOMContentLoaded", "dcl"],
  ["load", "load"],
  ["main content rendered", "rendered"],
  ["a key typed then is in the field", "responds"],
  ["input delay", "inputDelay"],
];
const cell = (xs) => (xs.length ? `${ms(median(xs))} (${ms(Math.min(...xs))}–${ms(Math.max(...xs))})` : "—");
for (const [j, base] of bases.entries()) {
  console.log(`\nmedian of ${runs} runs against ${base}, in ms (min–max):\n`);
  console.log(`| screen | ${cols.map((c) => c[0]).join(" | ")} |`);
  console.log(`|---|${cols.map(() => "---:").join("|")}|`);
  for (const [label, key] of rows) {
    console.log(`| ${label} | ${cols.map(([, c]) => cell(results[j].map((r) => r[key][c]).filter((x) => x !== undefined))).join(" | ")} |`);
  }
  const last = results[j][runs - 1].waterfall;
  console.log(`\nrequests before the providers table showed (last run; start → end ms, bytes transferred):`);
  for (const [s, e, what, bytes] of last) console.log(`  ${ms(s).padStart(5)} → ${ms(e).padStart(5)}  ${what}  ${bytes}`);
}
if (process.env.JSON) console.log(JSON.stringify(results));
