// The playground page in a real browser (Debian's headless chromium, driven by playwright-core):
// it loads with no request leaving 127.0.0.1 and no console error, trains the circle set below a
// test loss of 0.1, shows in its δ lens exactly the numbers the trace API gives for the same
// session state (σ′(z) of BP2 included), and animates "Step backward" output-first with the
// BP1/BP2 labels, on its timer and by hand ("Next layer"), lighting the links δ came back along
// and never the inputs, with no δ label over a link. Weights, biases and inputs typed in change
// the network and the lens follows; a dead ReLU neuron is explained on hover; the company preset
// names salespeople, managers and the CEO; at 1024 px wide nothing overflows sideways.
//
// Usage: node playground.test.mjs URL [SCREENSHOT]
//   URL         the page, as `backprop serve` prints it (http://127.0.0.1:PORT/)
//   SCREENSHOT  where to write the screenshot (or PLAYGROUND_SCREENSHOT; default target/playground.png)
// PLAYGROUND_SHOWCASE=PATH also trains spiral with more features and layers and writes a second
// screenshot there (how docs/img/playground.png is made).
// PLAYGROUND_DOCS=DIR also writes the pictures of docs/playground.md's newer views into DIR.
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
const docsDir = process.env.PLAYGROUND_DOCS;
async function docsShot(page, name) {
  if (!docsDir) return;
  fs.mkdirSync(docsDir, { recursive: true });
  // A passing message (not an error) fades after 4 s: the picture waits for it.
  await page.waitForFunction(() => !document.querySelector('#status').textContent
    || document.querySelector('#status').classList.contains('error'), null, { timeout: 6000 });
  await page.screenshot({ path: path.join(docsDir, name) });
  log(`docs screenshot: ${path.join(docsDir, name)}`);
}
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
  // PLAYGROUND_ASSETS=DIR serves the page's three files from DIR instead of the binary's copies,
  // so they can be edited without a rebuild (the test proper always uses the binary's).
  const assets = process.env.PLAYGROUND_ASSETS;
  if (assets) {
    const files = { '/': ['index.html', 'text/html'], '/app.js': ['app.js', 'text/javascript'], '/style.css': ['style.css', 'text/css'] };
    await page.route((url) => url.origin === new URL(base).origin && url.pathname in files, (route) => {
      const [file, contentType] = files[new URL(route.request().url()).pathname];
      route.fulfill({ body: fs.readFileSync(path.join(assets, file)), contentType });
    });
  }
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
  const firstState = await getJson(`/api/sessions/${sessionId}`);
  assert.equal(firstState.epoch, 0);
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
  // People count from 1: example 8 in the box is the API's row 7.
  await page.fill('#lens-example', '8');
  await page.press('#lens-example', 'Enter');
  await page.waitForSelector('#lens[data-status="ready"][data-query="example=7"]');
  assert.deepEqual((await checkLens(page, sessionId, 1, 1)).examples, [7], 'example 8 is row 7');
  assert.ok((await page.textContent('#lens-title')).includes('training example 8'));
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
  assert.equal(await page.inputValue('#lens-example'), '13', 'shown as example 13');

  // ---- the chain rule on one weight: hover a link, ∂C/∂w = δⱼ · aₖ with the trace's numbers ----
  const spot = await linkPoint(page, 2, 0, 1);
  await page.mouse.move(spot.x, spot.y);
  await page.waitForSelector('#tip:not([hidden])');
  const chain = await page.evaluate(() => ({ ...document.querySelector('#tip').dataset, text: document.querySelector('#tip').textContent }));
  assert.ok(chain.text.includes('Chain rule (BP4), example 13: ∂C/∂w = δⱼ · aₖ = '), chain.text);
  assert.equal(chain.query, 'example=12');
  assert.equal(Number(chain.delta), trace.layers[1].delta[0], 'δ of layer 2, neuron 1');
  assert.equal(Number(chain.activation), trace.layers[0].a[1], 'a of layer 1, neuron 2');
  assert.equal(Number(chain.gradient), trace.layers[1].weight_gradients[0][1], '∂C/∂w');
  assert.ok(Math.abs(Number(chain.delta) * Number(chain.activation) - Number(chain.gradient)) <= 1e-4 * Math.abs(Number(chain.gradient)) + 1e-7,
    `δ·a = ${Number(chain.delta) * Number(chain.activation)} vs ${chain.gradient}`);
  await docsShot(page, 'playground-chain-rule.png');
  await page.mouse.move(5, 5);
  log(`chain rule on w²₁₂: ${chain.text.split('\n')[1]}`);

  // ---- σ′(z) on the BP2 line: the derivative backprop used, its formula, and δ = (wᵀδ) σ′ ----
  const slope = await page.evaluate(() => ({
    value: Number(document.querySelector('#lens-derivative').dataset.value),
    text: document.querySelector('#lens-derivative').textContent,
    back: Number(document.querySelector('#lens-equation .back').dataset.value),
    product: document.querySelector('#lens-equation .product').textContent,
  }));
  const hidden1 = trace.layers[0];
  assert.equal(slope.value, hidden1.derivative[1], 'σ′ shown is the trace\'s');
  assert.ok(Math.abs(slope.value - (1 - hidden1.a[1] ** 2)) < 1e-6, `tanh′ = 1 − a²: ${slope.value}`);
  assert.ok(slope.text.startsWith('σ′(zⱼ) = 1 − tanh²(z) = 1 − a² = 1 − ('), slope.text);
  assert.ok(Math.abs(slope.back * slope.value - hidden1.delta[1]) <= 1e-4 * Math.abs(hidden1.delta[1]) + 1e-7,
    `δ = ${slope.back} × ${slope.value} vs ${hidden1.delta[1]}`);
  assert.ok(slope.product.startsWith('δⱼ = '), slope.product);
  log(`BP2 line: ${slope.text}`);

  // ---- "Step backward" visits the layers output-first, with BP1 then BP2 ----
  await watchBackward(page);
  await page.click('#step-backward');
  await page.waitForSelector('#lens[data-backward="done"]', { timeout: 30_000 });
  const backward = await readBackward(page);
  const depth = trace.layers.length;
  const expectedOrder = Array.from({ length: depth }, (_, i) => String(depth - i));
  assert.deepEqual(backward.visits.map((visit) => visit.layer), expectedOrder, 'layers highlighted output first');
  assertBackwardFlows(backward.visits, depth);
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
  await assertLabelsClearOfLinks(page, 4 + 2 + 1);
  log(`step backward visited layers ${expectedOrder.join(' → ')} (${backward.steps.map((s) => s.equation).join(', ')}); links lit ${backward.visits.map((v) => `[${v.flows}]`).join(' ')}`);

  // ---- "Next layer" walks the same pass by hand: no timer moves it on ----
  await watchBackward(page);
  for (let i = 0; i < depth; i += 1) {
    await page.click('#next-layer');
    await page.waitForFunction((layer) => document.querySelector('#lens').dataset.backwardAt === layer, expectedOrder[i]);
    if (i === 0) {
      await page.waitForTimeout(1300); // longer than the timer's 0.9 s
      assert.equal(await page.getAttribute('#lens', 'data-backward-at'), expectedOrder[0], 'by hand, it waits for the click');
      assert.equal(await page.getAttribute('#lens', 'data-backward-mode'), 'manual');
    }
  }
  assert.equal((await page.textContent('#next-layer')).trim(), 'Done ✓');
  await page.click('#next-layer');
  await page.waitForSelector('#lens[data-backward="done"]');
  const manual = await readBackward(page);
  assert.deepEqual(manual.visits.map((visit) => visit.layer), expectedOrder, 'by hand: output first too');
  assertBackwardFlows(manual.visits, depth);
  log('"Next layer" walked the backward pass by hand');

  // ---- a weight and a bias typed in: the server's network changes and the lens follows ----
  let version = await page.getAttribute('#lens', 'data-version');
  await page.click('#lens-table tbody tr[data-k="0"] td.weight');
  await page.waitForSelector('#editor:not([hidden])');
  await page.fill('#editor-input', '0.5');
  await page.press('#editor-input', 'Enter');
  await page.waitForFunction((old) => document.querySelector('#lens').dataset.version !== old
    && document.querySelector('#lens').dataset.status === 'ready', version);
  let edited = await getJson(`/api/sessions/${sessionId}`);
  assert.equal(edited.layers[0].weights[1][0], 0.5, 'w¹ of neuron 1 from x₁ is now 0.5');
  const afterEdit = await checkLens(page, sessionId, 1, 1);
  assert.notEqual(afterEdit.layers[0].z[1], trace.layers[0].z[1], 'z was recomputed');
  // A link clicked on the network: the second layer's weight from neuron 1.0 (h1.1) into 2.0.
  version = await page.getAttribute('#lens', 'data-version');
  await clickLink(page, 2, 0, 0);
  await page.waitForSelector('#editor:not([hidden])');
  assert.ok((await page.textContent('#editor-label')).startsWith('w from h1.1 to layer 2, neuron 1'));
  await page.fill('#editor-input', '-0.25');
  await docsShot(page, 'playground-edit.png');
  await page.press('#editor-input', 'Enter');
  await page.waitForFunction((old) => document.querySelector('#lens').dataset.version !== old
    && document.querySelector('#lens').dataset.status === 'ready', version);
  edited = await getJson(`/api/sessions/${sessionId}`);
  assert.equal(edited.layers[1].weights[0][0], -0.25, 'the clicked link\'s weight');
  await checkLens(page, sessionId, 1, 1);
  log('weights typed into the lens table and onto a link changed the network; the lens equals the trace');

  // ---- inputs typed in: the lens traces that point ----
  await page.check('input[name="lens-source"][value="point"]');
  await page.fill('#point-x1', '1.5');
  await page.fill('#point-x2', '-2');
  await page.fill('#point-y', '0');
  await page.press('#point-y', 'Enter');
  await page.waitForSelector('#lens[data-status="ready"][data-query="point=1.5,-2&target=0"]');
  const typed = await checkLens(page, sessionId, 1, 1);
  assert.deepEqual(typed.point, [1.5, -2, 0]);
  assert.deepEqual(typed.input, [1.5, -2], 'the inputs are the point typed in');
  log('inputs typed in are traced');
  await page.check('input[name="lens-source"][value="batch"]');
  await page.waitForSelector('#lens[data-status="ready"][data-query="batch=next"]');

  const applyTitle = await page.getAttribute('#lens-apply', 'title');
  assert.ok(applyTitle.startsWith('Take the batch step: one gradient step on one mini-batch'), applyTitle);

  // ---- a learning-rate change keeps the session, its epoch and its weights (PATCH) ----
  const beforeRate = await getJson(`/api/sessions/${sessionId}`);
  let lensVersion = await page.getAttribute('#lens', 'data-version');
  await page.selectOption('#learning-rate', '0.1');
  await page.waitForSelector('body[data-patches="1"]');
  await page.waitForFunction((old) => document.querySelector('#lens').dataset.version !== old
    && document.querySelector('#lens').dataset.status === 'ready', lensVersion);
  assert.equal(await page.getAttribute('body', 'data-session'), sessionId, 'the same session');
  const afterRate = await getJson(`/api/sessions/${sessionId}`);
  assert.equal(afterRate.epoch, beforeRate.epoch, 'the epoch counter stays');
  assert.deepEqual(afterRate.layers, beforeRate.layers, 'the weights stay');
  assertRate(await checkLens(page, sessionId, 1, 1), 0.1);
  log(`learning rate 0.03 → 0.1 in place at epoch ${afterRate.epoch}`);

  // ---- replay: the first weights again, bit for bit, with the new rate kept ----
  lensVersion = await page.getAttribute('#lens', 'data-version');
  await page.click('#replay');
  await page.waitForFunction(() => document.querySelector('#epoch').dataset.step === '0');
  const replayed = await getJson(`/api/sessions/${sessionId}`);
  assert.deepEqual(replayed.layers, firstState.layers, 'replay restores the first weights');
  await page.waitForFunction((old) => document.querySelector('#lens').dataset.version !== old
    && document.querySelector('#lens').dataset.status === 'ready', lensVersion);
  assertRate(await checkLens(page, sessionId, 1, 1), 0.1);
  log('replay restored the first weights with learning rate 0.1 kept');

  // ---- the gradient check of the selected neuron: backprop against finite differences ----
  await page.click('#grad-check');
  await page.waitForSelector('#gradcheck:not([hidden])');
  const checked = await page.evaluate(() => [...document.querySelectorAll('#gradcheck-table tbody tr')].map((row) => ({
    name: row.cells[0].textContent,
    backprop: Number(row.querySelector('.backprop').dataset.value),
    error: row.querySelector('.error').dataset.value,
  })));
  const apiCheck = await getJson(`/api/sessions/${sessionId}/gradcheck?layer=1&neuron=1`);
  assert.deepEqual(checked.map((row) => row.name), ['w from X₁', 'w from X₂', 'bias']);
  checked.forEach((row, i) => {
    assert.equal(row.backprop, apiCheck.rows[i].backprop, `${row.name}: the server's numbers`);
    assert.ok(row.error !== '' && Number(row.error) < 1e-4, `${row.name}: relative error ${row.error}`);
  });
  await docsShot(page, 'playground-gradcheck.png');
  log(`gradient check of layer 1, neuron 2: largest relative error ${apiCheck.max_relative_error.toExponential(2)}`);

  // ---- the address holds the settings: a fresh tab rebuilds the same network at epoch 0 ----
  assert.ok(page.url().includes('learning_rate=0.1'), page.url());
  const other = await context.newPage();
  await other.goto(page.url());
  await other.waitForSelector('body[data-ready="true"][data-session]');
  const otherId = await other.getAttribute('body', 'data-session');
  assert.notEqual(otherId, sessionId);
  const rebuilt = await getJson(`/api/sessions/${otherId}`);
  assert.equal(rebuilt.epoch, 0);
  assert.deepEqual(rebuilt.layers, firstState.layers, 'the same first weights');
  assert.deepEqual(await getJson(`/api/sessions/${otherId}/data`), await getJson(`/api/sessions/${sessionId}/data`), 'the same data');
  assert.equal(await other.inputValue('#learning-rate'), '0.1');
  await other.close({ runBeforeUnload: true });
  assert.equal(await statusWhenGone(otherId), 404);
  log('the page address rebuilt the same network in a fresh tab');

  // ---- two optimisers side by side: same data, same first weights, both test curves ----
  await page.selectOption('#compare', 'adam');
  await page.waitForSelector('body[data-compare]');
  const compareId = await page.getAttribute('body', 'data-compare');
  const [mainStart, compareStart] = [await getJson(`/api/sessions/${sessionId}`), await getJson(`/api/sessions/${compareId}`)];
  assert.equal(mainStart.epoch, 0, 'the main session starts again');
  assert.equal(compareStart.epoch, 0);
  assert.deepEqual(compareStart.layers, firstState.layers, 'the same first weights');
  assert.deepEqual(mainStart.layers, firstState.layers);
  assert.deepEqual(await getJson(`/api/sessions/${compareId}/data`), await getJson(`/api/sessions/${sessionId}/data`), 'the same data');
  await page.click('#play');
  const bothAt = async (test) => {
    for (let tries = 0; tries < 200; tries += 1) {
      const pair = [await getJson(`/api/sessions/${sessionId}`), await getJson(`/api/sessions/${compareId}`)];
      if (pair.every(test)) return pair;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error('the two sessions did not get there in 20 s');
  };
  await bothAt((session) => session.running && session.epoch >= 15);
  await page.click('#play');
  const [mainEnd, compareEnd] = await bothAt((session) => !session.running);
  await page.waitForFunction((value) => document.querySelector('#compare-loss').dataset.value === String(value), compareEnd.test_loss);
  assert.notDeepEqual(compareEnd.layers, mainEnd.layers, 'Adam and SGD went different ways');
  await docsShot(page, 'playground-compare.png');
  await page.selectOption('#compare', '');
  assert.equal(await statusWhenGone(compareId), 404, 'ending the comparison deletes its session');

  // ---- the loss landscape: the plane of the weights' path, with the path drawn on it ----
  await page.check('#show-landscape');
  await page.waitForSelector('#landscape[data-status="ready"]');
  const land = await page.evaluate(() => {
    const canvas = document.querySelector('#landscape');
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    const colours = new Set();
    let pathPixels = 0;
    for (let i = 0; i < data.length; i += 4) {
      colours.add(`${data[i]},${data[i + 1]},${data[i + 2]}`);
      if (data[i] === 0xb9 && data[i + 1] === 0x8c && data[i + 2] === 0xf0) pathPixels += 1;
    }
    return { ...canvas.dataset, colours: colours.size, pathPixels, visible: !canvas.hidden };
  });
  const epochNow = (await getJson(`/api/sessions/${sessionId}`)).epoch;
  assert.equal(land.directions, 'pca');
  assert.equal(Number(land.path), epochNow + 1, 'a point for every epoch so far');
  assert.ok(land.visible && land.colours >= 6, `contour bands drawn: ${land.colours} colours`);
  assert.ok(land.pathPixels > 50, `the path is drawn: ${land.pathPixels} pixels`);
  await docsShot(page, 'playground-landscape.png');
  await page.uncheck('#show-landscape');
  log(`loss landscape: ${land.colours} colours, a path of ${land.path} points`);
  log(`SGD (test loss ${mainEnd.test_loss.toFixed(3)} at epoch ${mainEnd.epoch}) beside Adam (${compareEnd.test_loss.toFixed(3)} at epoch ${compareEnd.epoch}) from the same first weights`);

  fs.mkdirSync(path.dirname(path.resolve(screenshotPath)), { recursive: true });
  await page.screenshot({ path: screenshotPath });
  log(`screenshot: ${screenshotPath}`);

  // ---- a configuration change makes a new session and deletes the old one ----
  await page.selectOption('#activation', 'relu');
  await page.waitForFunction((old) => document.body.dataset.session !== old && document.body.dataset.drawn === document.body.dataset.session, sessionId);
  assert.ok((await page.textContent('#status')).startsWith('activation changed: a new session'), await page.textContent('#status'));
  assert.equal(await statusWhenGone(sessionId), 404, 'the old session is deleted after a configuration change');
  const fresh = await getJson(`/api/sessions/${await page.getAttribute('body', 'data-session')}`);
  assert.equal(fresh.layers[0].activation, 'relu', 'the new session has the new activation');
  assert.equal(fresh.epoch, 0);
  log('changing the activation made a new session and deleted the old one');

  // ---- a dead ReLU neuron, made by hand (zero weights, bias −1), is marked and explained ----
  const reluSession = await page.getAttribute('body', 'data-session');
  await page.click('.neuron.hidden[data-layer="1"][data-neuron="0"]');
  await page.waitForSelector('#lens[data-status="ready"]');
  for (const [cell, value] of [['tr[data-k="0"] td.weight', '0'], ['tr[data-k="1"] td.weight', '0'], ['tr.bias td.weight', '-1']]) {
    const before = await page.getAttribute('#lens', 'data-version');
    await page.click(`#lens-table tbody ${cell}`);
    await page.waitForSelector('#editor:not([hidden])');
    await page.fill('#editor-input', value);
    await page.press('#editor-input', 'Enter');
    await page.waitForFunction((old) => document.querySelector('#lens').dataset.version !== old
      && document.querySelector('#lens').dataset.status === 'ready', before);
  }
  const reluState = await getJson(`/api/sessions/${reluSession}`);
  assert.deepEqual(reluState.layers[0].weights[0], [0, 0]);
  assert.equal(reluState.layers[0].biases[0], -1);
  assert.ok(reluState.dead[0].includes(0), `the server reports it dead: ${JSON.stringify(reluState.dead)}`);
  await page.waitForSelector('.neuron.hidden[data-layer="1"][data-neuron="0"].dead');
  const marked = await page.evaluate(() => [...document.querySelectorAll('.neuron.dead')]
    .map((element) => `${element.dataset.layer}.${element.dataset.neuron}`).sort());
  const reported = reluState.dead.flatMap((neurons, l) => neurons.map((j) => `${l + 1}.${j}`)).sort();
  assert.deepEqual(marked, reported, 'exactly the neurons the server reports dead are marked');
  assert.equal(Number(await page.getAttribute('#lens-delta', 'data-value')), 0, 'a dead neuron has δ = 0');
  await page.hover('.neuron.hidden[data-layer="1"][data-neuron="0"]');
  await page.waitForSelector('#tip:not([hidden])');
  const deadTip = await page.textContent('#tip');
  assert.ok(deadTip.includes('Dead ReLU: z ≤ 0 for every training example'), deadTip);
  assert.ok(deadTip.includes('σ′(z) = 0') && deadTip.includes('no gradient'), deadTip);
  await docsShot(page, 'playground-dead-relu.png');
  await page.mouse.move(5, 5);
  log('a dead ReLU neuron is marked and explained on hover');

  // ---- the company preset: 2 salespeople, 3 managers, the CEO, on the XOR truth table ----
  await changeSession(page, () => page.click('#company'));
  await page.waitForSelector('body[data-company="true"]');
  const companyId = await page.getAttribute('body', 'data-session');
  const companyState = await getJson(`/api/sessions/${companyId}`);
  assert.deepEqual(companyState.inputs, ['x1', 'x2']);
  assert.deepEqual(companyState.layers.map((layer) => layer.biases.length), [3, 1]);
  assert.equal(companyState.layers[0].activation, 'sigmoid');
  const table = await getJson(`/api/sessions/${companyId}/data`);
  assert.deepEqual(table.train, [[0, 0, 0], [0, 1, 1], [1, 0, 1], [1, 1, 0]], 'the XOR truth table');
  assert.equal(await page.getAttribute('#datasets .selected', 'data-dataset'), 'xor-table');
  const roles = await page.evaluate(() => ({
    inputs: ['x1', 'x2'].map((name) => document.querySelector(`.neuron.feature[data-feature="${name}"] .role-name`).textContent),
    hidden: [...document.querySelectorAll('.neuron.hidden')].map((element) => element.dataset.role),
    output: document.querySelector('.neuron.output').dataset.role,
    heads: [...document.querySelectorAll('.layer-head')].map((head) => head.textContent.replace(/[+−]/g, '').trim()),
    note: !document.querySelector('#company-note').hidden,
  }));
  assert.deepEqual(roles, {
    inputs: ['salesperson 1', 'salesperson 2'],
    hidden: ['manager 1', 'manager 2', 'manager 3'],
    output: 'CEO',
    heads: ['3 managers', 'CEO (output)'],
    note: true,
  });
  await page.click('#play');
  await page.waitForFunction(() => Number(document.querySelector('#test-loss').dataset.value) < 0.1, null,
    { timeout: TRAIN_TIMEOUT_MS, polling: 100 });
  await page.click('#play');
  await page.waitForSelector('body[data-running="false"]');
  log(`the company network learned XOR (loss ${await page.getAttribute('#test-loss', 'data-value')} at epoch ${await page.getAttribute('#epoch', 'data-value')})`);
  await page.click('.neuron.hidden[data-layer="1"][data-neuron="1"]');
  await page.waitForSelector('#lens[data-status="ready"]');
  await page.check('input[name="lens-source"][value="point"]');
  await page.fill('#point-x1', '1');
  await page.fill('#point-x2', '0');
  await page.fill('#point-y', '1');
  await page.press('#point-y', 'Enter');
  await page.waitForSelector('#lens[data-status="ready"][data-query="point=1,0&target=1"]');
  await checkLens(page, companyId, 1, 1);
  assert.ok((await page.textContent('#lens-title')).startsWith('manager 2 (layer 1, neuron 2), sigmoid'));
  assert.ok((await page.textContent('#lens-derivative')).startsWith('σ′(zⱼ) = σ(z)(1 − σ(z)) = a(1 − a) = '));
  await watchBackward(page);
  await page.click('#next-layer');
  await page.waitForFunction(() => document.querySelector('#lens').dataset.backwardAt === '2');
  await page.click('#next-layer');
  await page.waitForFunction(() => document.querySelector('#lens').dataset.backwardAt === '1');
  await assertLabelsClearOfLinks(page, 4);
  await assertNotClipped(page, '#network .network-bar, .network-bar');
  await docsShot(page, 'playground-company.png');
  await page.click('#next-layer');
  await page.waitForSelector('#lens[data-backward="done"]');
  const companyWalk = await readBackward(page);
  assert.ok((await page.textContent('#backward-steps li.no-delta')).startsWith('the inputs (the salespeople): no δ'));
  assert.deepEqual(companyWalk.visits.map((visit) => visit.layer), ['2', '1']);
  assertBackwardFlows(companyWalk.visits, 2);
  log('company mode names the roles; the backward walk goes CEO → managers and stops before the salespeople');

  // ---- 1024 px wide: no sideways scrolling, nothing cut off ----
  await page.setViewportSize({ width: 1024, height: 768 });
  await page.waitForFunction(() => document.querySelector('#network').clientWidth < 600);
  await page.waitForTimeout(200); // the network is rebuilt on the next frame
  const fit = await page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const problems = [];
    if (document.documentElement.scrollWidth > width) problems.push(`page scrolls sideways: ${document.documentElement.scrollWidth} > ${width}`);
    for (const element of document.querySelectorAll('body *')) {
      const box = element.getBoundingClientRect();
      const style = getComputedStyle(element);
      if (box.width === 0 || box.height === 0 || style.visibility === 'hidden') continue;
      if (element.closest('#tip, #editor, .status')) continue;
      const name = `${element.tagName.toLowerCase()}${element.id ? `#${element.id}` : ''}.${element.className && element.className.baseVal === undefined ? element.className : ''}`;
      if (box.left < -0.5 || box.right > width + 0.5) problems.push(`${name} reaches ${box.left.toFixed(0)}..${box.right.toFixed(0)}`);
      const clips = ['hidden', 'auto', 'scroll', 'clip'];
      if (clips.includes(style.overflowX) && element.scrollWidth > element.clientWidth + 1) {
        problems.push(`${name} hides ${element.scrollWidth - element.clientWidth} px of its content`);
      }
    }
    return problems;
  });
  await docsShot(page, 'playground-1024.png');
  assert.deepEqual(fit, [], 'at 1024 px wide');
  await assertNotClipped(page, '.network-bar');
  await assertLabelsClearOfLinks(page, 0);
  await page.setViewportSize({ width: 1280, height: 800 });
  log('at 1024 px wide the page fits');

  // ---- the guided tour: 8 steps through one step of the company network, live numbers ----
  await page.click('#tour-start');
  let tourSession = null;
  for (let step = 1; step <= 8; step += 1) {
    await page.waitForSelector(`#tour[data-step="${step}"][data-status="ready"]`);
    const shown = await page.evaluate(() => ({
      ...document.querySelector('#tour').dataset,
      text: document.querySelector('#tour-text').textContent,
      title: document.querySelector('#tour-title').textContent,
      highlighted: document.querySelectorAll('.tour-highlight').length,
    }));
    assert.ok(shown.highlighted > 0, `step ${step} highlights its part of the page`);
    assert.ok(shown.text.length > 60, `step ${step}: ${shown.text}`);
    if (step === 1) {
      tourSession = await page.getAttribute('body', 'data-session');
      assert.equal(await page.getAttribute('body', 'data-company'), 'true');
    }
    if (step === 4) {
      const live = await getJson(`/api/sessions/${tourSession}/trace?point=1,0&target=1`);
      assert.equal(Number(shown.delta), live.layers[1].delta[0], 'δ at the CEO is the trace\'s');
      assert.ok(Math.abs(Number(shown.delta) - (Number(shown.a) - 1)) < 1e-6, 'δ = a − y');
      assert.ok(shown.text.includes(`= ${Number(shown.delta).toPrecision(4)}`), shown.text);
    }
    if (step === 5) await docsShot(page, 'playground-tour.png');
    if (step === 7) {
      const after = (await getJson(`/api/sessions/${tourSession}`)).layers[0].weights[1][0];
      assert.equal(Number(shown.after), after, 'the weight the tour shows is the server\'s');
      assert.ok(Math.abs(Number(shown.before) + Number(shown.update) - after) < 1e-6, 'w + Δw');
    }
    log(`tour step ${step}: ${shown.title}`);
    if (step < 8) await page.click('#tour-next');
  }
  await page.waitForSelector('body[data-running="true"]');
  await page.click('#tour-close');
  await page.click('#play');
  await page.waitForSelector('body[data-running="false"]');
  log('the tour reached its last step and started training');

  // ---- three classes, set up from an address: softmax, coloured by the winning class ----
  const spiral3 = '#dataset=spiral&classes=3&features=x1,x2,x1_squared,x2_squared,sin_x1,sin_x2&hidden=8,8&optimizer=adam&learning_rate=0.03&seed=1';
  await page.goto('about:blank'); // a new address only after # would not reload the page
  await page.goto(new URL(spiral3, base).href);
  await page.waitForSelector('body[data-ready="true"][data-session]');
  await page.waitForFunction(() => document.body.dataset.drawn === document.body.dataset.session);
  const classesId = await page.getAttribute('body', 'data-session');
  const classesState = await getJson(`/api/sessions/${classesId}`);
  assert.equal(classesState.classes, 3);
  assert.deepEqual(classesState.layers.map((layer) => layer.biases.length), [8, 8, 3]);
  assert.equal(classesState.layers[2].activation, 'softmax');
  assert.deepEqual(classesState.inputs, ['x1', 'x2', 'x1_squared', 'x2_squared', 'sin_x1', 'sin_x2']);
  assert.equal(await page.inputValue('#classes'), '3');
  assert.equal(await page.inputValue('#optimizer'), 'adam');
  await page.click('#play');
  await page.waitForFunction(() => Number(document.querySelector('#test-loss').dataset.value) < 0.2, null,
    { timeout: TRAIN_TIMEOUT_MS, polling: 100 });
  await page.click('#play');
  await page.waitForSelector('body[data-running="false"]');
  log(`3-class spiral: test loss below 0.2 by epoch ${await page.getAttribute('#epoch', 'data-value')} (${await page.getAttribute('#test-loss', 'data-value')} at the pause)`);
  // The map is painted in the three class colours, each where the server says that class wins.
  const painted = await page.evaluate(() => {
    const canvas = document.querySelector('#output-map');
    const { data } = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height);
    const hues = [[245, 147, 34], [8, 119, 189], [46, 160, 67]];
    const counts = [0, 0, 0];
    for (let i = 0; i < data.length; i += 4) {
      hues.forEach((hue, k) => {
        // A pixel on the segment from the neutral grey to class k's colour, past its middle.
        const t = (data[i + 1] - 234) / (hue[1] - 234);
        const expected = [0, 1, 2].map((c) => [232, 234, 235][c] + ([232, 234, 235][c] - hue[c]) * -t);
        if (t > 0.5 && t <= 1.02 && expected.every((value, c) => Math.abs(value - data[i + c]) < 12)) counts[k] += 1;
      });
    }
    return counts;
  });
  assert.ok(painted.every((count) => count > 2000), `pixels per class colour: ${painted}`);
  await page.click('.neuron.output[data-layer="3"][data-neuron="1"]');
  await page.waitForSelector('#lens[data-status="ready"]');
  await page.check('input[name="lens-source"][value="example"]');
  await page.fill('#lens-example', '4');
  await page.press('#lens-example', 'Enter');
  await page.waitForSelector('#lens[data-status="ready"][data-query="example=3"]');
  const perUnit = await checkLens(page, classesId, 3, 1);
  const softmaxLine = await page.textContent('#lens-equation');
  assert.ok(softmaxLine.includes('softmax + cross-entropy, fused: δⱼ = aⱼ − yⱼ'), softmaxLine);
  const label = (await getJson(`/api/sessions/${classesId}/data`)).train[3][2];
  const out = perUnit.layers[2];
  assert.ok(Math.abs(out.delta[1] - (out.a[1] - (label === 1 ? 1 : 0))) < 1e-6, 'δ = a − y for output unit 2');
  await docsShot(page, 'playground-classes.png');
  log('3 classes: class-coloured map, the lens on output unit 2 equals the trace');

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

