import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { chromium, type Browser } from "playwright-core";
import { REPO } from "../helpers";
import { startHarness, TOKEN } from "./harness";

// Debian's chromium (never a downloaded browser). CI installs it and sets FLEET_REQUIRE_BROWSER=1,
// so a missing browser there is a failure, not a skip.
const CHROMIUM = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
const missing = !fs.existsSync(CHROMIUM);
if (missing && process.env.FLEET_REQUIRE_BROWSER === "1") throw new Error(`FLEET_REQUIRE_BROWSER=1 but ${CHROMIUM} does not exist (apt-get install chromium)`);
const SHOTS = path.join(REPO, "test-artifacts", "screenshots");

test("web page in headless Chromium: status of every area, approve the pending plan, search offers and boot one", { skip: missing ? `no browser at ${CHROMIUM}` : false, timeout: 120_000 }, async () => {
  const h = await startHarness();
  let browser: Browser | undefined;
  try {
    const address = await h.app.listen({ port: 0, host: "127.0.0.1" });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] });
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("request", (r) => {
      if (!r.url().startsWith(address)) errors.push(`request outside the server: ${r.url()}`);
    });
    await page.goto(address);
    fs.mkdirSync(SHOTS, { recursive: true });

    // Every area, the badge, spend, chart and the plan.
    await page.locator("#burst tbody tr").first().waitFor();
    assert.match(await page.locator("#burst tbody").innerText(), /fleet-burst-a1\s+us-central1-a\s+e2-standard-4\s+2h 0m\s+\$0\.080/);
    assert.equal(await page.locator("#gpu-badge").innerText(), "GPU: connected");
    assert.match(await page.locator("#gpu-badge").getAttribute("class") ?? "", /green/);
    assert.match(await page.locator("#spend-text").innerText(), /spend today \$1\.34 \(burst \$0\.08 of \$5\.00 budget\)/);
    assert.match(await page.locator("#pool").innerText(), /gcp\/us-central1\/\/n2-standard-4 \(spot\)/);
    assert.match(await page.locator("#switches").innerText(), /switch: pool gcp\/europe-west1/);
    assert.equal(await page.locator("#price-svg path").count(), 1);
    assert.match(await page.locator("#chart").innerText(), /forecast in 1 h/);
    assert.match(await page.locator("#pairs tbody").innerText(), /train\s+running\s+RTX_4090 #7001 \(running\)/);
    assert.match(await page.locator("#hpc tbody").innerText(), /lab-compute-1\s+compute\s+shut off/);
    assert.match(await page.locator("#plan-decisions").innerText(), /burst scale: pressure high: memory 93%/);
    assert.match(await page.locator("#plan-changes").innerText(), /create gcp:compute\/instance:Instance fleet-burst-b2/);
    assert.match(await page.locator("#plan-cost").innerText(), /delta \$0\.0400\/h/);
    await page.screenshot({ path: path.join(SHOTS, "1-dashboard.png"), fullPage: true });

    // Approve without a token: refused, nothing applied.
    await page.click("#approve");
    await page.locator("#plan-result", { hasText: "401" }).waitFor();
    assert.equal(h.applier.count("up"), 0);
    // With the token: applied, and no plan waits any more.
    await page.fill("#token", TOKEN);
    await page.dispatchEvent("#token", "change");
    await page.click("#approve");
    await page.locator("#plan-result", { hasText: "applied" }).waitFor();
    assert.deepEqual(h.applier.applied.burst.vms.map((v) => v.name), ["fleet-burst-b2"]);
    await page.locator("#plan", { hasText: "No plan is waiting for review." }).waitFor();
    await page.screenshot({ path: path.join(SHOTS, "2-approved.png"), fullPage: true });

    // Offer search and boot, with the job's progress in the dialog.
    await page.click("#open-offers");
    await page.fill("#gpu-ram-min", "20");
    await page.fill("#max-price", "0.5");
    await page.click("#search");
    await page.locator("#offers tbody tr").nth(1).waitFor();
    assert.deepEqual(await page.locator("#offers tbody tr td:first-child").allInnerTexts(), ["102", "101"]);
    await page.screenshot({ path: path.join(SHOTS, "3-offers.png") });
    await page.click('button[data-offer="102"]');
    await page.locator("#boot-progress", { hasText: "done" }).waitFor();
    assert.match(await page.locator("#boot-progress").innerText(), /\[1\/4\] checking offer 102[\s\S]*\[4\/4\] pair gpu-102 running/);
    await page.screenshot({ path: path.join(SHOTS, "4-booted.png") });
    assert.deepEqual(h.applier.applied.standby.pairs.map((p) => p.pairId), ["train", "gpu-102"]);
    assert.deepEqual(errors, []);
  } finally {
    await browser?.close();
    await h.close();
  }
});
