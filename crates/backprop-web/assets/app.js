// The backprop playground page: it drives one training session on the server (the real Rust
// engine) through the JSON API in crates/backprop-web/API.md, draws what the server streams,
// and opens the backward pass up through the δ lens. Plain JavaScript, no build step, nothing
// fetched from anywhere but this server.
'use strict';

// ---------------------------------------------------------------------------------------------
// api: one function per route of API.md; an error reply becomes an ApiError with its message.
// ---------------------------------------------------------------------------------------------

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

const api = {
  async request(method, path, body) {
    const options = { method, headers: {} };
    if (body !== undefined) {
      options.headers['Content-Type'] = 'application/json';
      options.body = JSON.stringify(body);
    }
    const response = await fetch(path, options);
    if (response.status === 204) return null;
    const text = await response.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch (_) {
      json = null; // not JSON: the raw text becomes the message below
    }
    if (!response.ok) {
      throw new ApiError(response.status, (json && json.error) || text || response.statusText);
    }
    return json;
  },
  limits: () => api.request('GET', '/api/limits'),
  create: (config) => api.request('POST', '/api/sessions', config),
  data: (id) => api.request('GET', `/api/sessions/${id}/data`),
  play: (id) => api.request('POST', `/api/sessions/${id}/play`),
  pause: (id) => api.request('POST', `/api/sessions/${id}/pause`),
  step: (id, body) => api.request('POST', `/api/sessions/${id}/step`, body),
  reset: (id, seed) => api.request('POST', `/api/sessions/${id}/reset`, { seed }),
  trace: (id, query) => api.request('GET', `/api/sessions/${id}/trace?${query}`),
  parameter: (id, body) => api.request('POST', `/api/sessions/${id}/parameter`, body),
  landscape: (id, resolution) => api.request('GET', `/api/sessions/${id}/landscape?resolution=${resolution}`),
  gradcheck: (id, layer, neuron) => api.request('GET', `/api/sessions/${id}/gradcheck?layer=${layer}&neuron=${neuron}`),
  remove: (id) => api.request('DELETE', `/api/sessions/${id}`),
  patch: (id, fields) => api.request('PATCH', `/api/sessions/${id}`, fields),
  eventsUrl: (id) => `/api/sessions/${id}/events`,
};

// ---------------------------------------------------------------------------------------------
// state: the configuration the controls describe, the session it runs in, and what was drawn.
// ---------------------------------------------------------------------------------------------

const FEATURES = [
  { name: 'x1', label: 'X\u2081', value: (x1) => x1 },
  { name: 'x2', label: 'X\u2082', value: (x1, x2) => x2 },
  { name: 'x1_squared', label: 'X\u2081\u00b2', value: (x1) => x1 * x1 },
  { name: 'x2_squared', label: 'X\u2082\u00b2', value: (x1, x2) => x2 * x2 },
  { name: 'x1_x2', label: 'X\u2081X\u2082', value: (x1, x2) => x1 * x2 },
  { name: 'sin_x1', label: 'sin(X\u2081)', value: (x1) => Math.sin(x1) },
  { name: 'sin_x2', label: 'sin(X\u2082)', value: (x1, x2) => Math.sin(x2) },
];
const FEATURE_BY_NAME = Object.fromEntries(FEATURES.map((feature) => [feature.name, feature]));

// The company network of the README and `backprop train --data xor-table`: 2 salespeople, 3
// managers and a CEO, sigmoid neurons, learning XOR's truth table a whole table per step.
const COMPANY = {
  dataset: 'xor-table',
  csv: null,
  features: ['x1', 'x2'],
  hidden: [3],
  activation: 'sigmoid',
  optimizer: 'momentum',
  learning_rate: 1,
  batch_size: 4,
  regularization: 'none',
  regularization_rate: 0,
  classes: 2,
};

const state = {
  config: {
    dataset: 'circle',
    csv: null,
    noise: 0,
    train_share: 0.5,
    batch_size: 10,
    features: ['x1', 'x2'],
    hidden: [4, 2],
    activation: 'tanh',
    learning_rate: 0.03,
    optimizer: 'sgd',
    regularization: 'none',
    regularization_rate: 0,
    seed: 1,
    classes: 2,
  },
  limits: { max_layers: 8, max_neurons: 16, max_upload_bytes: 1 << 20 },
  activeConfig: null, // the configuration the session was made with
  session: null, // the id of this tab's session
  requests: 0, // session creations asked for; only the latest one's reply is kept
  generation: 0, // bumped on every new session, so late replies for an old one are dropped
  source: null, // the EventSource of the session's state stream
  latest: null, // the latest State
  data: null, // {task, train, test} of the session
  drawScheduled: false,
  architecture: '', // the network's shape as drawn; a new one rebuilds the view
  view: null, // the network view's elements (see buildNetwork)
  selected: null, // {layer, neuron} under the δ lens
  advance: null, // during "Step backward": moves on to the next layer now
  traceRequests: 0, // lens traces asked for
  patches: 0, // settings changes asked for
  compare: null, // {id, optimizer, latest, source}: the session trained alongside, if any
  trace: null, // {trace, query, step} shown by the lens
  animating: false, // "Step backward" is running
};

const $ = (id) => document.getElementById(id);

let statusTimer = null;

/** A message under the top bar; one that is not an error goes away after a few seconds. */
function setStatus(message, isError) {
  const status = $('status');
  status.textContent = message || '';
  status.classList.toggle('error', Boolean(isError));
  clearTimeout(statusTimer);
  if (message && !isError && !message.endsWith('\u2026')) {
    statusTimer = setTimeout(() => {
      if (status.textContent === message) status.textContent = '';
    }, 4000);
  }
}

function showError(error) {
  setStatus(error instanceof ApiError ? error.message : `error: ${error.message}`, true);
}

/** Numbers as the page shows them: 4 significant digits, exponent form when tiny or huge. */
function fmt(value) {
  if (value === null) return '\u2013'; // the server sends a non-finite number as null
  if (typeof value !== 'number' || !Number.isFinite(value)) return String(value);
  if (value === 0) return '0';
  const magnitude = Math.abs(value);
  if (magnitude < 1e-3 || magnitude >= 1e5) return value.toExponential(3);
  return value.toPrecision(4);
}

/** 4 significant digits without trailing zeros, for labels (0.5, not 0.5000). */
function short(value) {
  return value === null ? '\u2013' : String(Number(value.toPrecision(4)));
}

/** Writes a number into an element: rounded for the eye, unrounded in data-value for tests. */
function showNumber(element, value) {
  element.textContent = fmt(value);
  element.dataset.value = Object.is(value, -0) ? '-0' : String(value);
}

// Opens a new session for the current configuration; once it exists the old one is closed and
// deleted. A configuration the server refuses leaves the old session running, with the error shown.
async function newSession(note) {
  const request = ++state.requests;
  setStatus('starting a session\u2026');
  let reply;
  try {
    reply = await api.create({ ...state.config, epochs_per_update: 1 });
  } catch (error) {
    if (request !== state.requests) return;
    showError(error);
    // The controls go back to what the running session was made with.
    if (state.activeConfig) {
      state.config = structuredClone(state.activeConfig);
      syncControls();
    }
    return;
  }
  if (request !== state.requests) {
    api.remove(reply.id).catch(() => {}); // a later change superseded this one
    return;
  }
  closeSession();
  state.activeConfig = structuredClone(state.config);
  updateUrl();
  const generation = ++state.generation;
  state.session = reply.id;
  document.body.dataset.session = reply.id;
  state.latest = reply.state;
  setStatus(note || '');
  openStream(reply.id, generation);
  scheduleDraw();
  try {
    const data = await api.data(reply.id);
    if (generation !== state.generation) return;
    state.data = data;
    scheduleDraw();
  } catch (error) {
    if (generation === state.generation) showError(error);
  }
}

function closeSession() {
  closeCompare();
  if (state.source) state.source.close();
  if (state.session) api.remove(state.session).catch(() => {});
  state.source = null;
  state.session = null;
  state.latest = null;
  state.data = null;
  delete document.body.dataset.session;
  clearLens();
}

function openStream(id, generation) {
  const source = new EventSource(api.eventsUrl(id));
  source.addEventListener('state', (event) => {
    if (generation !== state.generation) return;
    acceptState(JSON.parse(event.data));
  });
  state.source = source;
}

function acceptState(next) {
  state.latest = next;
  scheduleDraw();
}

/** Draw at most once per animation frame, however fast states arrive. */
function scheduleDraw() {
  if (state.drawScheduled) return;
  state.drawScheduled = true;
  requestAnimationFrame(() => {
    state.drawScheduled = false;
    draw();
  });
}

function draw() {
  const current = state.latest;
  if (!current) return;
  if (shapeOf(current) !== state.architecture || !state.view) buildNetwork(current);
  document.body.dataset.drawn = current.id; // lets a test wait until a new session is on screen
  document.body.dataset.running = String(current.running);
  const play = $('play');
  play.innerHTML = current.running ? '&#x2759;&#x2759;' : '&#x25b6;';
  play.setAttribute('aria-label', current.running ? 'Pause' : 'Play');
  play.classList.toggle('playing', current.running);
  const epoch = $('epoch');
  epoch.textContent = current.epoch.toLocaleString('en-US');
  epoch.dataset.value = String(current.epoch);
  epoch.dataset.step = String(current.step);
  const diverged = current.train_loss === null || current.test_loss === null;
  if (diverged) setStatus('training diverged (non-finite numbers) and paused: lower the learning rate, then reset', true);
  else if ($('status').dataset.diverged) setStatus('');
  $('status').dataset.diverged = diverged ? 'true' : '';
  showNumber($('test-loss'), current.test_loss);
  showNumber($('train-loss'), current.train_loss);
  drawLossChart(current.history, state.compare && state.compare.latest ? state.compare.latest.history : null);
  if (state.compare && state.compare.latest) showNumber($('compare-loss'), state.compare.latest.test_loss);
  drawOutputMap(current);
  drawNeuronMaps(current);
  drawLinks(current);
  drawNeuronTips(current);
  refreshLens(current);
  refreshLandscape(current);
  if ($('show-landscape').checked && landscape.last) drawLandscapeLegend(landscape.last);
}

// ---------------------------------------------------------------------------------------------
// controls: every configuration control rebuilds the session; play, pause, step and reset act on it.
// ---------------------------------------------------------------------------------------------

