// Drive the explorer page in headless Chromium for tests/explorer_browser.rs:
//   node explorer.mjs PAGE.html LEVER_KEY RESULT.json SCREENSHOT.png [LATER_KEY LATER_VALUE]
// Loads the page, waits for the first run, records it, moves the lever to its lowest value,
// waits for the rerun, records that and what the headline table shows, saves a screenshot.
// With LATER_KEY, then moves that lever (one acting after the burn-in) to LATER_VALUE and
// records the third run, which the workers start from the states they kept.
// Writes what it saw as JSON; the Rust test decides whether that is right.
import { chromium } from "playwright-core";
import { writeFileSync } from "node:fs";

const [pagePath, leverKey, resultPath, screenshotPath, laterKey, laterValue] = process.argv.slice(2);
const browser = await chromium.launch({
  executablePath: process.env.COPROSIM_CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"],
});
const errors = [];
try {
  const page = await browser.newPage({ viewport: { width: 1500, height: 1100 } });
  page.on("pageerror", (e) => errors.push(String(e)));
  page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
  await page.goto("file://" + pagePath);
  const ran = (n) => page.waitForFunction((n) => (window.explorer && (window.explorer.runs >= n || window.explorer.error)), n, { timeout: 300000 });
  const snapshot = () => page.evaluate(() => ({
    error: window.explorer.error,
    ms: window.explorer.lastMs,
    warmUpMs: window.explorer.warmUpMs,
    workers: window.explorer.workers,
    replications: window.explorer.state.replications,
    digest: window.explorer.result && window.explorer.result.digest,
    scenario: window.explorer.result && window.explorer.result.scenario,
    headline: window.explorer.result && window.explorer.result.headline,
    shown: Array.from(document.querySelectorAll("#headline tbody tr")).map((r) => ({
      metric: r.dataset.metric, coalition: r.dataset.coalition, group: r.dataset.group, mean: r.querySelector(".mean").textContent,
    })),
    charts: document.querySelectorAll("#charts svg").length,
    polylines: document.querySelectorAll("#charts svg polyline").length,
    marks: document.querySelectorAll("#charts svg line.mark").length,
    labels: Array.from(document.querySelectorAll("#charts svg text")).map((t) => t.textContent),
  }));
  await ran(1);
  const first = await snapshot();
  const move = (key, value) => page.evaluate(([key, value]) => {
    const el = document.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (!el) return false;
    el.value = value === null ? el.min : value;
    el.dispatchEvent(new Event("input"));
    el.dispatchEvent(new Event("change"));
    return true;
  }, [key, value]);
  const moved = await move(leverKey, null);
  let second = null, third = null, movedLater = false;
  if (moved) {
    await ran(2);
    second = await snapshot();
    await page.screenshot({ path: screenshotPath });
    if (laterKey) {
      movedLater = await move(laterKey, laterValue);
      if (movedLater) {
        await ran(3);
        third = await snapshot();
      }
    }
  }
  writeFileSync(resultPath, JSON.stringify({ first, second, third, moved, movedLater, errors }));
} finally {
  await browser.close();
}
