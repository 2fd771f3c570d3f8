// Browser test of the `seer view` page (src/view/viewer.html filled with a trace).
//
//   node view_test.mjs OUT_DIR PAGE.html EXPECT.json
//
// Opens PAGE.html (file://) in Debian's Chromium, headless, through playwright-core
// (CHROMIUM overrides /usr/bin/chromium), checks it against EXPECT.json, and saves a full-page
// screenshot as OUT_DIR/<expect.name or "viewer">.png. Exit 0 when every check passed, 1 when one
// failed (each failure is printed), 2 on bad usage or when the browser could not start.
// run_view_test.sh computes EXPECT.json from the trace and `seer explain --json`:
//   name         screenshot base name
//   events       number of trace events (all are drawn as `#chart .ev` at first)
//   lanes        processes in the header + 1: the viewer always draws a `sim` lane (network, nemesis)
//   processes    the header's processes
//   deliver      deliver events = `.arrow.delivered` (one arrow from its send each)
//   duplicate    deliveries with oracle.duplicate = `.arrow.dup`
//   drop         drop events = `.arrow.dropped` (arrow ending in a cross)
//   crash        crash events = `.crash`
//   stale        events with oracle.stale or oracle.service.stale = `.ev.stale`
//   slice        distinct seqs of the explanation's slice = `.ev.slice`
//   violation    the violated invariant or null (shown in `#verdict`)
//   cause_events distinct events of the top cause (highlighted `.ev.hl` after clicking it), or null
//   click        {seq, texts}: clicking that event shows `#details` with "#seq" and every text
//   filter_process  a process whose checkbox hides its lane
//   filter_key, key_matches  typing the key into `#key-filter` leaves exactly that many events
//   heal         heal annotations (0 or 1) = the `heal-line`
//   stuck_entity the awaited entity of a liveness violation (explain's `stuck`), shown in the
//                stuck block with its last event marked `.ev.stuck-mark`; null otherwise
import { chromium } from 'playwright-core';
import { readFileSync, mkdirSync } from 'node:fs';
import { resolve, join } from 'node:path';
import { pathToFileURL } from 'node:url';

const [outDir, pageFile, expectFile] = process.argv.slice(2);
if (!outDir || !pageFile || !expectFile) {
  console.error('usage: node view_test.mjs OUT_DIR PAGE.html EXPECT.json');
  process.exit(2);
}
const X = JSON.parse(readFileSync(expectFile, 'utf8'));
const name = X.name || 'viewer';
mkdirSync(outDir, { recursive: true });

let passed = 0;
const failures = [];
function check(ok, what, detail = '') {
  if (ok) { passed++; console.log(`  ok   ${what}`); }
  else { failures.push(`${what}${detail ? ': ' + detail : ''}`); console.log(`  FAIL ${what}${detail ? ': ' + detail : ''}`); }
}
function eq(actual, expected, what) { check(actual === expected, what, `got ${actual}, expected ${expected}`); }

let browser;
try {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox'],
  });
} catch (err) {
  console.error(`view_test: cannot start Chromium: ${err.message}`);
  process.exit(2);
}

const url = pathToFileURL(resolve(pageFile)).href;
console.log(`view_test: ${url} (${name})`);
const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
const errors = [];
const requests = [];
page.on('console', (m) => { if (m.type() === 'error') errors.push(`console error: ${m.text()}`); });
page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
page.on('request', (r) => { if (r.url() !== url) requests.push(r.url()); });

const count = (sel) => page.locator(sel).count();
const text = (sel) => page.locator(sel).innerText();