function setupControls() {
  for (const select of document.querySelectorAll('select[data-config]')) {
    select.addEventListener('change', () => {
      const key = select.dataset.config;
      state.config[key] = 'number' in select.dataset ? Number(select.value) : select.value;
      changeSettings({ [key]: state.config[key] });
    });
  }
  for (const button of document.querySelectorAll('#datasets button')) {
    button.addEventListener('click', () => {
      state.config.dataset = button.dataset.dataset;
      state.config.csv = null;
      // The truth table has four rows: a batch holds at most all of them.
      if (button.dataset.dataset === 'xor-table') state.config.batch_size = Math.min(state.config.batch_size, 4);
      if (!MANY_CLASSES.includes(button.dataset.dataset)) state.config.classes = 2;
      $('csv-name').textContent = '';
      markDataset(button);
      syncControls();
      newSession('dataset: a new data set, so a new session with fresh weights');
    });
  }
  $('company').addEventListener('click', () => {
    Object.assign(state.config, COMPANY);
    state.config.features = [...COMPANY.features];
    state.config.hidden = [...COMPANY.hidden];
    $('csv-name').textContent = '';
    syncControls();
    newSession('the company network: a new session with fresh weights');
  });
  $('csv-file').addEventListener('change', async (event) => {
    const file = event.target.files[0];
    event.target.value = '';
    if (!file) return;
    if (file.size > state.limits.max_upload_bytes) {
      setStatus(`csv: ${file.name} is ${file.size} bytes, over the ${state.limits.max_upload_bytes}-byte upload limit`, true);
      return;
    }
    state.config.dataset = 'csv';
    state.config.csv = await file.text();
    $('csv-name').textContent = file.name;
    markDataset(document.querySelector('#datasets .upload'));
    newSession('csv: a new data set, so a new session with fresh weights');
  });
  slider('train-share', (value) => `${value}%`, 'train_share', (value) => value / 100);
  slider('noise', (value) => String(value), 'noise', (value) => value / 100);
  slider('batch-size', (value) => String(value), 'batch_size', (value) => value);
  $('seed').addEventListener('change', () => {
    const seed = Number($('seed').value);
    if (Number.isInteger(seed) && seed >= 0) state.config.seed = seed;
  });
  $('add-layer').addEventListener('click', () => {
    if (state.config.hidden.length >= state.limits.max_layers) return;
    state.config.hidden.push(2);
    changeSettings({ hidden: state.config.hidden });
  });
  $('remove-layer').addEventListener('click', () => {
    if (state.config.hidden.length === 0) return;
    state.config.hidden.pop();
    changeSettings({ hidden: state.config.hidden });
  });
  $('play').addEventListener('click', () => {
    const running = state.latest && state.latest.running;
    act((id) => (running ? api.pause(id) : api.play(id)));
    compareAct((id) => (running ? api.pause(id) : api.play(id)));
  });
  $('step').addEventListener('click', () => {
    act((id) => api.step(id, { batches: 1 }));
    compareAct((id) => api.step(id, { batches: 1 }));
  });
  $('compare').addEventListener('change', () => startCompare($('compare').value));
  $('lens-apply').addEventListener('click', () => act((id) => api.step(id, { batches: 1 })));
  $('reset').addEventListener('click', () => act((id) => api.reset(id, state.config.seed)));
  // Replay: the session's own first weights again (its seed), with the settings as they are now.
  $('replay').addEventListener('click', () => act((id) => api.reset(id)));
  $('show-test').addEventListener('change', scheduleDraw);
  $('discretize').addEventListener('change', scheduleDraw);
  $('show-landscape').addEventListener('change', () => {
    const on = $('show-landscape').checked;
    $('landscape').hidden = !on;
    $('output-map').hidden = on;
    document.querySelector('.heatmap-wrap').classList.toggle('landscape-on', on);
    landscape.step = -1;
    scheduleDraw();
  });
  setupLensControls();
  setupTips();
  setupEditor();
  setupTour();
  document.addEventListener('keydown', (event) => {
    const typing = ['INPUT', 'SELECT', 'TEXTAREA', 'BUTTON'].includes(event.target.tagName);
    if (event.key === ' ' && !typing && state.latest) {
      event.preventDefault();
      $('play').click();
    }
  });
  window.addEventListener('resize', () => {
    state.view = null;
    scheduleDraw();
  });
  // Each tab owns its session: free it when the tab goes.
  window.addEventListener('pagehide', () => {
    if (state.session) fetch(`/api/sessions/${state.session}`, { method: 'DELETE', keepalive: true });
    if (state.compare) fetch(`/api/sessions/${state.compare.id}`, { method: 'DELETE', keepalive: true });
  });
}

/** Sets every configuration control from state.config (after a refused change). */
function syncControls() {
  const config = state.config;
  for (const select of document.querySelectorAll('select[data-config]')) {
    select.value = String(config[select.dataset.config]);
  }
  const sliders = { 'train-share': config.train_share * 100, noise: config.noise * 100, 'batch-size': config.batch_size };
  for (const [id, value] of Object.entries(sliders)) {
    $(id).value = String(Math.round(value));
    $(id).dispatchEvent(new Event('input')); // updates the number shown beside it
  }
  const chosen = config.dataset === 'csv'
    ? document.querySelector('#datasets .upload')
    : document.querySelector(`#datasets button[data-dataset="${config.dataset}"]`);
  markDataset(chosen);
  $('classes').disabled = !MANY_CLASSES.includes(config.dataset);
}

function markDataset(chosen) {
  for (const element of document.querySelectorAll('#datasets button, #datasets .upload')) {
    element.classList.toggle('selected', element === chosen);
  }
}

function slider(id, label, key, toValue) {
  const input = $(id);
  const output = $(`${id}-value`);
  input.addEventListener('input', () => { output.textContent = label(Number(input.value)); });
  input.addEventListener('change', () => {
    state.config[key] = toValue(Number(input.value));
    changeSettings({ [key]: state.config[key] });
  });
}

// Settings PATCH refuses (409): they change the network or its data.
// The sets that can have more than two classes.
const MANY_CLASSES = ['gaussian', 'spiral'];

const STRUCTURAL = ['dataset', 'csv', 'features', 'hidden', 'activation', 'seed', 'classes'];

/**
 * Changes settings of the running session in place (PATCH: the weights and the epoch stay).
 * The server answers 409 for a change of the network or its data (layers, features,
 * activation): the page then says so and starts a new session with fresh weights.
 */
async function changeSettings(fields) {
  // A comparison holds for the settings it started with: a change ends it.
  if (state.compare) {
    closeCompare();
    $('compare').value = '';
  }
  // What the server would answer 409 for: the page knows it and asks for no refusal.
  const structural = Object.keys(fields).find((key) => STRUCTURAL.includes(key));
  if (!state.session || structural) {
    if (structural) setStatus(`${structural}: that changes the network, so a new session with fresh weights\u2026`);
    newSession(structural ? `${structural} changed: a new session with fresh weights` : undefined);
    return;
  }
  const generation = state.generation;
  const changes = ++state.patches;
  try {
    const reply = await api.patch(state.session, fields);
    if (generation !== state.generation) return;
    state.activeConfig = structuredClone(state.config);
    updateUrl();
    acceptState(reply);
    document.body.dataset.patches = String(changes);
    setStatus(`${Object.keys(fields).join(', ')} changed: same network, same epoch`);
    if ('noise' in fields || 'train_share' in fields) {
      state.data = await api.data(state.session);
      scheduleDraw();
    }
    if (state.selected) loadTrace();
  } catch (error) {
    if (generation !== state.generation) return;
    if (error instanceof ApiError && error.status === 409) {
      const field = error.message.split(':')[0];
      setStatus(`${field}: that changes the network, so a new session with fresh weights\u2026`);
      newSession(`${field} changed: a new session with fresh weights`);
      return;
    }
    showError(error);
    if (state.activeConfig) {
      state.config = structuredClone(state.activeConfig);
      syncControls();
    }
  }
}

// The configuration in the page's address (after #), so a link rebuilds the same network at
// epoch 0 with the same data. A CSV upload is not carried.
const URL_FIELDS = {
  dataset: String, noise: Number, train_share: Number, batch_size: Number, samples: Number,
  features: (text) => text.split(',').filter(Boolean), hidden: (text) => text.split(',').filter(Boolean).map(Number),
  activation: String, learning_rate: Number, optimizer: String, regularization: String,
  regularization_rate: Number, seed: Number, classes: Number,
};

function updateUrl() {
  const config = state.activeConfig;
  if (!config || config.dataset === 'csv') {
    history.replaceState(null, '', location.pathname);
    return;
  }
  const params = new URLSearchParams();
  for (const key of Object.keys(URL_FIELDS)) {
    if (config[key] === undefined) continue;
    params.set(key, Array.isArray(config[key]) ? config[key].join(',') : String(config[key]));
  }
  history.replaceState(null, '', `${location.pathname}#${params.toString()}`);
}

/** Takes the configuration from the address, if there is one; the server checks it. */
function readUrl() {
  const params = new URLSearchParams(location.hash.slice(1));
  for (const [key, parse] of Object.entries(URL_FIELDS)) {
    if (params.has(key)) state.config[key] = parse(params.get(key));
  }
  if (params.has('seed')) $('seed').value = String(state.config.seed);
}

/** Runs one action on the session and takes the State it replies with. */
async function act(action) {
  if (!state.session || state.animating) return;
  const generation = state.generation;
  try {
    const reply = await action(state.session);
    if (generation === state.generation && reply) acceptState(reply);
  } catch (error) {
    showError(error);
  }
}

function toggleFeature(name) {
  const features = state.config.features;
  const at = features.indexOf(name);
  if (at >= 0 && features.length === 1) {
    setStatus('features: at least one input feature is needed', true);
    return;
  }
  if (at >= 0) features.splice(at, 1);
  else state.config.features = FEATURES.map((f) => f.name).filter((n) => n === name || features.includes(n));
  changeSettings({ features: state.config.features });
}

function changeNeurons(layerIndex, delta) {
  const next = state.config.hidden[layerIndex] + delta;
  if (next < 1 || next > state.limits.max_neurons) return;
  state.config.hidden[layerIndex] = next;
  changeSettings({ hidden: state.config.hidden });
}

// ---------------------------------------------------------------------------------------------
// network view: columns of neurons (each a small heat map) over an SVG of weighted links.
// ---------------------------------------------------------------------------------------------

const SVG = 'http://www.w3.org/2000/svg';

/** What the network view is built from: inputs, layer widths, and the plane the maps cover. */
function shapeOf(current) {
  const widths = current.layers.map((layer) => layer.biases.length).join(',');
  return `${current.inputs.join(',')}|${widths}|${current.heatmap.extent}`;
}

/** The company story: a 2-3-1 network is 2 salespeople, 3 managers and a CEO. */
function isCompany(current) {
  const widths = current.layers.map((layer) => layer.biases.length);
  return current.inputs.length === 2 && widths.length === 2 && widths[0] === 3 && widths[1] === 1;
}

/** The role of neuron j (0-based) of layer l (0 = the inputs) in the company, or null. */
function roleName(current, layer, j) {
  if (!isCompany(current)) return null;
  if (layer === 0) return `salesperson ${j + 1}`;
  return layer === 1 ? `manager ${j + 1}` : 'CEO';
}

