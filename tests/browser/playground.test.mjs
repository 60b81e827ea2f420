// The playground page in a real browser (Debian's headless chromium, driven by playwright-core):
// it loads with no request leaving 127.0.0.1 and no console error, trains the circle set below a
// test loss of 0.1, shows in its δ lens exactly the numbers the trace API gives for the same
// session state, and animates "Step backward" output-first with the BP1/BP2 labels.
//
// Usage: node playground.test.mjs URL [SCREENSHOT]
//   URL         the page, as `backprop serve` prints it (http://127.0.0.1:PORT/)
//   SCREENSHOT  where to write the screenshot (or PLAYGROUND_SCREENSHOT; default target/playground.png)
// PLAYGROUND_SHOWCASE=PATH also trains spiral with more features and layers and writes a second
// screenshot there (how docs/img/playground.png is made).
import { chromium } from 'playwright-core';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const base = process.argv[2] || process.env.PLAYGROUND_URL;
if (!base) {
  console.error('usage: node playground.test.mjs URL [SCREENSHOT]');
  process.exit(2);
}
const screenshotPath = process.argv[3] || process.env.PLAYGROUND_SCREENSHOT || 'target/playground.png';
const showcasePath = process.env.PLAYGROUND_SHOWCASE;
const TRAIN_TIMEOUT_MS = 60_000;
const started = Date.now();
const log = (message) => console.log(`[${((Date.now() - started) / 1000).toFixed(1)} s] ${message}`);

async function getJson(pathname) {
  const response = await fetch(new URL(pathname, base));
  const text = await response.text();
  assert.equal(response.status, 200, `GET ${pathname}: ${response.status} ${text}`);
  return JSON.parse(text);
}

/** GET a session until it answers 404 (the page deletes without waiting), for at most 2 s. */
async function statusWhenGone(id) {
  let status = 200;
  for (let attempt = 0; attempt < 40 && status !== 404; attempt += 1) {
    status = (await fetch(new URL(`/api/sessions/${id}`, base))).status;
    if (status !== 404) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return status;
}

/** The numbers the page formats: what it shows must be the value to 4 significant digits. */
function assertShown(text, value, what) {
  const shown = Number(text);
  const tolerance = Math.abs(value) * 5e-4 + 1e-300;
  assert.ok(Math.abs(shown - value) <= tolerance, `${what}: shows ${text} for ${value}`);
}

const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'playground-chromium-'));
const context = await chromium.launchPersistentContext(userDataDir, {
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  viewport: { width: 1280, height: 800 },
  args: [
    '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
  ],
});

const foreignRequests = [];
const consoleErrors = [];
context.on('request', (request) => {
  const url = new URL(request.url());
  if (['data:', 'blob:'].includes(url.protocol)) return;
  if (url.hostname !== '127.0.0.1') foreignRequests.push(request.url());
});

