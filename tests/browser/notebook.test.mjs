// The browser test: Debian's Chromium, headless, driven by puppeteer-core, against the setup of
// `make notebook` (scripts/notebook.sh: a simulated board, the kernel installed for it in a
// private Jupyter folder, Jupyter Notebook 6 on loopback). It opens lesson 1 with its outputs
// cleared, runs all cells from the Cell menu and compares what the page shows with the lesson's
// stored outputs; then Tab after `machine.P` must offer `Pin`, and the stop button must end a
// sleeping loop with KeyboardInterrupt. Every wait is on a condition, with generous limits for a
// loaded machine. A screenshot (and the server's folder, with its log) is left in OUT_DIR
// (default tests/browser/out), next to the log `make test-browser` writes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, readdirSync, copyFileSync, rmSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const outDir = resolve(process.env.OUT_DIR || join(here, 'out'));
const bin = resolve(root, process.env.BIN || 'bin/webrepl-kernel');
const chromium = process.env.CHROMIUM || '/usr/bin/chromium';
const LESSON = '01-hello-board.ipynb';
const LONG = 180_000; // the most any one condition may take on a busy machine

let server; // the scripts/notebook.sh process
let serverOutput = '';
let browser;
let page;
let baseURL; // http://127.0.0.1:PORT/
let token;