/** How a person reads neuron j of layer l: counted from 1, with its company role. */
function neuronName(current, layer, j) {
  const isOutput = layer === current.layers.length;
  const width = current.layers[layer - 1].biases.length;
  const plain = isOutput
    ? `output${width > 1 ? ` neuron ${j + 1}` : ''}`
    : `layer ${layer}, neuron ${j + 1}`;
  const role = roleName(current, layer, j);
  return role ? `${role} (${plain})` : plain;
}

// The network view's geometry. Neurons stand LABEL_GAP apart so that a δ label fits under each
// one; links leave and enter horizontally for EDGE pixels, so no link crosses a label there.
const NETWORK_HEIGHT = 340;
const LABEL_GAP = 15;

function buildNetwork(current) {
  state.architecture = shapeOf(current);
  const network = $('network');
  const columnsElement = $('columns');
  const svg = $('links');
  columnsElement.innerHTML = '';
  svg.innerHTML = '';
  const company = isCompany(current);
  document.body.dataset.company = String(company);
  $('company-note').hidden = !company;
  const hiddenCount = current.layers.length - 1;
  $('layer-count').textContent = `${hiddenCount} hidden layer${hiddenCount === 1 ? '' : 's'}`;
  $('add-layer').disabled = state.config.hidden.length >= state.limits.max_layers;
  $('remove-layer').disabled = state.config.hidden.length === 0;

  // Column 0 holds all features (active or not); columns 1..L the layers, L the output.
  const sizes = [FEATURES.length, ...current.layers.map((layer) => layer.biases.length)];
  const top = 46;
  const left = company ? 96 : 64;
  const right = 24;
  const most = Math.max(...sizes);
  const size = Math.max(10, Math.min(34, Math.floor((NETWORK_HEIGHT - top - 8) / most) - LABEL_GAP));
  const pitch = size + LABEL_GAP;
  // A tall layer makes the view taller rather than squeezing the labels out.
  const height = Math.max(NETWORK_HEIGHT, top + most * pitch + 4);
  network.style.flexBasis = `${height}px`;
  const width = network.clientWidth;
  const columnGap = (width - left - right - size) / (sizes.length - 1);
  const edge = Math.min(24, columnGap / 4);
  const columnX = (c) => left + c * columnGap;
  const neuronY = (c, i) => top + i * pitch; // columns hang from the top, as in TF Playground

  const view = { size, edge, columnX, neuronY, neurons: [], features: {}, links: [] };
  // Inputs: every feature, active ones in the network's input order.
  FEATURES.forEach((feature, i) => {
    const active = current.inputs.indexOf(feature.name);
    const element = neuronElement(columnX(0), neuronY(0, i), size, 20);
    element.classList.add('feature');
    element.classList.toggle('inactive', active < 0);
    const role = active >= 0 ? roleName(current, 0, active) : null;
    element.dataset.tip = `${feature.label}${role ? `, ${role}` : ''}: an input; inputs do not learn and have no \u03b4. Click to ${active < 0 ? 'add' : 'remove'} it.`;
    element.dataset.feature = feature.name;
    element.addEventListener('click', () => toggleFeature(feature.name));
    const label = document.createElement('span');
    label.className = 'feature-label';
    label.textContent = feature.label;
    if (role) {
      label.innerHTML = '';
      const name = document.createElement('small');
      name.className = 'role-name';
      name.textContent = role;
      label.append(feature.label, document.createElement('br'), name);
      element.appendChild(roleBadge(`S${active + 1}`, role));
    }
    element.appendChild(label);
    columnsElement.appendChild(element);
    view.features[feature.name] = { element, index: i };
    drawFeatureMap(element.querySelector('canvas'), feature, current.heatmap.extent);
  });
  // Layers: hidden ones with their own +/- controls, then the output neuron.
  current.layers.forEach((layer, l) => {
    const column = l + 1;
    const isOutput = l === current.layers.length - 1;
    const head = document.createElement('div');
    head.className = 'layer-head';
    head.style.left = `${columnX(column) + size / 2}px`;
    head.dataset.layer = String(layer.layer);
    const count = layer.biases.length;
    if (isOutput) {
      head.textContent = company ? 'CEO (output)' : 'output';
    } else {
      const noun = company && l === 0 ? `manager${count === 1 ? '' : 's'}` : `neuron${count === 1 ? '' : 's'}`;
      head.innerHTML = '<div><button class="tiny plus">+</button><button class="tiny minus">&minus;</button></div><span></span>';
      head.querySelector('span').textContent = `${count} ${noun}`;
      const [plus, minus] = head.querySelectorAll('button');
      plus.title = 'Add a neuron';
      minus.title = 'Remove a neuron';
      plus.addEventListener('click', () => changeNeurons(l, +1));
      minus.addEventListener('click', () => changeNeurons(l, -1));
    }
    columnsElement.appendChild(head);
    const neurons = [];
    for (let j = 0; j < count; j += 1) {
      const resolution = isOutput ? current.heatmap.resolution : current.heatmap.neuron_resolution;
      const element = neuronElement(columnX(column), neuronY(column, j), size, resolution);
      element.classList.add(isOutput ? 'output' : 'hidden');
      element.dataset.layer = String(layer.layer);
      element.dataset.neuron = String(j);
      element.addEventListener('click', () => selectNeuron(layer.layer, j));
      const role = roleName(current, layer.layer, j);
      if (role) {
        element.dataset.role = role;
        element.appendChild(roleBadge(isOutput ? 'CEO' : `M${j + 1}`, role));
      }
      const deltaLabel = document.createElement('span');
      deltaLabel.className = 'delta-label';
      element.appendChild(deltaLabel);
      columnsElement.appendChild(element);
      neurons.push(element);
    }
    view.neurons.push(neurons);
  });
  // Links: links[l][j][k] joins input k of layer l+1 to its neuron j; each has a wider,
  // invisible twin that takes the pointer (hover for the weight, click to edit it).
  current.layers.forEach((layer, l) => {
    const rows = [];
    layer.weights.forEach((row, j) => {
      const paths = row.map((_, k) => {
        const from = l === 0 ? view.features[current.inputs[k]].index : k;
        const x0 = columnX(l) + size;
        const y0 = neuronY(l, from) + size / 2;
        const x1 = columnX(l + 1);
        const y1 = neuronY(l + 1, j) + size / 2;
        const middle = (x0 + x1) / 2;
        const d = `M${x0},${y0} H${x0 + edge} C${middle},${y0} ${middle},${y1} ${x1 - edge},${y1} H${x1}`;
        const path = document.createElementNS(SVG, 'path');
        path.setAttribute('d', d);
        path.dataset.layer = String(layer.layer);
        path.classList.add('link');
        svg.appendChild(path);
        const hit = document.createElementNS(SVG, 'path');
        hit.setAttribute('d', d);
        hit.classList.add('hit');
        hit.dataset.layer = String(layer.layer);
        hit.dataset.neuron = String(j);
        hit.dataset.input = String(k);
        hit.addEventListener('click', (event) => editWeight(layer.layer, j, k, { x: event.clientX, y: event.clientY }));
        svg.appendChild(hit);
        return path;
      });
      rows.push(paths);
    });
    view.links.push(rows);
  });
  state.view = view;
}

function roleBadge(text, role) {
  const badge = document.createElement('span');
  badge.className = 'role';
  badge.textContent = text;
  badge.dataset.role = role;
  return badge;
}

function neuronElement(x, y, size, resolution) {
  const element = document.createElement('div');
  element.className = 'neuron';
  element.style.left = `${x}px`;
  element.style.top = `${y}px`;
  element.style.width = `${size}px`;
  element.style.height = `${size}px`;
  const canvas = document.createElement('canvas');
  canvas.width = resolution;
  canvas.height = resolution;
  element.appendChild(canvas);
  return element;
}

function drawLinks(current) {
  const view = state.view;
  current.layers.forEach((layer, l) => {
    layer.weights.forEach((row, j) => {
      row.forEach((weight, k) => {
        const path = view.links[l][j][k];
        path.setAttribute('stroke-width', (0.4 + Math.min(Math.abs(weight), 3) * 2.2).toFixed(2));
        path.setAttribute('stroke', weight < 0 ? 'var(--negative)' : 'var(--positive)');
        path.dataset.weight = String(weight);
        path.nextSibling.dataset.tip = `w from ${incomingName(current, layer.layer, k)} to ${neuronName(current, layer.layer, j)} = ${fmt(weight)}. Click to type a new value.`;
      });
    });
  });
}

const DEAD_RELU = 'Dead ReLU: z \u2264 0 for every training example, so a = max(0, z) = 0 and \u03c3\u2032(z) = 0 all over the data. '
  + 'No error flows back through this neuron (\u03b4 = 0), so its incoming weights and bias get no gradient from the data and it cannot learn its way back.';

/** Each neuron's hover text; a dead ReLU neuron is marked and explained. */
function drawNeuronTips(current) {
  const dead = current.dead || [];
  state.view.neurons.forEach((neurons, l) => {
    const layer = l + 1;
    const isOutput = layer === current.layers.length;
    neurons.forEach((element, j) => {
      const isDead = !isOutput && Boolean(dead[l] && dead[l].includes(j));
      element.classList.toggle('dead', isDead);
      let tip = `${neuronName(current, layer, j)}, ${current.layers[l].activation}: click (paused) for the \u03b4 lens`;
      if (isDead) {
        const revive = layer === 1
          ? 'It reads the inputs directly, so nothing revives it but a weight or bias typed in (or a reset); only a weight penalty still moves its weights.'
          : 'It comes back only if the layers before it change what it receives.';
        tip = `${neuronName(current, layer, j)}. ${DEAD_RELU} ${revive} A lower learning rate or leaky ReLU makes this rarer.`;
      }
      if (element.dataset.tip !== tip) element.dataset.tip = tip;
    });
  });
}

/**
 * A link's hover text: wⱼₖ, and once the lens holds a trace, the chain rule for this weight with
 * the trace's numbers, ∂C/∂wⱼₖ = δⱼ · aₖ (BP4); the numbers also go into the box's data-*.
 */
function linkTip(hit, tip) {
  const current = state.latest;
  const layer = Number(hit.dataset.layer);
  const j = Number(hit.dataset.neuron);
  const k = Number(hit.dataset.input);
  const weight = current.layers[layer - 1].weights[j][k];
  const head = `w from ${incomingName(current, layer, k)} to ${neuronName(current, layer, j)} = ${fmt(weight)}. Click to type a new value.`;
  tip.dataset.weight = String(weight);
  if (!state.trace || state.trace.step !== current.step) return head;
  const { trace, query } = state.trace;
  const entry = trace.layers[layer - 1];
  const delta = entry.delta[j];
  const activation = layer === 1 ? trace.input[k] : trace.layers[layer - 2].a[k];
  const gradient = entry.weight_gradients[j][k];
  Object.assign(tip.dataset, { delta: String(delta), activation: String(activation), gradient: String(gradient), query });
  const penalty = state.config.regularization === 'none' ? '' : ` (plus the ${state.config.regularization.toUpperCase()} penalty's term)`;
  if (trace.examples.length <= 1) {
    return `${head}\nChain rule (BP4), ${trace.point ? 'the inputs typed in' : `example ${trace.examples[0] + 1}`}: \u2202C/\u2202w = \u03b4\u2c7c \u00b7 a\u2096 = ${fmt(delta)} \u00d7 ${fmt(activation)} = ${fmt(delta * activation)}${penalty}; the trace's \u2202C/\u2202w = ${fmt(gradient)}.`;
  }
  return `${head}\nChain rule (BP4) on the next batch: \u2202C/\u2202w = the mean over its ${trace.examples.length} rows of \u03b4\u2c7c \u00b7 a\u2096 = ${fmt(gradient)}${penalty} (the means \u03b4\u0304\u2c7c = ${fmt(delta)} and a\u0304\u2096 = ${fmt(activation)} do not multiply to it: choose one example to check by hand).`;
}

