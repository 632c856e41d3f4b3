// Widgets in the browser: Debian's Chromium, headless, driven by puppeteer-core, against JupyterLab
// 4 and Notebook 7 from the pinned environment (tests/requirements.txt: jupyterlab_widgets 3.0.16,
// the stock widget manager). Self-contained: its own simulated board, the kernel installed in a
// private Jupyter folder, one server on a free loopback port; no lock shared with the other browser
// tests. A cell makes a slider that drives the LED's PWM; the slider must render, dragging it must
// change the duty the board reports, and a reloaded page must get the widget back from the kernel
// (the control comm's request_states). Every wait is on a condition, with generous limits.
// Screenshots go to OUT_DIR (default tests/browser/out).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync, rmSync, mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const outDir = resolve(process.env.OUT_DIR || join(here, 'out'));
const bin = resolve(root, process.env.BIN || 'bin/webrepl-kernel');
const python = process.env.WEBREPL_PYTHON || join(root, '.venv', 'bin', 'python');
const chromium = process.env.CHROMIUM || '/usr/bin/chromium';
const LONG = 180_000;
const TOKEN = 'widgets-test';
const NB = 'widgets.ipynb';

const procs = []; // [name, child, output] of what the test started
let work;
let browser;

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
    s.on('error', rej);
  });
}

// Starts a process and waits until its output matches ready.
function start(name, cmd, args, env, ready) {
  const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  const entry = { name, child, output: '' };
  procs.push(entry);
  return new Promise((res, rej) => {
    const timer = setTimeout(() => rej(new Error(`${name} not ready within ${LONG} ms:\n${entry.output}`)), LONG);
    const onData = (chunk) => {
      entry.output += chunk;
      if (ready.test(entry.output)) {
        clearTimeout(timer);
        res(entry);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      rej(new Error(`${name} exited (${code}):\n${entry.output}`));
    });
  });
}

function run(cmd, args, env) {
  return new Promise((res, rej) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (c) => { out += c; });
    child.stderr.on('data', (c) => { out += c; });
    child.on('exit', (code) => (code === 0 ? res(out) : rej(new Error(`${cmd} ${args.join(' ')}: exit ${code}\n${out}`))));
  });
}

// Ends what the test started, newest first, with SIGTERM (Jupyter then shuts its kernels down).
async function stopAll() {
  for (const { child } of procs.reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    await exited;
    clearTimeout(timer);
  }
}

let jupyterEnv;
let boardPort;

before(async () => {
  mkdirSync(outDir, { recursive: true });
  work = mkdtempSync(join(tmpdir(), 'webrepl-widgets-'));
  boardPort = await freePort();
  await start('board', bin, ['sim', '--addr', `127.0.0.1:${boardPort}`, '--password', 'widgets1'], {}, /WebREPL at ws:/);
  const data = join(work, 'data');
  jupyterEnv = {
    JUPYTER_PATH: data, JUPYTER_DATA_DIR: data, JUPYTER_CONFIG_DIR: join(work, 'config'),
    JUPYTER_RUNTIME_DIR: join(work, 'runtime'), JUPYTER_PLATFORM_DIRS: '0',
  };
  await run(bin, ['install', '--user', '--url', `ws://127.0.0.1:${boardPort}/`, '--password', 'widgets1'], jupyterEnv);
  mkdirSync(join(work, 'nb'));
  const cell = (id, source) => ({ cell_type: 'code', execution_count: null, id, metadata: {}, outputs: [], source });
  // One notebook per frontend, so that neither opens the other's saved outputs.
  const notebook = JSON.stringify({
    cells: [
      cell('make', "from machine import PWM, Pin\nfrom jupyter.widgets import IntSlider\nled = PWM(Pin(2), freq=1000, duty=0)\ns = IntSlider(0, 1023, value=0, description='LED', on_change=led.duty)"),
      cell('ask', "print('duty', led.duty(), 'value', s.value)"),
    ],
    metadata: { kernelspec: { name: 'micropython-webrepl', display_name: 'MicroPython (WebREPL)', language: 'python' } },
    nbformat: 4, nbformat_minor: 5,
  });
  for (const app of ['jupyterlab', 'notebook']) writeFileSync(join(work, 'nb', `${app}-${NB}`), notebook);
  browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    userDataDir: join(work, 'chromium-profile'),
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  if (browser) await browser.close();
  await stopAll();
  if (work) rmSync(work, { recursive: true, force: true });
});

// Starts app (jupyterlab or notebook) on a free port; returns its base URL.
async function startServer(app) {
  const port = await freePort();
  const server = await start(app, python, ['-m', app, '--no-browser', '--allow-root', '--ip', '127.0.0.1', '--port', String(port),
    `--ServerApp.token=${TOKEN}`, `--ServerApp.root_dir=${join(work, 'nb')}`, '--ServerApp.port_retries=0'],
  jupyterEnv, new RegExp(`http://127\\.0\\.0\\.1:${port}/`));
  return { base: `http://127.0.0.1:${port}/`, server };
}