// Starts scripts/notebook.sh on a copy of the lessons whose outputs are cleared, and waits for
// the URL it prints.
async function startNotebook() {
  const lessons = join(outDir, 'lessons');
  const work = join(outDir, 'work');
  rmSync(lessons, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
  mkdirSync(lessons, { recursive: true });
  for (const name of readdirSync(join(root, 'notebooks'))) {
    if (name.endsWith('.ipynb')) copyFileSync(join(root, 'notebooks', name), join(lessons, name));
  }
  const nb = JSON.parse(readFileSync(join(lessons, LESSON), 'utf8'));
  for (const cell of nb.cells) {
    if (cell.cell_type === 'code') {
      cell.outputs = [];
      cell.execution_count = null;
    }
  }
  writeFileSync(join(lessons, LESSON), JSON.stringify(nb, null, 1) + '\n');

  server = spawn(join(root, 'scripts', 'notebook.sh'), [bin], {
    env: { ...process.env, NOTEBOOK_DIR: lessons, NOTEBOOK_WORK: work, NOTEBOOK_PORT: process.env.NOTEBOOK_PORT || '18888' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const url = await new Promise((resolveURL, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL from scripts/notebook.sh within ${LONG} ms:\n${serverOutput}`)), LONG);
    const onData = (chunk) => {
      serverOutput += chunk;
      const m = serverOutput.match(/(http:\/\/127\.0\.0\.1:\d+\/)tree\?token=([0-9a-f]+)/);
      if (m) {
        clearTimeout(timer);
        resolveURL(m);
      }
    };
    server.stdout.on('data', onData);
    server.stderr.on('data', onData);
    server.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`scripts/notebook.sh exited (${code}):\n${serverOutput}`));
    });
  });
  [, baseURL, token] = url;
}

// Stops the server as Ctrl-C would (its trap stops Jupyter, the kernels and the board).
async function stopNotebook() {
  if (!server || server.exitCode !== null) return;
  const exited = new Promise((r) => server.once('exit', r));
  server.kill('SIGINT');
  const timer = setTimeout(() => server.kill('SIGKILL'), 60_000);
  await exited;
  clearTimeout(timer);
}

before(async () => {
  mkdirSync(outDir, { recursive: true });
  await startNotebook();
  browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    userDataDir: join(outDir, 'chromium-profile'),
    // No sandbox as root; no background connections (the machine has no network but loopback).
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = await browser.newPage();
  page.setDefaultTimeout(LONG);
  await page.setViewport({ width: 1280, height: 1600 });
  await page.goto(`${baseURL}notebooks/${LESSON}?token=${token}`, { waitUntil: 'load', timeout: LONG });
  // The kernel has answered kernel_info: the notebook is connected to it.
  await page.waitForFunction(() => {
    const k = window.Jupyter && Jupyter.notebook && Jupyter.notebook.kernel;
    return Boolean(k && k.info_reply && k.info_reply.implementation);
  }, { timeout: LONG });
});

after(async () => {
  if (page) {
    await page.screenshot({ path: join(outDir, 'notebook.png'), fullPage: true }).catch((e) => console.error(`screenshot: ${e}`));
  }
  if (browser) await browser.close();
  await stopNotebook();
  rmSync(join(outDir, 'chromium-profile'), { recursive: true, force: true });
  console.log(`browser test: screenshot ${join(outDir, 'notebook.png')}, server folder ${join(outDir, 'work')}`);
});

// What a stored output shows on the page, as lines.
function storedText(outputs) {
  const text = (v) => (Array.isArray(v) ? v.join('') : v || '');
  const parts = [];
  for (const o of outputs) {
    if (o.output_type === 'stream') parts.push(text(o.text));
    else if (o.output_type === 'execute_result' || o.output_type === 'display_data') parts.push(text(o.data['text/plain']));
    else if (o.output_type === 'error') parts.push(o.traceback.join('\n').replace(/\x1b\[[0-9;]*[A-Za-z]/g, ''));
  }
  return normalise(parts.join('\n'));
}

function normalise(s) {
  return s.split('\n').map((l) => l.replace(/\s+$/, '')).filter((l) => l !== '').join('\n');
}

// Waits until no cell is queued or running and the kernel says idle.
async function waitIdle() {
  await page.waitForFunction(() => {
    const cells = Jupyter.notebook.get_cells().filter((c) => c.cell_type === 'code');
    const running = cells.some((c) => c.element[0].querySelector('.input_prompt').innerText.includes('*'));
    return !running && document.querySelector('#kernel_indicator_icon').classList.contains('kernel_idle_icon');
  }, { timeout: LONG, polling: 200 });
}

// What the page shows as the outputs of code cell i.
async function shownText(i) {
  const raw = await page.evaluate((i) => {
    const cell = Jupyter.notebook.get_cells().filter((c) => c.cell_type === 'code')[i];
    return [...cell.element[0].querySelectorAll('.output_subarea')].map((e) => e.innerText).join('\n');
  }, i);
  return normalise(raw);
}

// Opens a menu and clicks one of its items, as a person would.
async function menu(menuID, itemID) {
  await page.click(`#${menuID}`);
  await page.waitForSelector(`#${itemID} > a`, { visible: true });
  await page.click(`#${itemID} > a`);
}

// Adds a code cell at the end holding source (typed into the editor) and selects it.
async function newCell(source) {
  await page.evaluate(() => {
    const nb = Jupyter.notebook;
    nb.select(nb.ncells() - 1);
    nb.insert_cell_below('code');
    nb.select_next();
    nb.edit_mode();
  });
  await page.waitForFunction(() => Jupyter.notebook.get_selected_cell().code_mirror.hasFocus(), { timeout: LONG });
  await page.keyboard.type(source);
  return page.evaluate(() => Jupyter.notebook.get_cells().filter((c) => c.cell_type === 'code').length - 1);
}

test('Run All shows every stored output of lesson 1', async () => {
  await menu('celllink', 'run_all_cells');
  const stored = JSON.parse(readFileSync(join(root, 'notebooks', LESSON), 'utf8')).cells.filter((c) => c.cell_type === 'code');
  // Every cell has run: its prompt holds a number.
  await page.waitForFunction((n) => {
    const cells = Jupyter.notebook.get_cells().filter((c) => c.cell_type === 'code');
    return cells.length === n && cells.every((c) => typeof c.input_prompt_number === 'number');
  }, { timeout: LONG, polling: 200 }, stored.length);
  await waitIdle();
  for (let i = 0; i < stored.length; i++) {
    const shown = await shownText(i);
    const tags = (stored[i].metadata && stored[i].metadata.tags) || [];
    if (tags.includes('output-varies')) {
      assert.notEqual(shown, '', `cell ${i + 1} (output-varies) shows nothing`);
      continue;
    }
    assert.equal(shown, storedText(stored[i].outputs), `cell ${i + 1}: what the page shows differs from the stored outputs`);
  }
});

test('Tab after machine.P offers Pin', async () => {
  const i = await newCell('import machine');
  await page.keyboard.down('Shift');
  await page.keyboard.press('Enter');
  await page.keyboard.up('Shift');
  await page.waitForFunction((i) => {
    const c = Jupyter.notebook.get_cells().filter((c) => c.cell_type === 'code')[i];
    return typeof c.input_prompt_number === 'number';
  }, { timeout: LONG, polling: 200 }, i);
  await waitIdle();
  const j = await newCell('machine.P');
  await page.keyboard.press('Tab');
  // Several matches open the completer's list; a single one would be inserted.
  const offered = await page.waitForFunction((j) => {
    const options = [...document.querySelectorAll('.completions select option')].map((o) => o.textContent);
    if (options.length) return options;
    const c = Jupyter.notebook.get_cells().filter((c) => c.cell_type === 'code')[j];
    return c.get_text() !== 'machine.P' ? [c.get_text()] : false;
  }, { timeout: LONG, polling: 200 }, j).then((h) => h.jsonValue());
  assert.ok(offered.some((o) => /(^|\.)Pin$/.test(o)), `completions offered: ${JSON.stringify(offered)}`);
  await page.keyboard.press('Escape');
  await page.evaluate(() => Jupyter.notebook.delete_cell(Jupyter.notebook.ncells() - 1)); // the completion cell
});

test('the stop button ends a sleeping loop with KeyboardInterrupt', async () => {
  const i = await newCell("import time\nprint('looping')\nwhile True: time.sleep(0.1)");
  await page.keyboard.down('Shift');
  await page.keyboard.press('Enter');
  await page.keyboard.up('Shift');
  // The loop is running: its first line is on the page and the cell is still busy.
  await page.waitForFunction((i) => {
    const c = Jupyter.notebook.get_cells().filter((c) => c.cell_type === 'code')[i];
    return c.element[0].innerText.includes('looping') && c.element[0].querySelector('.input_prompt').innerText.includes('*');
  }, { timeout: LONG, polling: 200 }, i);
  await page.click('button[data-jupyter-action="jupyter-notebook:interrupt-kernel"]');
  // The cell ends (the reply, on shell) and shows the error (on iopub: it may come second).
  const ended = await page.waitForFunction((i) => {
    const c = Jupyter.notebook.get_cells().filter((c) => c.cell_type === 'code')[i];
    return typeof c.input_prompt_number === 'number' && c.output_area.outputs.some((o) => o.output_type === 'error');
  }, { timeout: LONG, polling: 200 }, i).then(() => true, () => false);
  const shown = await shownText(i);
  assert.ok(ended, `the cell did not end with an error after the stop button; it shows:\n${shown}`);
  assert.match(shown, /KeyboardInterrupt/, `the interrupted cell shows:\n${shown}`);
  await waitIdle();
});