/** One hover box for neurons and links (the browser's own title tooltips cannot be styled). */
function setupTips() {
  const tip = $('tip');
  let owner = null;
  const hide = () => {
    owner = null;
    tip.hidden = true;
  };
  document.addEventListener('mouseover', (event) => {
    const target = event.target.closest ? event.target.closest('[data-tip]') : null;
    if (!target) {
      hide();
      return;
    }
    if (target === owner && !tip.hidden) return;
    owner = target;
    for (const key of ['delta', 'activation', 'gradient', 'weight', 'query']) delete tip.dataset[key];
    tip.textContent = target.classList.contains('hit') ? linkTip(target, tip) : target.dataset.tip;
    tip.hidden = false;
    const box = target.getBoundingClientRect();
    const x = Math.max(4, Math.min(window.innerWidth - tip.offsetWidth - 4, event.clientX + 12));
    const below = box.bottom + 6;
    const y = below + tip.offsetHeight < window.innerHeight ? below : Math.max(4, box.top - tip.offsetHeight - 6);
    tip.style.left = `${x + window.scrollX}px`;
    tip.style.top = `${y + window.scrollY}px`;
  });
  document.addEventListener('scroll', hide, true);
}

// ---------------------------------------------------------------------------------------------
// editing: a weight, a bias (links and the lens table) set by hand, and the network recomputed.
// ---------------------------------------------------------------------------------------------

let editorCommit = null;

/** Opens the small editor at a point of the screen; Enter calls commit with the number. */
function openEditor(label, value, anchor, commit) {
  const editor = $('editor');
  const input = $('editor-input');
  $('editor-label').textContent = label;
  input.value = String(value);
  editorCommit = commit;
  $('tip').hidden = true;
  editor.hidden = false;
  const x = Math.max(4, Math.min(window.innerWidth - editor.offsetWidth - 4, anchor.x));
  editor.style.left = `${x + window.scrollX}px`;
  editor.style.top = `${anchor.y + 8 + window.scrollY}px`;
  input.focus();
  input.select();
}

function closeEditor() {
  editorCommit = null;
  $('editor').hidden = true;
}

function setupEditor() {
  const input = $('editor-input');
  input.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') closeEditor();
    if (event.key !== 'Enter') return;
    const value = Number(input.value);
    if (input.value.trim() === '' || !Number.isFinite(value)) {
      setStatus('value: type a number', true);
      return;
    }
    const commit = editorCommit;
    closeEditor();
    if (commit) commit(value);
  });
  input.addEventListener('blur', () => setTimeout(() => {
    if (document.activeElement !== input) closeEditor();
  }, 0));
}

function editWeight(layer, neuron, input, anchor) {
  const current = state.latest;
  if (!current || state.animating) return;
  const weight = current.layers[layer - 1].weights[neuron][input];
  openEditor(`w from ${incomingName(current, layer, input)} to ${neuronName(current, layer, neuron)}`, weight, anchor,
    (value) => setParameter(layer, neuron, input, value));
}

function editBias(layer, neuron, anchor) {
  const current = state.latest;
  if (!current || state.animating) return;
  openEditor(`bias of ${neuronName(current, layer, neuron)}`, current.layers[layer - 1].biases[neuron], anchor,
    (value) => setParameter(layer, neuron, null, value));
}

/**
 * Pauses a running session so that what follows reads a still network. False when the page
 * moved to another session meanwhile (the caller then stops).
 */
async function pauseFirst(generation) {
  if (!state.latest.running) return true;
  const paused = await api.pause(state.session);
  if (generation !== state.generation) return false;
  acceptState(paused);
  return true;
}

/** Sets one weight (input k) or bias (input null) on the server; the page redraws and retraces. */
async function setParameter(layer, neuron, input, value) {
  if (!state.session || state.animating) return;
  const generation = state.generation;
  try {
    if (!(await pauseFirst(generation))) return;
    const body = { layer, neuron, value };
    if (input !== null) body.input = input;
    const reply = await api.parameter(state.session, body);
    if (generation !== state.generation) return;
    acceptState(reply);
    document.body.dataset.edits = String(Number(document.body.dataset.edits || 0) + 1);
    if (state.selected) await loadTrace();
  } catch (error) {
    showError(error);
  }
}

// ---------------------------------------------------------------------------------------------
// heat maps: a diverging scale (orange negative, white zero, blue positive) over the input plane.
// ---------------------------------------------------------------------------------------------

const NEGATIVE = [245, 147, 34];
const MIDDLE = [232, 234, 235];
const POSITIVE = [8, 119, 189];

/** The colour of t ∈ [−1, 1]. */
function colour(t) {
  const clamped = Math.max(-1, Math.min(1, t));
  const end = clamped < 0 ? NEGATIVE : POSITIVE;
  const share = Math.abs(clamped);
  return MIDDLE.map((m, i) => Math.round(m + (end[i] - m) * share));
}

/** Paints an n × n row-major grid (row 0 at the top) into a canvas of n × n pixels. */
function paintGrid(canvas, values, n, toUnit) {
  const context = canvas.getContext('2d');
  const image = context.createImageData(n, n);
  for (let i = 0; i < n * n; i += 1) {
    // A diverged network's non-finite outputs arrive as null: drawn grey.
    const [r, g, b] = values[i] === null ? [160, 160, 160] : colour(toUnit(values[i]));
    image.data[4 * i] = r;
    image.data[4 * i + 1] = g;
    image.data[4 * i + 2] = b;
    image.data[4 * i + 3] = 255;
  }
  context.putImageData(image, 0, 0);
}

function maxMagnitude(values) {
  let most = 0;
  for (const value of values) most = Math.max(most, Math.abs(value));
  return most;
}

function drawFeatureMap(canvas, feature, extent) {
  const n = canvas.width;
  const values = [];
  for (let row = 0; row < n; row += 1) {
    const x2 = extent - (2 * extent * (row + 0.5)) / n;
    for (let column = 0; column < n; column += 1) {
      values.push(feature.value(-extent + (2 * extent * (column + 0.5)) / n, x2));
    }
  }
  const scale = maxMagnitude(values) || 1;
  paintGrid(canvas, values, n, (value) => value / scale);
}

function isClassification(current) {
  if (state.data) return state.data.task === 'classify';
  return current.layers[current.layers.length - 1].activation === 'sigmoid';
}

/** Maps an output value (or a target) to [−1, 1], and names the legend's ends. */
function outputScale(current) {
  if (isClassification(current)) {
    return { toUnit: (value) => 2 * value - 1, low: 0, middle: 0.5, high: 1 };
  }
  let scale = 0;
  if (state.data) for (const row of state.data.train) scale = Math.max(scale, Math.abs(row[2]));
  if (!scale) scale = maxMagnitude(current.heatmap.output) || 1;
  return { toUnit: (value) => value / scale, low: -scale, middle: 0, high: scale };
}

const offscreen = document.createElement('canvas');

// K ≥ 3 classes: one colour per class (class 0 and 1 keep the two-class orange and blue).
const CLASS_COLOURS = [[245, 147, 34], [8, 119, 189], [46, 160, 67], [123, 63, 196], [214, 39, 40]];

/** A class's colour at strength t ∈ [0, 1] (0: the neutral middle). */
function classColour(klass, t) {
  const end = CLASS_COLOURS[klass] || [0, 0, 0];
  const share = Math.max(0, Math.min(1, t));
  return MIDDLE.map((m, i) => Math.round(m + (end[i] - m) * share));
}

/** Paints an n × n grid from a function of the cell index to [r, g, b]. */
function paintCells(canvas, n, rgb) {
  const context = canvas.getContext('2d');
  const image = context.createImageData(n, n);
  for (let i = 0; i < n * n; i += 1) {
    const [r, g, b] = rgb(i);
    image.data.set([r, g, b, 255], 4 * i);
  }
  context.putImageData(image, 0, 0);
}

/** K ≥ 3: each cell in its winning class's colour, stronger the surer the network is. */
function drawClassMap(current) {
  const { resolution, output, winner, extent, output_units: units, neuron_resolution: n } = current.heatmap;
  const k = current.classes;
  const discretize = $('discretize').checked;
  const strength = (p) => (discretize ? 1 : (p - 1 / k) / (1 - 1 / k));
  offscreen.width = resolution;
  offscreen.height = resolution;
  paintCells(offscreen, resolution, (i) => (output[i] === null ? [160, 160, 160] : classColour(winner[i], strength(output[i]))));
  const canvas = $('output-map');
  const context = canvas.getContext('2d');
  context.imageSmoothingEnabled = true;
  context.drawImage(offscreen, 0, 0, canvas.width, canvas.height);
  // Each output neuron shows its own class's probability.
  state.view.neurons[state.view.neurons.length - 1].forEach((element, unit) => {
    const canvasOf = element.querySelector('canvas');
    canvasOf.width = n;
    canvasOf.height = n;
    paintCells(canvasOf, n, (i) => (units[unit][i] === null ? [160, 160, 160] : classColour(unit, units[unit][i])));
  });
  const scale = { toUnit: () => 0, classes: k };
  if (state.data) {
    drawPoints(context, canvas, state.data.train, extent, scale, '#ffffff');
    if ($('show-test').checked) drawPoints(context, canvas, state.data.test, extent, scale, '#222222');
    drawChosenExample(context, canvas, extent);
  }
  const legend = $('legend');
  const legendContext = legend.getContext('2d');
  for (let x = 0; x < legend.width; x += 1) {
    const [r, g, b] = classColour(Math.min(k - 1, Math.floor((x / legend.width) * k)), 1);
    legendContext.fillStyle = `rgb(${r},${g},${b})`;
    legendContext.fillRect(x, 0, 1, legend.height);
  }
  $('legend-low').textContent = 'class 0';
  $('legend-mid').textContent = `${k} classes, winner shown`;
  $('legend-high').textContent = `class ${k - 1}`;
}