// Stops one server (SIGTERM: it shuts its kernel down, which lets go of the board).
async function stopServer({ child }) {
  procs.splice(procs.findIndex((p) => p.child === child), 1);
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

const sleepless = (page, fn, arg) => page.waitForFunction(fn, { timeout: LONG, polling: 200 }, arg);

// Runs code cell i with the toolbar's run button, as a person would, until its prompt shows it
// queued or run: a click that comes while the page is still wiring its session to the kernel is
// lost (seen in Notebook 7 right after the kernel reports idle), and a person clicks again.
async function runCell(page, i) {
  const prompt = (i) => document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')[i].textContent;
  const before = await page.evaluate(prompt, i);
  for (let attempt = 1; ; attempt++) {
    const cells = await page.$$('.jp-Notebook .jp-CodeCell');
    await cells[i].click();
    await sleepless(page, (i) => document.querySelectorAll('.jp-Notebook .jp-CodeCell')[i].classList.contains('jp-mod-selected'), i);
    await page.click('.jp-NotebookPanel-toolbar [data-command="notebook:run-cell-and-select-next"]');
    try {
      await page.waitForFunction((i, before) => document.querySelectorAll('.jp-Notebook .jp-CodeCell .jp-InputPrompt')[i].textContent !== before,
        { timeout: 15_000, polling: 200 }, i, before);
      return;
    } catch (e) {
      if (attempt === 3) throw new Error(`cell ${i} did not start after 3 clicks on run: ${e.message}`);
    }
  }
}

async function checkUI(app, path) {
  const { base, server } = await startServer(app);
  const page = await browser.newPage();
  page.setDefaultTimeout(LONG);
  // A page left with unsaved changes asks before it reloads (Notebook 7): leave it.
  page.on('dialog', (d) => d.accept().catch(() => {}));
  await page.setViewport({ width: 1280, height: 1000 });
  try {
    await page.goto(`${base}${path}${app}-${NB}?token=${TOKEN}`, { waitUntil: 'load', timeout: LONG });
    await page.waitForSelector('.jp-Notebook .jp-CodeCell', { timeout: LONG });
    // The notebook has its kernel, idle.
    await sleepless(page, () => /MicroPython \(WebREPL\)/.test(document.body.innerText) &&
      document.querySelector('.jp-Notebook-ExecutionIndicator[data-status="idle"]') !== null);
    await runCell(page, 0);
    await page.waitForSelector('.widget-slider .noUi-handle', { timeout: LONG });
    const readout = () => page.$eval('.widget-readout', (e) => e.textContent.trim());
    assert.equal(await readout(), '0');
    // Drag the handle to the right, in steps, as a hand would.
    const track = await (await page.$('.widget-slider .noUi-base')).boundingBox();
    const handle = await (await page.$('.widget-slider .noUi-handle')).boundingBox();
    const y = handle.y + handle.height / 2;
    await page.mouse.move(handle.x + handle.width / 2, y);
    await page.mouse.down();
    for (let i = 1; i <= 10; i++) await page.mouse.move(handle.x + (track.width * 0.6 * i) / 10, y, { steps: 2 });
    await page.mouse.up();
    await sleepless(page, () => document.querySelector('.widget-readout').textContent.trim() !== '0');
    const dragged = await readout();
    // Ask the board: the next cell waits behind the slider's updates on the kernel's shell queue.
    await runCell(page, 1);
    await sleepless(page, () => [...document.querySelectorAll('.jp-OutputArea-output')].some((e) => /duty \d+ value \d+/.test(e.textContent)));
    const said = await page.$$eval('.jp-OutputArea-output', (es) => es.map((e) => e.textContent).join(' '));
    const m = said.match(/duty (\d+) value (\d+)/);
    assert.deepEqual([m[1], m[2]], [dragged, dragged], `the board says ${m[0]}, the slider shows ${dragged}`);
    assert.ok(Number(dragged) > 100, `dragging moved the slider only to ${dragged}`);

    // Saved and reloaded: the view in the cell gets its model back from the kernel.
    await page.click('.jp-NotebookPanel-toolbar [data-command="docmanager:save"]');
    await sleepless(page, () => !document.querySelector('.jp-mod-dirty'));
    await page.reload({ waitUntil: 'load' });
    await page.waitForSelector('.widget-slider .noUi-handle', { timeout: LONG });
    await sleepless(page, (v) => document.querySelector('.widget-readout')?.textContent.trim() === v, dragged);
  } finally {
    await page.screenshot({ path: join(outDir, `widgets-${app}.png`) }).catch((e) => console.error(`screenshot: ${e}`));
    await page.close();
    await stopServer(server);
  }
}

test('JupyterLab 4: a board slider renders, drives the PWM duty and comes back after a reload', async () => {
  await checkUI('jupyterlab', 'lab/tree/');
});

test('Notebook 7: the same', async () => {
  await checkUI('notebook', 'notebooks/');
});