try {
  const t0 = Date.now();
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForSelector('#chart .ev', { timeout: 15000 });
  console.log(`  page drawn in ${Date.now() - t0} ms`);

  // what is drawn
  eq(await count('#chart .lane'), X.lanes, 'lanes (processes + sim)');
  eq(await count('#labels .lane-label'), X.lanes, 'lane labels');
  for (const p of X.processes) check(await count(`#chart .lane[data-process="${p}"]`) === 1, `lane of ${p}`);
  eq(await count('#chart .ev'), X.events, 'event marks');
  // the heal and, for a liveness violation, what never came about
  eq(await count('#chart [data-testid="heal-line"]'), X.heal ? 1 : 0, 'a heal line where the run healed');
  if (X.stuck_entity) {
    const stuck = await text('[data-testid="stuck"]');
    check(stuck.includes(X.stuck_entity), 'the stuck block names the awaited entity', stuck);
    eq(await count('#chart .ev.stuck-mark'), 1, 'the last event that touched it is marked');
  } else {
    eq(await count('[data-testid="stuck"]'), 0, 'no stuck block without a liveness violation');
  }
  eq(await count('#chart .arrow.delivered'), X.deliver, 'delivery arrows = deliver events');
  eq(await count('#chart .arrow.dup'), X.duplicate, 'dashed arrows = duplicate deliveries');
  eq(await count('#chart .arrow.dropped'), X.drop, 'dropped arrows = drop events');
  eq(await count('#chart .crash'), X.crash, 'crash marks = crash events');
  eq(await count('#chart .ev.stale'), X.stale, 'stale marks = events the oracle calls stale');
  eq(await count('#chart .ev.slice'), X.slice, 'highlighted slice events = slice length');
  eq(await count('#slice-list li[data-seq]'), X.slice_lines ?? X.slice, 'slice list lines');
  const verdict = await text('#verdict');
  if (X.violation) check(verdict.includes(X.violation), 'verdict names the violated invariant', verdict);
  else check(/no violation/.test(verdict), 'verdict says the run held', verdict);
  check(await page.locator('#run-title').innerText().then((t) => t.includes(X.system)), 'header names the system');

  // a cause highlights its events
  if (X.cause_events) {
    await page.locator('#causes .cause').first().click();
    eq(await count('#chart .ev.hl'), X.cause_events, 'clicking the top cause highlights its events');
    // its details say what would have prevented it: where the design acted, and the fixes
    eq(await count('#details .remedy li'), X.remedy_options, 'the top cause lists its fixes');
    if (X.remedy_decision) {
      eq(await count(`#details .remedy-where .link[data-seq="${X.remedy_decision}"]`), 1,
         'the details link the event where the design acted');
    }
    await page.locator('#causes .cause').first().click();
    eq(await count('#chart .ev.hl'), 0, 'clicking it again clears the highlight');
  }

  // slice only fades the rest
  if (X.slice) {
    await page.locator('#slice-only').check();
    const faded = await page.locator('#chart .ev:not(.slice)').first().evaluate((n) => +getComputedStyle(n).opacity);
    const kept = await page.locator('#chart .ev.slice').first().evaluate((n) => +getComputedStyle(n).opacity);
    check(faded < 0.5 && kept === 1, 'slice only fades the events outside the slice', `opacity ${faded} vs ${kept}`);
    await page.locator('#slice-only').uncheck();
  }

  // click an event: the details panel shows its seq and its forbidden facts
  if (X.click) {
    const sel = `#chart .ev[data-seq="${X.click.seq}"]`;
    eq(await count(sel), 1, `event #${X.click.seq} drawn once`);
    let clicked = false;
    for (let attempt = 0; attempt < 4 && !clicked; attempt++) {
      try {
        await page.locator(sel).click({ timeout: 2500 });
        clicked = true;
        if (attempt) console.log(`  (clicked #${X.click.seq} after zooming in ${attempt} time(s): other marks covered it)`);
      } catch {
        // another mark overlaps at this zoom: zoom in around it and try again
        await page.locator('#zoom-in').click();
        await page.locator('#zoom-in').click();
        await page.locator(sel).scrollIntoViewIfNeeded();
      }
    }
    check(clicked, `a real click reaches event #${X.click.seq}`);
    const det = await text('#details');
    check(det.includes(`#${X.click.seq}`), 'details panel shows the clicked seq', det.slice(0, 200));
    for (const t of X.click.texts || []) check(det.includes(t), `details panel shows "${t}"`, det.slice(0, 300));
    eq(await count('#chart .ev.sel'), 1, 'the clicked event is marked selected');
    await page.locator('#zoom-fit').click();
  }

  // filter by process hides its lane
  if (X.filter_process) {
    const p = X.filter_process;
    await page.locator(`#proc-filter input[data-process="${p}"]`).uncheck();
    eq(await count('#chart .lane'), X.lanes - 1, `unchecking ${p} leaves one lane less`);
    eq(await count(`#chart .lane[data-process="${p}"]`) + await count(`#chart .ev[data-process="${p}"]`), 0, `${p}'s lane and events are gone`);
    await page.locator(`#proc-filter input[data-process="${p}"]`).check();
    eq(await count('#chart .lane'), X.lanes, `checking ${p} again restores it`);
  }

  // filter by key
  if (X.filter_key) {
    await page.locator('#key-filter').fill(X.filter_key);
    await page.waitForFunction((n) => document.querySelectorAll('#chart .ev').length === n, X.key_matches, { timeout: 3000 }).catch(() => {});
    const n = await count('#chart .ev');
    eq(n, X.key_matches, `key filter "${X.filter_key}" leaves the events touching it`);
    check(n < X.events, 'key filter reduces the visible events');
    await page.locator('#key-filter').fill('');
    await page.waitForFunction((n) => document.querySelectorAll('#chart .ev').length === n, X.events, { timeout: 3000 }).catch(() => {});
    eq(await count('#chart .ev'), X.events, 'clearing the key filter shows every event again');
  }

  // zoom: buttons and ctrl+wheel change the scale and the axis
  const w0 = +(await page.locator('#chart').getAttribute('width'));
  const s0 = await text('#scale');
  const a0 = await page.locator('#axis text').allInnerTexts();
  await page.locator('#zoom-in').click();
  const w1 = +(await page.locator('#chart').getAttribute('width'));
  const s1 = await text('#scale');
  const a1 = await page.locator('#axis text').allInnerTexts();
  check(w1 > w0 * 1.5, 'zoom in widens the diagram', `${w0} -> ${w1}`);
  check(s1 !== s0, 'zoom in changes the scale label', `${s0} -> ${s1}`);
  check(a1.join('|') !== a0.join('|'), 'zoom in changes the axis labels');
  eq(await count('#chart .ev'), X.events, 'zoomed diagram still draws every event');
  const box = await page.locator('#tl-scroll').boundingBox();
  await page.mouse.move(box.x + box.width / 2, box.y + 80);
  await page.keyboard.down('Control');
  await page.mouse.wheel(0, -400);
  await page.keyboard.up('Control');
  await page.waitForTimeout(100);
  const w2 = +(await page.locator('#chart').getAttribute('width'));
  check(w2 > w1, 'ctrl+wheel zooms in', `${w1} -> ${w2}`);
  await page.locator('#zoom-out').click();
  const w3 = +(await page.locator('#chart').getAttribute('width'));
  check(w3 < w2, 'zoom out narrows the diagram', `${w2} -> ${w3}`);
  await page.locator('#zoom-fit').click();
  const wf = +(await page.locator('#chart').getAttribute('width'));
  const vw = await page.locator('#tl-scroll').evaluate((n) => n.clientWidth);
  check(wf <= vw, 'fit shows the whole run without scrolling', `${wf} > ${vw}`);

  // sequence x-mode draws the same things
  await page.locator('#xmode').selectOption('seq');
  eq(await count('#chart .ev'), X.events, 'sequence mode draws every event');
  eq(await count('#chart .arrow.delivered'), X.deliver, 'sequence mode draws every delivery arrow');
  await page.locator('#xmode').selectOption('time');

  // final state for the screenshot: fitted, with the clicked event selected
  if (X.click) await page.locator('#goto').fill(String(X.click.seq)).then(() => page.locator('#goto').press('Enter'));
  const shot = join(outDir, `${name}.png`);
  await page.screenshot({ path: shot, fullPage: true });
  console.log(`  screenshot ${shot}`);
} catch (err) {
  failures.push(`unexpected: ${err.stack || err}`);
  console.log(`  FAIL unexpected: ${err.message}`);
  await page.screenshot({ path: join(outDir, `${name}-failed.png`), fullPage: true }).catch(() => {});
}

check(errors.length === 0, 'no console or page errors', errors.join('; '));
check(requests.length === 0, 'no request other than the page itself', requests.join(', '));
await browser.close();
console.log(`view_test ${name}: ${passed} passed, ${failures.length} failed`);
if (failures.length) {
  for (const f of failures) console.error(`view_test ${name}: FAIL ${f}`);
  process.exit(1);
}