function drawOutputMap(current) {
  if (current.heatmap.winner) {
    drawClassMap(current);
    return;
  }
  const { resolution, output, extent } = current.heatmap;
  const scale = outputScale(current);
  const discretize = $('discretize').checked;
  const toUnit = discretize ? (value) => Math.sign(scale.toUnit(value)) : scale.toUnit;
  offscreen.width = resolution;
  offscreen.height = resolution;
  paintGrid(offscreen, output, resolution, toUnit);
  const canvas = $('output-map');
  const context = canvas.getContext('2d');
  context.imageSmoothingEnabled = true;
  context.drawImage(offscreen, 0, 0, canvas.width, canvas.height);
  // The output neuron in the network shows the same picture.
  const outputNeuron = state.view.neurons[state.view.neurons.length - 1][0];
  paintGrid(outputNeuron.querySelector('canvas'), output, resolution, toUnit);
  if (state.data) {
    drawPoints(context, canvas, state.data.train, extent, scale, '#ffffff');
    if ($('show-test').checked) drawPoints(context, canvas, state.data.test, extent, scale, '#222222');
    drawChosenExample(context, canvas, extent);
  }
  drawLegend(scale);
}

function drawPoints(context, canvas, rows, extent, scale, stroke) {
  context.lineWidth = 1;
  context.strokeStyle = stroke;
  for (const [x1, x2, y] of rows) {
    const x = ((x1 + extent) / (2 * extent)) * canvas.width;
    const yPixel = ((extent - x2) / (2 * extent)) * canvas.height;
    const [r, g, b] = scale.classes ? classColour(y, 1) : colour(scale.toUnit(y));
    context.fillStyle = `rgb(${r},${g},${b})`;
    context.beginPath();
    context.arc(x, yPixel, 3, 0, 2 * Math.PI);
    context.fill();
    context.stroke();
  }
}

/** The training example under the δ lens, ringed on the output map. */
function drawChosenExample(context, canvas, extent) {
  const source = document.querySelector('input[name="lens-source"]:checked').value;
  const row = state.data.train[Number($('lens-example').value) - 1];
  if (source !== 'example' || !row) return;
  const x = ((row[0] + extent) / (2 * extent)) * canvas.width;
  const y = ((extent - row[1]) / (2 * extent)) * canvas.height;
  context.strokeStyle = '#7b3fc4';
  context.lineWidth = 2.5;
  context.beginPath();
  context.arc(x, y, 7, 0, 2 * Math.PI);
  context.stroke();
}

/** Clicking a training point on the output map makes it the lens's example. */
function pickExample(event) {
  if (!state.data || !state.latest) return;
  const canvas = $('output-map');
  const box = canvas.getBoundingClientRect();
  const extent = state.latest.heatmap.extent;
  const x1 = ((event.clientX - box.left) / box.width) * 2 * extent - extent;
  const x2 = extent - ((event.clientY - box.top) / box.height) * 2 * extent;
  let best = -1;
  let bestDistance = ((8 / box.width) * 2 * extent) ** 2; // within 8 pixels
  state.data.train.forEach(([a, b], i) => {
    const distance = (a - x1) ** 2 + (b - x2) ** 2;
    if (distance < bestDistance) {
      best = i;
      bestDistance = distance;
    }
  });
  if (best < 0) return;
  $('lens-example').value = String(best + 1); // people count from 1; the API's rows from 0
  document.querySelector('input[name="lens-source"][value="example"]').checked = true;
  scheduleDraw();
  if (state.selected) loadTrace();
}

function drawLegend(scale) {
  const canvas = $('legend');
  const context = canvas.getContext('2d');
  for (let x = 0; x < canvas.width; x += 1) {
    const [r, g, b] = colour((2 * x) / (canvas.width - 1) - 1);
    context.fillStyle = `rgb(${r},${g},${b})`;
    context.fillRect(x, 0, 1, canvas.height);
  }
  $('legend-low').textContent = short(scale.low);
  $('legend-mid').textContent = short(scale.middle);
  $('legend-high').textContent = short(scale.high);
}

function drawNeuronMaps(current) {
  const maps = current.heatmap.neurons;
  const n = current.heatmap.neuron_resolution;
  maps.forEach((layerMaps, l) => {
    layerMaps.forEach((values, j) => {
      const element = state.view.neurons[l] && state.view.neurons[l][j];
      if (!element) return;
      // Fixed [−1, 1] for bounded activations, wider when a unit (ReLU, GELU) goes past it.
      const scale = Math.max(1, maxMagnitude(values));
      paintGrid(element.querySelector('canvas'), values, n, (value) => value / scale);
    });
  });
}

// ---------------------------------------------------------------------------------------------
// charts: training and test loss over the epochs.
// ---------------------------------------------------------------------------------------------

// ---------------------------------------------------------------------------------------------
// compare: a second session, same data and first weights, another optimiser, trained alongside.
// ---------------------------------------------------------------------------------------------

function closeCompare() {
  const compare = state.compare;
  state.compare = null;
  $('compare-key').hidden = true;
  delete document.body.dataset.compare;
  if (!compare) return;
  compare.source.close();
  api.remove(compare.id).catch(() => {});
}

/** Starts (or, with '', ends) the comparison: the main session replays from its first weights. */
async function startCompare(optimizer) {
  closeCompare();
  if (!optimizer || !state.session) {
    $('compare').value = '';
    scheduleDraw();
    return;
  }
  const generation = state.generation;
  try {
    if (state.latest.running) acceptState(await api.pause(state.session));
    acceptState(await api.reset(state.session));
    const reply = await api.create({ ...state.activeConfig, optimizer, epochs_per_update: 1 });
    if (generation !== state.generation) {
      api.remove(reply.id).catch(() => {});
      return;
    }
    const compare = { id: reply.id, optimizer, latest: reply.state, source: new EventSource(api.eventsUrl(reply.id)) };
    compare.source.addEventListener('state', (event) => {
      if (state.compare !== compare) return;
      compare.latest = JSON.parse(event.data);
      scheduleDraw();
    });
    state.compare = compare;
    const names = { sgd: 'SGD', momentum: 'Momentum', adam: 'Adam', rmsprop: 'RMSprop' };
    $('compare-name').textContent = names[optimizer];
    $('compare-key').hidden = false;
    document.body.dataset.compare = reply.id;
    setStatus(`both start again from the same first weights: ${state.config.optimizer} against ${optimizer}`);
    scheduleDraw();
  } catch (error) {
    $('compare').value = '';
    showError(error);
  }
}

/** The same action on the compared session, when there is one. */
async function compareAct(action) {
  const compare = state.compare;
  if (!compare || state.animating) return;
  try {
    const reply = await action(compare.id);
    if (state.compare === compare && reply) {
      compare.latest = reply;
      scheduleDraw();
    }
  } catch (error) {
    showError(error);
  }
}

// ---------------------------------------------------------------------------------------------
// landscape: the cost over the plane of the weights' path, refreshed at most once a second.
// ---------------------------------------------------------------------------------------------

const landscape = { step: -1, busy: false, at: 0 };
const LANDSCAPE_RESOLUTION = 31;

function refreshLandscape(current) {
  if (!$('show-landscape').checked || landscape.busy || current.step === landscape.step) return;
  if (current.running && Date.now() - landscape.at < 1000) {
    setTimeout(scheduleDraw, 1000);
    return;
  }
  loadLandscape(current);
}

async function loadLandscape(current) {
  const generation = state.generation;
  landscape.busy = true;
  landscape.at = Date.now();
  $('landscape').dataset.status = 'loading';
  try {
    const land = await api.landscape(state.session, LANDSCAPE_RESOLUTION);
    if (generation !== state.generation) return;
    landscape.step = current.step;
    drawLandscape(land);
  } catch (error) {
    $('landscape').dataset.status = 'error';
    showError(error);
  } finally {
    landscape.busy = false;
  }
}

/** Bands of log cost (a contour map, darker lower), the path in purple, the weights now ringed. */
function drawLandscape(land) {
  const canvas = $('landscape');
  const n = land.resolution;
  const logs = land.loss.map((value) => (value === null ? NaN : Math.log(Math.max(value, 1e-12))));
  const finite = logs.filter(Number.isFinite);
  const low = Math.min(...finite);
  const high = Math.max(...finite);
  const bands = 12;
  offscreen.width = n;
  offscreen.height = n;
  paintCells(offscreen, n, (i) => {
    if (!Number.isFinite(logs[i])) return [160, 160, 160];
    const band = Math.min(bands - 1, Math.floor(((logs[i] - low) / Math.max(high - low, 1e-12)) * bands));
    const t = band / (bands - 1);
    return [Math.round(30 + 215 * t), Math.round(60 + 180 * t), Math.round(110 + 135 * t)];
  });
  const context = canvas.getContext('2d');
  context.imageSmoothingEnabled = false;
  context.drawImage(offscreen, 0, 0, canvas.width, canvas.height);
  const toPixel = ([alpha, beta]) => [
    ((alpha + land.extent) / (2 * land.extent)) * canvas.width,
    ((land.extent - beta) / (2 * land.extent)) * canvas.height,
  ];
  if (land.path.length) {
    context.strokeStyle = '#b98cf0';
    context.fillStyle = '#b98cf0';
    context.lineWidth = 2;
    context.beginPath();
    land.path.forEach((point, i) => {
      const [x, y] = toPixel(point);
      if (i === 0) context.moveTo(x, y);
      else context.lineTo(x, y);
    });
    context.stroke();
    const [x0, y0] = toPixel(land.path[0]);
    context.fillRect(x0 - 3, y0 - 3, 6, 6); // the start
  }
  const [cx, cy] = toPixel([0, 0]);
  context.strokeStyle = '#ffffff';
  context.lineWidth = 2.5;
  context.beginPath();
  context.arc(cx, cy, 6, 0, 2 * Math.PI);
  context.stroke();
  Object.assign(canvas.dataset, { status: 'ready', directions: land.directions, path: String(land.path.length) });
  landscape.last = { low, high, bands };
  drawLandscapeLegend(landscape.last);
  $('landscape-note').textContent = land.directions === 'pca'
    ? `(principal directions of ${land.path.length} epochs' weights)`
    : '(random directions until there is a path)';
}

/** The legend under the landscape: its bands, from the lowest cost drawn to the highest. */
function drawLandscapeLegend({ low, high, bands }) {
  const canvas = $('legend');
  const context = canvas.getContext('2d');
  for (let x = 0; x < canvas.width; x += 1) {
    const t = Math.floor((x / canvas.width) * bands) / (bands - 1);
    context.fillStyle = `rgb(${Math.round(30 + 215 * t)},${Math.round(60 + 180 * t)},${Math.round(110 + 135 * t)})`;
    context.fillRect(x, 0, 1, canvas.height);
  }
  $('legend-low').textContent = `cost ${short(Math.exp(low))}`;
  $('legend-mid').textContent = 'log scale';
  $('legend-high').textContent = short(Math.exp(high));
}

