// The emulator's dashboard in a real browser: Debian's chromium, headless, driven by
// playwright-core (no browser download). Run by scripts/test_dashboard.sh:
//
//   PLAYWRIGHT_CORE=<dir of playwright-core> node dashboard.cjs <emulator url> <C sample> <screenshot.png>
//
// Against an emulator started with emulator/gsms-emulator.example.toml: the page loads; an
// allocation made through libgsms (the C sample) appears on it with its host:port and its game
// server (a command the emulator started); that game server answers on the port; a click adds a
// 503 fault that the library's next call sees; a click releases the servers; the page reaches
// nothing but the emulator. Prints "ok - ..." / "not ok - ..." lines; exits 1 when one failed.
"use strict";

const { chromium } = require(process.env.PLAYWRIGHT_CORE || "playwright-core");
const { execFile } = require("node:child_process");
const dgram = require("node:dgram");
const fs = require("node:fs");
const os = require("node:os");
const path = require("node:path");

const [base, sample, shot] = process.argv.slice(2);
if (!base || !sample || !shot) {
  console.error("usage: dashboard.cjs <emulator url> <C sample> <screenshot.png>");
  process.exit(2);
}
let failed = 0;
const ok = (name) => console.log(`ok - ${name}`);
const notOk = (name, why) => {
  failed++;
  console.log(`not ok - ${name}`);
  if (why) console.log(String(why).split("\n").map((l) => "    " + l).join("\n"));
};

/// Runs the C sample (libgsms, blocking allocation) against the emulator.
function allocate(title, session) {
  return new Promise((resolve) => {
    const env = { ...process.env, GSMS_BASE_URL: base, GSMS_TITLE_ID: String(title) };
    execFile(sample, [session], { env, timeout: 60000 }, (err, stdout, stderr) =>
      resolve({ code: err ? (err.code ?? 1) : 0, stdout, stderr }));
  });
}

function udpEcho(host, port, text) {
  return new Promise((resolve) => {
    const s = dgram.createSocket(host.includes(":") ? "udp6" : "udp4");
    const timer = setTimeout(() => { s.close(); resolve(null); }, 3000);
    s.on("message", (m) => { clearTimeout(timer); s.close(); resolve(m.toString()); });
    s.send(text, port, host);
  });
}

async function check(name, fn) {
  try {
    const detail = await fn();
    ok(detail ? `${name} (${detail})` : name);
    return true;
  } catch (e) {
    notOk(name, e && e.stack ? e.stack : e);
    return false;
  }
}