let failed = false;
try {
  const page = context.pages()[0] || (await context.newPage());
  page.setDefaultTimeout(15_000);
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(`console: ${message.text()}`);
  });
  page.on('pageerror', (error) => consoleErrors.push(`page error: ${error.message}`));

  // ---- load ----
  await page.goto(base);
  await page.waitForSelector('body[data-ready="true"][data-session]');
  await page.waitForFunction(() => document.querySelector('#test-loss').dataset.value !== '');
  const sessionId = await page.getAttribute('body', 'data-session');
  log(`page loaded, session ${sessionId}`);
  assert.equal(await page.getAttribute('#datasets .selected', 'data-dataset'), 'circle');
  assert.equal(await page.inputValue('#noise'), '0');
  assert.equal(await page.locator('.neuron.hidden').count(), 6, 'default network: 4 and 2 hidden neurons');

  // ---- train the circle set until the test loss the page plots is below 0.1 ----
  await page.click('#play');
  await page.waitForFunction(
    () => Number(document.querySelector('#test-loss').dataset.value) < 0.1,
    null,
    { timeout: TRAIN_TIMEOUT_MS, polling: 100 },
  );
  const epochReached = await page.getAttribute('#epoch', 'data-value');
  log(`test loss ${await page.getAttribute('#test-loss', 'data-value')} < 0.1 at epoch ${epochReached}`);
  await page.click('#play');
  await page.waitForSelector('body[data-running="false"]');

  // ---- the δ lens equals the trace API for the same state: the next batch, then one example ----
  await page.click('.neuron.hidden[data-layer="1"][data-neuron="1"]');
  await page.waitForSelector('#lens[data-status="ready"][data-query="batch=next"]');
  await checkLens(page, sessionId, 1, 1);
  await page.check('input[name="lens-source"][value="example"]');
  await page.fill('#lens-example', '7');
  await page.press('#lens-example', 'Enter');
  await page.waitForSelector('#lens[data-status="ready"][data-query="example=7"]');
  assert.deepEqual((await checkLens(page, sessionId, 1, 1)).examples, [7], 'example 7 is row 7');
  // Clicking a training point on the output map puts that example under the lens.
  const data = await getJson(`/api/sessions/${sessionId}/data`);
  const extent = (await getJson(`/api/sessions/${sessionId}`)).heatmap.extent;
  const [x1, x2] = data.train[12];
  const box = await page.locator('#output-map').boundingBox();
  await page.mouse.click(
    box.x + ((x1 + extent) / (2 * extent)) * box.width,
    box.y + ((extent - x2) / (2 * extent)) * box.height,
  );
  await page.waitForSelector('#lens[data-status="ready"][data-query="example=12"]');
  const trace = await checkLens(page, sessionId, 1, 1);
  assert.deepEqual(trace.examples, [12], 'the clicked point is row 12');

  // ---- "Step backward" visits the layers output-first, with BP1 then BP2 ----
  await page.evaluate(() => {
    window.backwardVisits = [];
    const network = document.querySelector('#network');
    new MutationObserver(() => {
      const visited = network.dataset.backwardLayer;
      if (visited && window.backwardVisits[window.backwardVisits.length - 1] !== visited) {
        window.backwardVisits.push(visited);
      }
    }).observe(network, { attributes: true, attributeFilter: ['data-backward-layer'] });
  });
  await page.click('#step-backward');
  await page.waitForSelector('#lens[data-backward="done"]', { timeout: 30_000 });
  const backward = await page.evaluate(() => ({
    visits: window.backwardVisits,
    steps: [...document.querySelectorAll('#backward-steps li')].map((item) => ({
      layer: item.dataset.layer,
      equation: item.dataset.equation,
      text: item.querySelector('.eq').textContent,
    })),
    deltas: [...document.querySelectorAll('.neuron[data-layer]')].map((element) => ({
      layer: element.dataset.layer,
      neuron: element.dataset.neuron,
      value: element.querySelector('.delta-label').dataset.value,
    })),
  }));
  const depth = trace.layers.length;
  const expectedOrder = Array.from({ length: depth }, (_, i) => String(depth - i));
  assert.deepEqual(backward.visits, expectedOrder, 'layers highlighted output first');
  assert.deepEqual(backward.steps.map((step) => step.layer), expectedOrder, 'steps listed output first');
  backward.steps.forEach((step, i) => {
    const expected = i === 0 ? 'BP1' : 'BP2';
    assert.equal(step.equation, expected, `layer ${step.layer} uses ${expected}`);
    assert.equal(trace.layers.find((entry) => String(entry.layer) === step.layer).equation, expected);
    const formula = expected === 'BP1' ? 'δᴸ = ∇ₐC ⊙ σ′(zᴸ)' : 'δˡ = ((wˡ⁺¹)ᵀ δˡ⁺¹) ⊙ σ′(zˡ)';
    assert.ok(step.text.startsWith(`${expected}  ${formula}`), `label of layer ${step.layer}: ${step.text}`);
  });
  for (const shown of backward.deltas) {
    const entry = trace.layers.find((candidate) => String(candidate.layer) === shown.layer);
    assert.equal(Number(shown.value), entry.delta[Number(shown.neuron)], `δ shown on neuron ${shown.layer}.${shown.neuron}`);
  }
  log(`step backward visited layers ${backward.visits.join(' → ')} (${backward.steps.map((s) => s.equation).join(', ')})`);

  fs.mkdirSync(path.dirname(path.resolve(screenshotPath)), { recursive: true });
  await page.screenshot({ path: screenshotPath });
  log(`screenshot: ${screenshotPath}`);

  // ---- a configuration change makes a new session and deletes the old one ----
  await page.selectOption('#activation', 'relu');
  await page.waitForFunction((old) => document.body.dataset.session !== old && document.body.dataset.drawn === document.body.dataset.session, sessionId);
  assert.equal(await statusWhenGone(sessionId), 404, 'the old session is deleted after a configuration change');
  const fresh = await getJson(`/api/sessions/${await page.getAttribute('body', 'data-session')}`);
  assert.equal(fresh.layers[0].activation, 'relu', 'the new session has the new activation');
  assert.equal(fresh.epoch, 0);
  log('changing the activation made a new session and deleted the old one');

  if (showcasePath) await showcase(page, showcasePath);

  // ---- leaving the page frees its session (pagehide → DELETE keepalive) ----
  const lastSession = await page.getAttribute('body', 'data-session');
  await page.close({ runBeforeUnload: true });
  assert.equal(await statusWhenGone(lastSession), 404, 'the session is deleted when the tab goes');
  log('closing the tab deleted its session');

  assert.deepEqual(foreignRequests, [], 'no request left 127.0.0.1');
  assert.deepEqual(consoleErrors, [], 'no console errors');
  log('ok');
} catch (error) {
  failed = true;
  console.error(`FAILED: ${error.stack || error}`);
  if (consoleErrors.length) console.error(`console errors:\n  ${consoleErrors.join('\n  ')}`);
  if (foreignRequests.length) console.error(`requests that left 127.0.0.1:\n  ${foreignRequests.join('\n  ')}`);
  const page = context.pages()[0];
  if (page) await page.screenshot({ path: screenshotPath }).catch(() => {});
} finally {
  await context.close();
  fs.rmSync(userDataDir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);

/** Reads the δ lens and checks it against the trace API's reply for the same state and query. */
async function checkLens(page, sessionId, layerNumber, j) {
  const lens = await page.evaluate(() => {
    const value = (element) => Number(element.dataset.value);
    const rows = [...document.querySelectorAll('#lens-table tbody tr[data-k]')];
    const bias = document.querySelector('#lens-table tbody tr.bias');
    return {
      ...document.querySelector('#lens').dataset,
      z: value(document.querySelector('#lens-z')),
      a: value(document.querySelector('#lens-a')),
      delta: value(document.querySelector('#lens-delta')),
      deltaText: document.querySelector('#lens-delta').textContent,
      activations: rows.map((row) => value(row.querySelector('.activation'))),
      weights: rows.map((row) => value(row.querySelector('.weight'))),
      gradients: rows.map((row) => value(row.querySelector('.gradient'))),
      gradientTexts: rows.map((row) => row.querySelector('.gradient').textContent),
      updates: rows.map((row) => value(row.querySelector('.update'))),
      biasGradient: value(bias.querySelector('.gradient')),
      biasUpdate: value(bias.querySelector('.update')),
    };
  });
  assert.equal(lens.layer, String(layerNumber));
  assert.equal(lens.neuron, String(j));
  const session = await getJson(`/api/sessions/${sessionId}`);
  assert.equal(session.running, false);
  assert.equal(String(session.step), lens.step, 'the lens shows the current state');
  const trace = await getJson(`/api/sessions/${sessionId}/trace?${lens.query}`);
  const after = await getJson(`/api/sessions/${sessionId}`);
  assert.equal(after.step, session.step, 'the trace left the session as it was');
  const layer = trace.layers.find((entry) => entry.layer === layerNumber);
  assert.equal(lens.z, layer.z[j], 'z');
  assert.equal(lens.a, layer.a[j], 'a');
  assert.equal(lens.delta, layer.delta[j], 'δ');
  assertShown(lens.deltaText, layer.delta[j], 'δ as shown');
  assert.deepEqual(lens.gradients, layer.weight_gradients[j], 'incoming weight gradients');
  lens.gradientTexts.forEach((text, k) => assertShown(text, layer.weight_gradients[j][k], `∂C/∂w[${k}] as shown`));
  assert.deepEqual(lens.updates, layer.weight_updates[j], 'incoming weight updates');
  assert.equal(lens.biasGradient, layer.bias_gradients[j], 'bias gradient');
  assert.equal(lens.biasUpdate, layer.bias_updates[j], 'bias update');
  assert.deepEqual(lens.weights, session.layers[layerNumber - 1].weights[j], 'incoming weights');
  const incoming = layerNumber === 1 ? trace.input : trace.layers.find((entry) => entry.layer === layerNumber - 1).a;
  assert.deepEqual(lens.activations, incoming, 'incoming activations a^(l-1)');
  assert.ok(lens.gradients.some((gradient) => gradient !== 0), 'the gradients are not all zero');
  log(`δ lens (${lens.query}, step ${lens.step}) equals the trace: z ${lens.z}, δ ${lens.delta}`);
  return trace;
}

/** Spiral with more features and layers, trained for a while, lens open: the docs' picture. */
async function showcase(page, outputPath) {
  // Each change makes a new session; wait until it is drawn before the next click.
  const change = async (action) => {
    const old = await page.getAttribute('body', 'data-session');
    await action();
    await page.waitForFunction(
      (previous) => document.body.dataset.session !== previous && document.body.dataset.drawn === document.body.dataset.session,
      old,
    );
  };
  await change(() => page.selectOption('#activation', 'tanh'));
  await change(() => page.click('#datasets button[data-dataset="spiral"]'));
  for (const feature of ['x1_squared', 'x2_squared', 'sin_x1', 'sin_x2']) {
    await change(() => page.click(`.neuron.feature[data-feature="${feature}"]`));
  }
  await change(() => page.click('#add-layer'));
  for (let layer = 1; layer <= 3; layer += 1) {
    while ((await page.locator(`.neuron.hidden[data-layer="${layer}"]`).count()) < 6) {
      await change(() => page.click(`.layer-head[data-layer="${layer}"] button.plus`));
    }
  }
  await page.click('#play');
  await page.waitForFunction(() => Number(document.querySelector('#epoch').dataset.value) >= 300, null, { timeout: 120_000 });
  await page.click('#play');
  await page.waitForSelector('body[data-running="false"]');
  await page.click('.neuron.hidden[data-layer="2"][data-neuron="2"]');
  await page.waitForSelector('#lens[data-status="ready"]');
  await page.click('#step-backward');
  // Mid-animation, at the first hidden layer below the output: δ on two layers, the banner up.
  await page.waitForFunction(() => document.querySelector('#network').dataset.backwardLayer === '3');
  await page.waitForTimeout(300);
  await page.screenshot({ path: outputPath });
  await page.waitForSelector('#lens[data-backward="done"]', { timeout: 30_000 });
  log(`showcase screenshot: ${outputPath} (spiral, epoch ${await page.getAttribute('#epoch', 'data-value')})`);
}