function drawLossChart(history, compareHistory) {
  const canvas = $('loss-chart');
  const context = canvas.getContext('2d');
  const { width, height } = canvas;
  context.clearRect(0, 0, width, height);
  context.strokeStyle = '#e3e6e8';
  context.lineWidth = 1;
  context.setLineDash([]);
  context.strokeRect(0.5, 0.5, width - 1, height - 1);
  if (!history || history.length < 2) return;
  // The compared session's curve shares the axes: epochs and losses of both.
  const all = compareHistory ? [...history, ...compareHistory] : history;
  const first = Math.min(...all.map((entry) => entry[0]));
  const last = Math.max(...all.map((entry) => entry[0]));
  let top = 0;
  for (const [, train, test] of all) {
    if (Number.isFinite(train)) top = Math.max(top, train);
    if (Number.isFinite(test)) top = Math.max(top, test);
  }
  if (!(top > 0) || !Number.isFinite(top)) return;
  const x = (epoch) => 2 + ((epoch - first) / Math.max(1, last - first)) * (width - 4);
  const y = (loss) => height - 2 - (Math.min(loss, top) / top) * (height - 6);
  const curves = [[history, 1, '#9aa4ab', []], [history, 2, '#1f2a33', []]];
  if (compareHistory) curves.push([compareHistory, 2, '#7b3fc4', [4, 2]]);
  for (const [entries, column, colourName, dash] of curves) {
    context.strokeStyle = colourName;
    context.lineWidth = 1.5;
    context.setLineDash(dash);
    context.beginPath();
    let drawing = false; // a gap where the loss was not finite
    for (const entry of entries) {
      if (!Number.isFinite(entry[column])) {
        drawing = false;
      } else if (drawing) {
        context.lineTo(x(entry[0]), y(entry[column]));
      } else {
        context.moveTo(x(entry[0]), y(entry[column]));
        drawing = true;
      }
    }
    context.stroke();
  }
  context.setLineDash([]);
  context.fillStyle = '#6b7780';
  context.font = '10px system-ui, sans-serif';
  context.fillText(fmt(top), 4, 11);
}

// ---------------------------------------------------------------------------------------------
// lens: the δ lens (z, a, δ, BP3/BP4 gradients, one step's updates) and "Step backward".
// ---------------------------------------------------------------------------------------------

const EQUATIONS = {
  BP1: 'BP1  \u03b4\u1d38 = \u2207\u2090C \u2299 \u03c3\u2032(z\u1d38)',
  BP2: 'BP2  \u03b4\u02e1 = ((w\u02e1\u207a\u00b9)\u1d40 \u03b4\u02e1\u207a\u00b9) \u2299 \u03c3\u2032(z\u02e1)',
  BP3: 'BP3  \u2202C/\u2202b\u02e1 = \u03b4\u02e1',
  BP4: 'BP4  \u2202C/\u2202w\u02e1 = \u03b4\u02e1 (a\u02e1\u207b\u00b9)\u1d40',
};

/** What BP1 comes to for this network's output unit and cost. */
function outputNote(current) {
  const activation = current.layers[current.layers.length - 1].activation;
  if (activation === 'sigmoid') return 'sigmoid + cross-entropy, fused: \u03b4\u1d38 = a \u2212 y';
  if (activation === 'softmax') return 'softmax + cross-entropy, fused: \u03b4\u1d38 = a \u2212 y, y one-hot';
  return `${activation} output, squared error: \u03c3\u2032 = 1`;
}

function setupLensControls() {
  for (const radio of document.querySelectorAll('input[name="lens-source"]')) {
    radio.addEventListener('change', () => {
      scheduleDraw();
      if (state.selected) loadTrace();
    });
  }
  $('lens-example').addEventListener('change', () => {
    document.querySelector('input[name="lens-source"][value="example"]').checked = true;
    scheduleDraw();
    if (state.selected) loadTrace();
  });
  for (const id of ['point-x1', 'point-x2', 'point-y']) {
    $(id).addEventListener('change', () => {
      document.querySelector('input[name="lens-source"][value="point"]').checked = true;
      if (state.selected) loadTrace();
    });
  }
  $('output-map').addEventListener('click', pickExample);
  $('step-backward').addEventListener('click', () => stepBackward(false));
  $('grad-check').addEventListener('click', gradientCheck);
  $('next-layer').addEventListener('click', () => {
    if (state.animating) {
      if (state.advance) state.advance();
    } else {
      stepBackward(true);
    }
  });
}

function lensQuery() {
  const source = document.querySelector('input[name="lens-source"]:checked').value;
  if (source === 'batch') return 'batch=next';
  if (source === 'point') {
    const number = (id) => {
      const value = Number($(id).value);
      return Number.isFinite(value) ? value : 0;
    };
    return `point=${number('point-x1')},${number('point-x2')}&target=${number('point-y')}`;
  }
  const rows = state.data ? state.data.train.length : 1;
  // The box counts from 1, as a person does; the API's row index counts from 0.
  const example = Math.max(0, Math.min(rows - 1, Math.floor(Number($('lens-example').value) || 1) - 1));
  $('lens-example').value = String(example + 1);
  return `example=${example}`;
}

/** Clicking a neuron pauses training (the lens reads a still network) and traces it. */
async function selectNeuron(layer, neuron) {
  if (!state.session || state.animating) return;
  const generation = state.generation;
  try {
    if (!(await pauseFirst(generation))) return;
    state.selected = { layer, neuron };
    await loadTrace();
  } catch (error) {
    showError(error);
  }
}

async function loadTrace() {
  if (!state.session || !state.selected) return;
  const generation = state.generation;
  const request = ++state.traceRequests; // only the latest request's reply is shown
  const query = lensQuery();
  const step = state.latest.step;
  const lens = $('lens');
  lens.dataset.status = 'loading';
  try {
    const trace = await api.trace(state.session, query);
    if (generation !== state.generation || !state.selected || request !== state.traceRequests) return;
    state.trace = { trace, query, step };
    renderLens();
  } catch (error) {
    if (request !== state.traceRequests) return;
    lens.dataset.status = 'error';
    showError(error);
  }
}

/** A new state under a paused lens traces again; a running network marks the lens stale. */
function refreshLens(current) {
  const lens = $('lens');
  if (!state.trace || state.animating || lens.dataset.status === 'loading') return;
  if (current.step === state.trace.step) return;
  if (current.running) lens.dataset.status = 'stale';
  else loadTrace();
}

function clearLens() {
  state.selected = null;
  state.trace = null;
  const lens = $('lens');
  lens.dataset.status = 'empty';
  for (const key of ['query', 'step', 'layer', 'neuron', 'backward', 'version']) delete lens.dataset[key];
  $('lens-title').textContent = 'Pause, then click a neuron: its z, a and \u03b4, the gradient of every incoming weight, and the update one step would make.';
  for (const id of ['lens-z', 'lens-a', 'lens-delta']) {
    $(id).textContent = '\u2013';
    $(id).dataset.value = '';
  }
  $('lens-equation').textContent = '';
  $('lens-note').textContent = '';
  $('lens-table').tBodies[0].innerHTML = '';
  $('backward-steps').innerHTML = '';
  $('step-backward').disabled = true;
  $('next-layer').disabled = true;
  $('grad-check').disabled = true;
  $('lens-apply').disabled = true;
  $('gradcheck').hidden = true;
  for (const element of document.querySelectorAll('.neuron.selected')) element.classList.remove('selected');
  clearBackwardMarks();
}

/** Where weight k of layer l comes from; brief: the company roles as S1, M1 (for the table). */
function incomingName(current, layer, k, brief) {
  const role = roleName(current, layer - 1, k);
  if (layer === 1) {
    const label = FEATURE_BY_NAME[current.inputs[k]].label;
    if (!role) return label;
    return brief ? `${label} \u00b7 S${k + 1}` : `${label} (${role})`;
  }
  if (!role) return `h${layer - 1}.${k + 1}`;
  return brief ? `M${k + 1}` : role;
}

/** σ′ of each hidden activation: its formula in z or a, and the same with the numbers put in. */
function derivativeFormula(activation, z, a) {
  switch (activation) {
    case 'tanh': return ['1 \u2212 tanh\u00b2(z) = 1 \u2212 a\u00b2', `1 \u2212 (${fmt(a)})\u00b2`];
    case 'sigmoid': return ['\u03c3(z)(1 \u2212 \u03c3(z)) = a(1 \u2212 a)', `${fmt(a)} \u00d7 (1 \u2212 ${fmt(a)})`];
    case 'relu': return ['1 if z > 0, else 0', `z = ${fmt(z)} ${z > 0 ? '> 0' : '\u2264 0'}`];
    case 'leaky_relu': return ['1 if z > 0, else 0.01', `z = ${fmt(z)} ${z > 0 ? '> 0' : '\u2264 0'}`];
    case 'gelu': return ['\u03a6(z) + z\u00b7\u03c6(z)', `\u03a6(${fmt(z)}) + ${fmt(z)}\u00b7\u03c6(${fmt(z)})`];
    default: return ['1', null];
  }
}