/** With plain SGD and no penalty, Δw = −η ∂C/∂w for every weight the lens shows. */
function assertRate(trace, rate) {
  // Δw is a difference of f32 weights: only gradients big enough for it to carry 3 digits count.
  let checked = 0;
  for (const layer of trace.layers) {
    layer.weight_gradients.forEach((row, j) => row.forEach((gradient, k) => {
      if (Math.abs(gradient) < 1e-2) return;
      const shown = -layer.weight_updates[j][k] / gradient;
      assert.ok(Math.abs(shown - rate) < 3e-3 * rate, `η ${shown}, expected ${rate}`);
      checked += 1;
    }));
  }
  assert.ok(checked > 0, 'some gradient was large enough to check the rate');
}

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

/** Each change makes a new session; waits until it is drawn. */
async function changeSession(page, action) {
  const old = await page.getAttribute('body', 'data-session');
  await action();
  await page.waitForFunction(
    (previous) => document.body.dataset.session !== previous && document.body.dataset.drawn === document.body.dataset.session,
    old,
  );
}

/** Records each layer "Step backward" visits: which links are lit, and whether an input is. */
async function watchBackward(page) {
  await page.evaluate(() => {
    if (window.backwardObserver) window.backwardObserver.disconnect();
    window.backwardVisits = [];
    const network = document.querySelector('#network');
    window.backwardObserver = new MutationObserver(() => {
      const layer = network.dataset.backwardLayer;
      const visits = window.backwardVisits;
      if (!layer || (visits.length && visits[visits.length - 1].layer === layer)) return;
      const lit = [...document.querySelectorAll('#links path.flow')].map((path) => path.dataset.layer);
      visits.push({
        layer,
        flows: [...new Set(lit)].sort(),
        inputsLit: document.querySelectorAll('.neuron.feature.active, .neuron.feature.visited').length,
      });
    });
    window.backwardObserver.observe(network, { attributes: true, attributeFilter: ['data-backward-layer'] });
  });
}