(async () => {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), "gsms-dashboard-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1500, height: 1000 },
    // This machine's network is closed: without these, chromium floods it with refused connections.
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
      "--disable-component-update", "--disable-sync"],
  });
  const page = context.pages()[0] || (await context.newPage());
  const origin = new URL(base).origin;
  const elsewhere = [];
  const pageErrors = [];
  page.on("request", (r) => { if (!r.url().startsWith(origin + "/")) elsewhere.push(r.url()); });
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") pageErrors.push(m.text()); });
  const titleCard = (id) => page.locator(`.title[data-title="${id}"]`);
  let where = null;

  try {
    await check("the dashboard loads and shows the emulator's state", async () => {
      const r = await page.goto(`${base}/_emulator/ui`);
      if (r.status() !== 200) throw new Error(`status ${r.status()}`);
      await page.locator("#updated", { hasText: "updated" }).waitFor({ timeout: 10000 });
      await titleCard(2001).locator("tr", { hasText: "fixed" }).waitFor({ timeout: 5000 });
      await page.locator("#regions", { hasText: "North Europe" }).waitFor({ timeout: 5000 });
      return "titles 2001 and 2002 from the config, regions West US and North Europe";
    });

    await check("an allocation made through libgsms (the C sample) appears on the page", async () => {
      const res = await allocate(2002, "dashboard-match");
      if (res.code !== 0) throw new Error(`the sample exited ${res.code}: ${res.stdout}${res.stderr}`);
      const m = res.stdout.match(/GameData: connect to (\S+):(\d+)/);
      if (!m) throw new Error(`no host:port in ${res.stdout}`);
      where = { host: m[1], port: Number(m[2]) };
      const row = titleCard(2002).locator("tr[data-server]", { hasText: "dashboard-match" });
      await row.waitFor({ timeout: 5000 });
      const text = await row.innerText();
      if (!text.includes(`${where.host}:${where.port}`)) throw new Error(`the row says ${text}`);
      if (!/Ready/.test(text)) throw new Error(`the game server is not Ready: ${text}`);
      return `session dashboard-match on ${where.host}:${where.port}, game server Ready`;
    });

    await check("the game server the emulator started answers on that port", async () => {
      if (!where) throw new Error("no allocation");
      const echo = await udpEcho(where.host, where.port, "hello from the browser test");
      if (echo !== "hello from the browser test") throw new Error(`echo: ${echo}`);
      return "UDP echo";
    });

    let attemptsBefore = null;
    await check("a click adds a 503 fault (for clusters, once) that the page lists", async () => {
      await page.selectOption("#fault-call", "clusters");
      await page.fill("#fault-status", "503");
      await page.fill("#fault-times", "1");
      await page.click("#add-fault");
      await page.locator("#faults tr.fault", { hasText: "503" }).waitFor({ timeout: 5000 });
      const text = await page.locator("#faults").innerText();
      if (!text.includes("clusters")) throw new Error(text);
      attemptsBefore = true;
    });

    await check("the next call through libgsms sees the 503, and the page shows it", async () => {
      if (!attemptsBefore) throw new Error("no fault was added");
      const res = await allocate(2001, "after-the-fault");
      if (res.code !== 0) throw new Error(`the sample exited ${res.code}: ${res.stdout}${res.stderr}`);
      const m = res.stdout.match(/Fulfilled after (\d+) request/);
      if (!m || Number(m[1]) !== 2) throw new Error(`expected 2 requests (503, then a retry): ${res.stdout}`);
      const row = page.locator("#requests tr.request", { hasText: "after-the-fault" }).filter({ hasText: "503" });
      await row.first().waitFor({ timeout: 5000 });
      // The rule fired once and is gone (the example's 25 ms latency rule stays).
      await page.locator("#faults tr.fault", { hasText: "503" }).waitFor({ state: "detached", timeout: 5000 });
      const fault = await row.first().locator("td").nth(7).innerText();
      if (!fault.includes("503")) throw new Error(`the row's fault is ${fault}`);
      return `"Fulfilled after ${m[1]} requests"; the 503 row names its fault (${fault.trim()}); the rule is used up`;
    });

    await check("the page shows the fixed server you run yourself for title 2001", async () => {
      const row = titleCard(2001).locator("tr[data-server]", { hasText: "after-the-fault" });
      await row.waitFor({ timeout: 5000 });
      const text = await row.innerText();
      if (!text.includes("fixed") || !text.includes("127.0.0.1:7777")) throw new Error(text);
      return "127.0.0.1:7777";
    });

    await check("screenshot saved", async () => {
      fs.mkdirSync(path.dirname(shot), { recursive: true });
      await page.screenshot({ path: shot, fullPage: true });
      const size = fs.statSync(shot).size;
      if (size < 20000) throw new Error(`only ${size} bytes`);
      return `${shot}, ${size} bytes`;
    });

    await check("a click releases title 2002's servers and stops its game server", async () => {
      await titleCard(2002).locator("button[data-release]").click();
      await titleCard(2002).locator("tr[data-server]", { hasText: "free" }).waitFor({ timeout: 5000 });
      const state = await (await fetch(`${base}/_emulator/state`)).json();
      const t = state.titles.find((x) => x.titleId === 2002);
      if (t.servers[0].sessionId || t.servers[0].process) throw new Error(JSON.stringify(t.servers[0]));
      if (where) {
        const echo = await udpEcho(where.host, where.port, "still there?");
        if (echo !== null) throw new Error("the game server still answers after the release");
      }
      return "the pool is free, the port is silent";
    });

    await check("a bad fault from the form is refused with the admin API's message", async () => {
      await page.fill("#fault-status", "42");
      await page.click("#add-fault");
      await page.locator("#banner", { hasText: "400" }).waitFor({ timeout: 5000 });
      const text = await page.locator("#banner").innerText();
      if (!text.includes("42")) throw new Error(text);
      return text.trim().slice(0, 80);
    });

    await check("the page reached nothing but the emulator and raised no error", async () => {
      // The refused fault above logs a failed fetch (400) to the console; nothing else may.
      const errors = pageErrors.filter((e) => !/status of 400/.test(e));
      if (elsewhere.length) throw new Error(`requests elsewhere: ${elsewhere.join(", ")}`);
      if (errors.length) throw new Error(`page errors: ${errors.join(" | ")}`);
    });
  } finally {
    await context.close();
    fs.rmSync(profile, { recursive: true, force: true });
  }
  process.exit(failed ? 1 : 0);
})().catch((e) => {
  notOk("the browser test ran", e && e.stack ? e.stack : e);
  process.exit(1);
});