function renderLens() {
  const current = state.latest;
  const { trace, query, step } = state.trace;
  const { layer, neuron } = state.selected;
  const entry = trace.layers.find((candidate) => candidate.layer === layer);
  const weights = current.layers[layer - 1].weights[neuron];
  const isOutput = layer === current.layers.length;
  // aˡ⁻¹: what flows in along each weight (BP4 multiplies it by δ).
  const incoming = layer === 1 ? trace.input : trace.layers.find((candidate) => candidate.layer === layer - 1).a;
  const lens = $('lens');
  state.lensVersion = (state.lensVersion || 0) + 1;
  Object.assign(lens.dataset, {
    status: 'ready', query, step: String(step), layer: String(layer), neuron: String(neuron), version: String(state.lensVersion),
  });
  for (const element of document.querySelectorAll('.neuron.selected')) element.classList.remove('selected');
  state.view.neurons[layer - 1][neuron].classList.add('selected');
  clearBackwardMarks(); // the δ shown on the neurons belonged to the previous trace
  $('backward-steps').innerHTML = '';
  delete lens.dataset.backward;

  const single = trace.examples.length <= 1;
  const row = trace.point || (state.data && trace.examples.length === 1 ? state.data.train[trace.examples[0]] : null);
  const point = row ? ` (x\u2081 ${short(row[0])}, x\u2082 ${short(row[1])}, y ${short(row[2])})` : '';
  let source;
  if (trace.point) source = `the inputs typed in${point}`;
  else if (!single) source = `next batch of ${trace.examples.length} (means over its rows)`;
  else source = `training example ${trace.examples[0] + 1}${point}`;
  $('lens-title').textContent = `${neuronName(current, layer, neuron)}, ${current.layers[layer - 1].activation} \u00b7 ${source} \u00b7 cost ${fmt(trace.cost)}`;
  showNumber($('lens-z'), entry.z[neuron]);
  showNumber($('lens-a'), entry.a[neuron]);
  showNumber($('lens-delta'), entry.delta[neuron]);

  // The equation that made this δ, with the numbers it came from.
  const equation = $('lens-equation');
  equation.innerHTML = '';
  const line = (text, className) => {
    const div = document.createElement('div');
    div.textContent = text;
    if (className) div.className = className;
    equation.appendChild(div);
    return div;
  };
  line(EQUATIONS[entry.equation], 'main');
  if (entry.equation === 'BP1') {
    const activation = current.layers[layer - 1].activation;
    if (activation === 'sigmoid' && single && row) {
      line(`sigmoid + cross-entropy, fused: \u03b4\u1d38 = a \u2212 y = ${fmt(entry.a[neuron])} \u2212 ${short(row[2])} = ${fmt(entry.delta[neuron])}`);
    } else if (activation === 'softmax' && single && row) {
      const target = row[2] === neuron ? 1 : 0;
      line(`softmax + cross-entropy, fused: \u03b4\u2c7c = a\u2c7c \u2212 y\u2c7c = ${fmt(entry.a[neuron])} \u2212 ${target} = ${fmt(entry.delta[neuron])} (y one-hot: class ${short(row[2])})`);
    } else {
      line(outputNote(current));
    }
  } else {
    const next = trace.layers.find((candidate) => candidate.layer === layer + 1);
    const nextWeights = current.layers[layer].weights;
    const backProjected = nextWeights.reduce((sum, weightRow, k) => sum + weightRow[neuron] * next.delta[k], 0);
    const activation = current.layers[layer - 1].activation;
    const derivative = entry.derivative[neuron];
    const [formula, withNumbers] = derivativeFormula(activation, entry.z[neuron], entry.a[neuron]);
    const back = line(`((w\u02e1\u207a\u00b9)\u1d40\u03b4\u02e1\u207a\u00b9)\u2c7c = ${fmt(backProjected)}${single ? '' : ' (batch mean)'}`, 'back');
    back.dataset.value = String(backProjected);
    const slope = line('', 'derivative');
    slope.id = 'lens-derivative';
    slope.dataset.value = String(derivative);
    if (single) {
      slope.textContent = `\u03c3\u2032(z\u2c7c) = ${formula}${withNumbers ? ` = ${withNumbers}` : ''} = ${fmt(derivative)}`;
      line(`\u03b4\u2c7c = ${fmt(backProjected)} \u00d7 ${fmt(derivative)} = ${fmt(entry.delta[neuron])}`, 'product');
    } else {
      slope.textContent = `\u03c3\u2032(z\u2c7c) = ${formula} per example (batch mean ${fmt(derivative)}); \u03b4\u2c7c is the mean of the products`;
    }
  }
  line(`BP3  \u2202C/\u2202b\u2c7c = \u03b4\u2c7c = ${fmt(entry.bias_gradients[neuron])};  BP4  \u2202C/\u2202w\u2c7c\u2096 = \u03b4\u2c7c a\u2096 \u2192 the table`);

  // One row per incoming weight, then the bias; weights and the bias can be typed over.
  const body = $('lens-table').tBodies[0];
  body.innerHTML = '';
  const cell = (tableRow, className, value) => {
    const td = document.createElement('td');
    td.className = className;
    showNumber(td, value);
    tableRow.appendChild(td);
    return td;
  };
  const editable = (td, edit) => {
    td.classList.add('editable');
    td.title = 'Click to type a new value';
    td.addEventListener('click', () => {
      const box = td.getBoundingClientRect();
      edit({ x: box.left, y: box.bottom });
    });
  };
  weights.forEach((weight, k) => {
    const tableRow = document.createElement('tr');
    tableRow.dataset.k = String(k);
    const name = document.createElement('td');
    name.textContent = incomingName(current, layer, k, true);
    tableRow.appendChild(name);
    cell(tableRow, 'activation', incoming[k]);
    editable(cell(tableRow, 'weight', weight), (anchor) => editWeight(layer, neuron, k, anchor));
    cell(tableRow, 'gradient', entry.weight_gradients[neuron][k]);
    cell(tableRow, 'update', entry.weight_updates[neuron][k]);
    body.appendChild(tableRow);
  });
  const biasRow = document.createElement('tr');
  biasRow.className = 'bias';
  biasRow.innerHTML = '<td>bias</td><td></td>';
  editable(cell(biasRow, 'weight', current.layers[layer - 1].biases[neuron]), (anchor) => editBias(layer, neuron, anchor));
  cell(biasRow, 'gradient', entry.bias_gradients[neuron]);
  cell(biasRow, 'update', entry.bias_updates[neuron]);
  body.appendChild(biasRow);

  let scope = 'One example: the step itself would use the whole next batch.';
  if (trace.point) scope = 'Inputs typed in: \u0394w is what a step on this point alone would make; the real step uses the next batch.';
  else if (!single) scope = 'For a batch, z, a and \u03b4 are means over its rows and the gradients are those of its mean cost: what the next step uses.';
  $('lens-note').textContent = `${updateNote()} ${scope}`;
  $('step-backward').disabled = false;
  $('next-layer').disabled = false;
  $('grad-check').disabled = false;
  $('lens-apply').disabled = false;
  $('gradcheck').hidden = true; // a check belongs to the state it was made on
}

/** How the optimiser turns a gradient into the update \u0394w shown in the table. */
function updateNote() {
  const { optimizer, learning_rate: rate, regularization } = state.config;
  const penalty = regularization === 'none'
    ? ''
    : ` \u2202C/\u2202w includes the ${regularization.toUpperCase()} penalty's gradient on top of BP4's \u03b4a.`;
  if (optimizer === 'sgd') return `SGD: \u0394w = \u2212\u03b7 \u2202C/\u2202w with \u03b7 = ${rate}.${penalty}`;
  const names = { momentum: 'Momentum', adam: 'Adam', rmsprop: 'RMSprop' };
  return `${names[optimizer]}: \u0394w comes from the gradient and the optimiser's running averages (\u03b7 = ${rate}).${penalty}`;
}

const sleep = (milliseconds) => new Promise((resolve) => setTimeout(resolve, milliseconds));

function clearBackwardMarks() {
  delete $('network').dataset.backwardLayer;
  $('backward-banner').hidden = true;
  $('network-hint').hidden = false;
  for (const element of document.querySelectorAll('.neuron.visited, .neuron.active')) {
    element.classList.remove('visited', 'active');
    const label = element.querySelector('.delta-label');
    if (label) label.textContent = '';
  }
  for (const path of document.querySelectorAll('#links path.flow')) path.classList.remove('flow');
}

/** The selected neuron's gradient check on the next batch (the server's f64 finite differences). */
async function gradientCheck() {
  if (!state.session || !state.selected) return;
  const generation = state.generation;
  const { layer, neuron } = state.selected;
  try {
    const check = await api.gradcheck(state.session, layer, neuron);
    if (generation !== state.generation || !state.selected) return;
    const current = state.latest;
    const body = $('gradcheck-table').tBodies[0];
    body.innerHTML = '';
    for (const row of check.rows) {
      const tr = document.createElement('tr');
      const name = document.createElement('td');
      name.textContent = row.input === undefined ? 'bias' : `w from ${incomingName(current, layer, row.input, true)}`;
      tr.appendChild(name);
      for (const [className, value] of [['backprop', row.backprop], ['numeric', row.numeric], ['error', row.relative_error]]) {
        const td = document.createElement('td');
        td.className = className;
        if (value === null) {
          td.textContent = 'kink: skipped';
          td.dataset.value = '';
        } else {
          showNumber(td, value);
        }
        tr.appendChild(td);
      }
      body.appendChild(tr);
    }
    const box = $('gradcheck');
    box.dataset.max = String(check.max_relative_error);
    box.dataset.step = String(current.step);
    box.hidden = false;
    const column = box.closest('.lens-right');
    column.scrollTop = box.offsetTop - column.offsetTop;
  } catch (error) {
    showError(error);
  }
}

const BACKWARD_STEP_MS = 900;

/** Waits for the timer, or for "Next layer"; by hand (manual) only for the button. */
function nextLayerSignal(manual) {
  const timer = $('backward-timer');
  return new Promise((resolve) => {
    let handle = null;
    const done = () => {
      if (handle !== null) clearTimeout(handle);
      state.advance = null;
      timer.classList.remove('running');
      resolve();
    };
    state.advance = done;
    if (!manual) {
      // Restart the timer bar's animation: it empties while the layer is shown.
      timer.classList.remove('running');
      void timer.offsetWidth;
      timer.classList.add('running');
      handle = setTimeout(done, BACKWARD_STEP_MS);
    }
  });
}

/**
 * Walks the error from the output back to layer 1, one layer at a time, showing δ on each
 * neuron: on a timer, or by hand one layer per "Next layer" click. At layer l < L the links
 * that light up are those δ came back along, wˡ⁺¹ between layer l and layer l + 1; the
 * output's δ comes from the cost, and nothing flows on into the inputs, which have no δ.
 */
async function stepBackward(manual) {
  if (!state.trace || state.animating) return;
  state.animating = true;
  $('step-backward').disabled = true;
  const nextButton = $('next-layer');
  const lens = $('lens');
  const network = $('network');
  const steps = $('backward-steps');
  const banner = $('backward-banner');
  const current = state.latest;
  steps.innerHTML = '';
  clearBackwardMarks();
  $('network-hint').hidden = true;
  lens.dataset.backward = 'running';
  lens.dataset.backwardMode = manual ? 'manual' : 'timer';
  const layers = [...state.trace.trace.layers].sort((a, b) => b.layer - a.layer);
  const count = current.layers.length;
  try {
    for (const [index, entry] of layers.entries()) {
      const isOutput = entry.layer === count;
      for (const element of document.querySelectorAll('.neuron.active')) element.classList.remove('active');
      for (const path of document.querySelectorAll('#links path.flow')) path.classList.remove('flow');
      const neurons = state.view.neurons[entry.layer - 1];
      neurons.forEach((element, j) => {
        element.classList.add('active', 'visited');
        const label = element.querySelector('.delta-label');
        label.textContent = `\u03b4 ${short(entry.delta[j])}`;
        label.dataset.value = String(entry.delta[j]);
      });
      if (!isOutput) {
        for (const row of state.view.links[entry.layer]) for (const path of row) path.classList.add('flow');
      }
      // Set last: an observer of this attribute sees the layer complete.
      network.dataset.backwardLayer = String(entry.layer);
      const item = document.createElement('li');
      item.dataset.layer = String(entry.layer);
      item.dataset.equation = entry.equation;
      item.innerHTML = '<span class="where"></span><span class="eq"></span>';
      const where = isOutput
        ? `layer ${entry.layer} (${isCompany(current) ? 'the CEO, output' : 'output'})`
        : `layer ${entry.layer}${isCompany(current) ? ' (the managers)' : ''}`;
      item.querySelector('.where').textContent = where;
      item.querySelector('.eq').textContent = EQUATIONS[entry.equation];
      steps.appendChild(item);
      // Above the network, the whole story of this layer: where δ came from, then its gradients.
      banner.hidden = false;
      banner.innerHTML = '<b></b> <span class="eq"></span> <span class="note"></span><br><span class="then"></span>';
      banner.querySelector('b').textContent = `${where}:`;
      banner.querySelector('.eq').textContent = EQUATIONS[entry.equation];
      banner.querySelector('.note').textContent = isOutput
        ? `(${outputNote(current)})`
        : `(from layer ${entry.layer + 1} along w${superscript(entry.layer + 1)})`;
      const last = index === layers.length - 1;
      banner.querySelector('.then').textContent = `then ${EQUATIONS.BP3}, ${EQUATIONS.BP4}`;
      if (last) {
        const end = document.createElement('li');
        end.className = 'no-delta';
        end.textContent = `the inputs${isCompany(current) ? ' (the salespeople)' : ''}: no \u03b4 \u2014 they do not learn, so the error stops at layer 1`;
        steps.appendChild(end);
      }
      lens.dataset.backwardAt = String(entry.layer);
      nextButton.textContent = last ? 'Done \u2713' : 'Next layer \u25b8';
      // Only the list's own column scrolls to it (scrollIntoView would also shift the lens).
      const column = steps.closest('.lens-right');
      column.scrollTop = column.scrollHeight;
      item.classList.add('current');
      await nextLayerSignal(manual);
      item.classList.remove('current');
    }
  } finally {
    for (const element of document.querySelectorAll('.neuron.active')) element.classList.remove('active');
    for (const path of document.querySelectorAll('#links path.flow')) path.classList.remove('flow');
    delete network.dataset.backwardLayer;
    delete lens.dataset.backwardAt;
    lens.dataset.backward = 'done';
    state.animating = false;
    state.advance = null;
    nextButton.innerHTML = 'Next layer &#x25b8;';
    $('step-backward').disabled = !state.trace;
  }
}