async function readBackward(page) {
  return page.evaluate(() => ({
    visits: window.backwardVisits,
    steps: [...document.querySelectorAll('#backward-steps li[data-layer]')].map((item) => ({
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
}

/** At the output no link is lit (δ comes from the cost); at layer l < L, only wˡ⁺¹'s; never the inputs'. */
function assertBackwardFlows(visits, depth) {
  for (const visit of visits) {
    const expected = visit.layer === String(depth) ? [] : [String(Number(visit.layer) + 1)];
    assert.deepEqual(visit.flows, expected, `links lit at layer ${visit.layer}`);
    assert.ok(!visit.flows.includes('1'), 'no δ flows into the inputs');
    assert.equal(visit.inputsLit, 0, `no input lit at layer ${visit.layer}`);
  }
}

/** No δ label on the network touches a drawn link (its stroke width included). */
async function assertLabelsClearOfLinks(page, atLeast) {
  const result = await page.evaluate(() => {
    const origin = document.querySelector('#links').getBoundingClientRect();
    const labels = [...document.querySelectorAll('.delta-label')]
      .filter((label) => label.textContent)
      .map((label) => ({ box: label.getBoundingClientRect(), text: label.textContent }));
    const overlaps = [];
    for (const link of document.querySelectorAll('#links path.link')) {
      const half = Number(link.getAttribute('stroke-width')) / 2;
      const total = link.getTotalLength();
      for (let along = 0; along <= total; along += 1) {
        const point = link.getPointAtLength(along);
        const x = origin.left + point.x;
        const y = origin.top + point.y;
        const hit = labels.find(({ box }) => x >= box.left - half && x <= box.right + half && y >= box.top - half && y <= box.bottom + half);
        if (hit) {
          overlaps.push(`label "${hit.text}" and a link of layer ${link.dataset.layer} at (${x.toFixed(0)}, ${y.toFixed(0)})`);
          break;
        }
      }
    }
    return { count: labels.length, overlaps };
  });
  assert.ok(result.count >= atLeast, `${result.count} δ labels shown, expected at least ${atLeast}`);
  assert.deepEqual(result.overlaps, [], 'δ labels clear of links');
}

/** Elements that hide what overflows them show all of it (the banner above the network, …). */
async function assertNotClipped(page, selector) {
  const clipped = await page.evaluate((query) => [...document.querySelectorAll(query)]
    .filter((element) => element.scrollHeight > element.clientHeight + 1 || element.scrollWidth > element.clientWidth + 1)
    .map((element) => `${element.className}: ${element.scrollWidth}×${element.scrollHeight} in ${element.clientWidth}×${element.clientHeight}`), selector);
  assert.deepEqual(clipped, [], `nothing cut off in ${selector}`);
}

/** Clicks the link of weight w[layer][neuron][input] where no other link covers it. */
async function clickLink(page, layer, neuron, input) {
  const point = await linkPoint(page, layer, neuron, input);
  await page.mouse.click(point.x, point.y);
}

/** A point of the link of weight w[layer][neuron][input] where no other link covers it. */
async function linkPoint(page, layer, neuron, input) {
  const point = await page.evaluate(([l, j, k]) => {
    const hit = document.querySelector(`#links path.hit[data-layer="${l}"][data-neuron="${j}"][data-input="${k}"]`);
    const origin = document.querySelector('#links').getBoundingClientRect();
    const total = hit.getTotalLength();
    for (let share = 0.3; share <= 0.9; share += 0.05) {
      const p = hit.getPointAtLength(total * share);
      const x = origin.left + p.x;
      const y = origin.top + p.y;
      if (document.elementFromPoint(x, y) === hit) return { x, y };
    }
    return null;
  }, [layer, neuron, input]);
  assert.ok(point, `a free spot on the link ${layer}.${neuron}.${input}`);
  return point;
}

/** Spiral with more features and layers, trained for a while, lens open: the docs' picture. */
async function showcase(page, outputPath) {
  const change = (action) => changeSession(page, action);
  // From the defaults (tanh, SGD at 0.03, 4-2), whatever the test left set.
  await page.goto(base);
  await page.waitForSelector('body[data-ready="true"][data-session]');
  await page.waitForFunction(() => document.body.dataset.drawn === document.body.dataset.session);
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