function superscript(number) {
  const digits = '\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079';
  return String(number).split('').map((digit) => digits[Number(digit)]).join('');
}

// ---------------------------------------------------------------------------------------------
// tour: eight steps through one training step of the company network, with its live numbers.
// ---------------------------------------------------------------------------------------------

const nextFrame = () => new Promise((resolve) => requestAnimationFrame(() => resolve()));

/** The lens on the point salesperson 1 = 1, salesperson 2 = 0, bought: y = 1. */
function tourPoint() {
  $('point-x1').value = '1';
  $('point-x2').value = '0';
  $('point-y').value = '1';
  document.querySelector('input[name="lens-source"][value="point"]').checked = true;
}

/** The trace the lens shows now. */
const tourTrace = () => state.trace.trace;

const TOUR = [
  {
    title: 'The company',
    target: '#network',
    async enter() {
      if (!isCompany(state.latest) || state.config.dataset !== 'xor-table' || state.latest.epoch > 0) {
        Object.assign(state.config, structuredClone(COMPANY));
        $('csv-name').textContent = '';
        syncControls();
        await newSession('the company network: a new session with fresh weights');
        draw();
      }
      tourPoint();
      await selectNeuron(2, 0);
    },
    text: () => 'Two salespeople (the inputs X\u2081, X\u2082) report to three managers (the hidden layer), who report to the CEO (the output). '
      + 'One sale: salesperson 1 says 1, salesperson 2 says 0, and the customer bought, y = 1 (XOR: exactly one of them). '
      + 'The weights are fresh, drawn from the seed.',
  },
  {
    title: 'Forward pass',
    target: '.neuron.hidden',
    text: (tip) => {
      const trace = tourTrace();
      const managers = trace.layers[0];
      const ceo = trace.layers[1];
      tip.a = String(ceo.a[0]);
      return 'Each manager weighs the two reports and adds a bias, z = w\u00b7x + b, then squashes it, a = \u03c3(z):\n'
        + managers.z.map((z, j) => `manager ${j + 1}: z = ${fmt(z)}, a = ${fmt(managers.a[j])}`).join('\n')
        + `\nThe CEO does the same with the managers' a: z = ${fmt(ceo.z[0])}, a = ${fmt(ceo.a[0])}, the chance the customer buys.`;
    },
  },
  {
    title: 'The error at the CEO',
    target: '.neuron.output',
    text: (tip) => {
      const trace = tourTrace();
      const a = trace.layers[1].a[0];
      tip.cost = String(trace.cost);
      return `The CEO said a = ${fmt(a)}; the customer's verdict is y = 1. The cost of this sale is the cross-entropy `
        + `C = \u2212[y ln a + (1 \u2212 y) ln(1 \u2212 a)] = \u2212ln ${fmt(a)} = ${fmt(trace.cost)}: small when the CEO was sure and right.`;
    },
  },
  {
    title: '\u03b4 at the CEO (BP1)',
    target: '#lens .cards',
    text: (tip) => {
      const ceo = tourTrace().layers[1];
      tip.delta = String(ceo.delta[0]);
      tip.a = String(ceo.a[0]);
      return `How the cost changes with the CEO's z: \u03b4\u1d38 = \u2207\u2090C \u2299 \u03c3\u2032(z\u1d38), which for a sigmoid with cross-entropy is simply a \u2212 y = ${fmt(ceo.a[0])} \u2212 1 = ${fmt(ceo.delta[0])}. `
        + 'Negative: the CEO should have said more. This is the CEO\'s feedback.';
    },
  },
  {
    title: '\u03b4 at the managers (BP2)',
    target: '.neuron.hidden',
    text: (tip) => {
      const trace = tourTrace();
      const managers = trace.layers[0];
      const ceoDelta = trace.layers[1].delta[0];
      const weights = state.latest.layers[1].weights[0];
      tip.deltas = managers.delta.join(',');
      return 'The feedback goes back along the weights that carried the reports, times each manager\'s own slope: '
        + '\u03b4\u2c7c = w\u2c7c \u00b7 \u03b4\u1d38 \u00b7 \u03c3\u2032(z\u2c7c), with \u03c3\u2032 = a(1 \u2212 a):\n'
        + managers.delta.map((delta, j) => `manager ${j + 1}: ${fmt(weights[j])} \u00d7 ${fmt(ceoDelta)} \u00d7 ${fmt(managers.derivative[j])} = ${fmt(delta)}`).join('\n')
        + '\nThe salespeople get no \u03b4: they are the data, and do not learn.';
    },
  },
  {
    title: 'The gradients (BP3, BP4)',
    target: '#lens-table',
    async enter() {
      tourPoint();
      await selectNeuron(1, 1);
    },
    text: (tip) => {
      const trace = tourTrace();
      const manager = trace.layers[0];
      tip.gradients = manager.weight_gradients[1].join(',');
      return `Manager 2's bias moves with its \u03b4 (BP3): \u2202C/\u2202b = \u03b4 = ${fmt(manager.bias_gradients[1])}. `
        + `Each weight with \u03b4 times the report that came in along it (BP4): from salesperson 1, ${fmt(manager.delta[1])} \u00d7 1 = ${fmt(manager.weight_gradients[1][0])}; `
        + `from salesperson 2, ${fmt(manager.delta[1])} \u00d7 0 = ${fmt(manager.weight_gradients[1][1])}: a salesperson who said 0 changes nothing.`;
    },
  },
  {
    title: 'One update',
    target: '#lens-table',
    async enter(tip) {
      document.querySelector('input[name="lens-source"][value="batch"]').checked = true;
      await selectNeuron(1, 1);
      const before = state.latest.layers[0].weights[1][0];
      const update = tourTrace().layers[0].weight_updates[1][0];
      const reply = await api.step(state.session, { batches: 1 });
      acceptState(reply);
      await loadTrace();
      Object.assign(tip, { before: String(before), update: String(update), after: String(reply.layers[0].weights[1][0]) });
    },
    text: (tip) => `The real step uses the whole batch, all four rows of the table (their mean gradient), and the optimiser `
      + `(momentum here) turns it into \u0394w. Manager 2's weight from salesperson 1 went from ${fmt(Number(tip.before))} by ${fmt(Number(tip.update))} `
      + `to ${fmt(Number(tip.after))}. That was one step; the lens now shows the next.`,
  },
  {
    title: 'Training',
    target: '#output-map',
    async enter() {
      if (!state.latest.running) acceptState(await api.play(state.session));
    },
    text: () => 'Now the same, step after step: watch the loss fall and the map learn XOR \u2014 blue where the customer buys (exactly one salesperson says 1). '
      + 'Pause and click any neuron to see its numbers.',
  },
];

const tour = { step: 0 };

async function showTourStep(step) {
  const box = $('tour');
  for (const element of document.querySelectorAll('.tour-highlight')) element.classList.remove('tour-highlight');
  tour.step = step;
  const entry = TOUR[step];
  box.hidden = false;
  box.dataset.status = 'loading';
  for (const key of Object.keys(box.dataset)) if (!['status'].includes(key)) delete box.dataset[key];
  $('tour-title').textContent = entry.title;
  $('tour-count').textContent = `${step + 1} / ${TOUR.length}`;
  $('tour-back').disabled = step === 0;
  $('tour-next').disabled = step === TOUR.length - 1;
  try {
    const numbers = {};
    if (entry.enter) await entry.enter(numbers);
    await nextFrame();
    if (tour.step !== step) return;
    $('tour-text').textContent = entry.text(numbers);
    Object.assign(box.dataset, numbers);
    for (const element of document.querySelectorAll(entry.target)) element.classList.add('tour-highlight');
    box.dataset.step = String(step + 1);
    box.dataset.status = 'ready';
  } catch (error) {
    box.dataset.status = 'error';
    showError(error);
  }
}

function setupTour() {
  $('tour-start').addEventListener('click', () => showTourStep(0));
  $('tour-next').addEventListener('click', () => showTourStep(Math.min(TOUR.length - 1, tour.step + 1)));
  $('tour-back').addEventListener('click', () => showTourStep(Math.max(0, tour.step - 1)));
  $('tour-close').addEventListener('click', () => {
    $('tour').hidden = true;
    delete $('tour').dataset.step;
    for (const element of document.querySelectorAll('.tour-highlight')) element.classList.remove('tour-highlight');
  });
}

// ---------------------------------------------------------------------------------------------
// start: read the server's limits, then open this tab's session.
// ---------------------------------------------------------------------------------------------

async function start() {
  setupControls();
  const defaults = structuredClone(state.config);
  readUrl();
  syncControls();
  try {
    state.limits = { ...state.limits, ...(await api.limits()) };
  } catch (error) {
    showError(error);
  }
  await newSession();
  if (!state.session && location.hash) {
    // The address held settings the server refused: say so, and start from the defaults.
    const refused = $('status').textContent;
    state.config = defaults;
    syncControls();
    await newSession(`the link's settings were refused (${refused}); the defaults instead`);
  }
  document.body.dataset.ready = 'true';
}

start();
