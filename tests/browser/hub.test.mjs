// The hub in a browser: Debian's Chromium, headless, driven by puppeteer-core, against `make hub`
// (scripts/hub.sh: JupyterHub 6 on loopback from examples/jupyterhub, one learner with a
// simulated board from the board map). A learner logs in on the hub's login page, the hub starts
// their JupyterLab on lesson 1 (copied into their folder by the hub), they clear its outputs, run
// all cells from the Run menu, and the page must show the lesson's stored outputs; %board then
// says the board came from the board map. Every wait is on a condition, with generous limits for a
// loaded machine. Screenshots and the hub's folder (jupyterhub.log) are left in OUT_DIR (default
// tests/browser/out).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer from 'puppeteer-core';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const outDir = resolve(process.env.OUT_DIR || join(here, 'out'));
const bin = resolve(root, process.env.BIN || 'bin/webrepl-kernel');
const chromium = process.env.CHROMIUM || '/usr/bin/chromium';
const LESSON = '01-hello-board.ipynb';
const LEARNER = 'learner01';
const PASSWORD = 'hub-browser-test';
const LONG = 240_000; // the most any one condition may take on a busy machine

let hub; // the scripts/hub.sh process
let hubOutput = '';
let hubURL;
let browser;
let page;
const work = join(outDir, 'hub-work');
const log = (s) => console.log(`hub browser test: ${s}`);

// A free port on loopback for the hub (other tests may run beside this one).
function freePort() {
  return new Promise((resolvePort, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolvePort(port));
    });
  });
}

async function startHub() {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  hub = spawn(join(root, 'scripts', 'hub.sh'), [bin], {
    env: {
      ...process.env, HUB_LEARNERS: '1', HUB_PASSWORD: PASSWORD, HUB_WORK: work,
      HUB_PORT: process.env.HUB_PORT || String(await freePort()), WEBREPL_HUB_EXPOSE_APP: '1',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  hubURL = await new Promise((resolveURL, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URL from scripts/hub.sh within ${LONG} ms:\n${hubOutput}`)), LONG);
    const onData = (chunk) => {
      hubOutput += chunk;
      const m = hubOutput.match(/(http:\/\/127\.0\.0\.1:\d+)\/hub\/login/);
      if (m) {
        clearTimeout(timer);
        resolveURL(m[1]);
      }
    };
    hub.stdout.on('data', onData);
    hub.stderr.on('data', onData);
    hub.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`scripts/hub.sh exited (${code}):\n${hubOutput}`));
    });
  });
}

// Stops the hub as Ctrl-C would: its trap stops the hub, which stops the learner's server (its
// kernel logs out of the board), then the boards.
async function stopHub() {
  if (!hub || hub.exitCode !== null) return;
  const exited = new Promise((r) => hub.once('exit', r));
  hub.kill('SIGINT');
  const timer = setTimeout(() => hub.kill('SIGKILL'), 120_000);
  await exited;
  clearTimeout(timer);
}

function normalise(s) {
  return s.split('\n').map((l) => l.replace(/\s+$/, '')).filter((l) => l !== '').join('\n');
}

// What a stored output shows on the page.
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

// Waits for fn(arg) in the page; on timeout a screenshot and what the page showed.
async function until(what, fn, arg, diagnose) {
  try {
    const h = await page.waitForFunction(fn, { timeout: LONG, polling: 250 }, arg);
    return await h.jsonValue();
  } catch (e) {
    let seen = '';
    try {
      seen = diagnose ? await page.evaluate(diagnose, arg) : (await page.evaluate(() => document.body.innerText)).slice(0, 500);
    } catch (d) {
      seen = `(no diagnosis: ${d.message})`;
    }
    const shot = join(outDir, 'hub-FAILED.png');
    await page.screenshot({ path: shot }).catch(() => {});
    throw new Error(`${what}: not within ${LONG} ms (${e.message.split('\n')[0]}); the page (${page.url()}) shows: ${seen}; screenshot ${shot}`);
  }
}

// Lookups in JupyterLab's page (the hub's config exposes the app when WEBREPL_HUB_EXPOSE_APP is set).
const panel = (path) => {
  const app = window.jupyterapp;
  return app ? [...app.shell.widgets('main')].find((w) => w.context && w.context.path === path) || null : null;
};

before(async () => {
  mkdirSync(outDir, { recursive: true });
  await startHub();
  log(`hub at ${hubURL}`);
  browser = await puppeteer.launch({
    executablePath: chromium,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run'],
  });
  page = await browser.newPage();
  await page.setViewport({ width: 1400, height: 1000 });
  await page.evaluateOnNewDocument(`window.__panel = ${panel.toString()};`);
});

after(async () => {
  if (browser) await browser.close().catch(() => {});
  await stopHub();
  log(`hub folder (jupyterhub.log) ${work}`);
});

test('a learner logs in on the hub, gets lesson 1 in JupyterLab, and Run All shows its stored outputs', async () => {
  await page.goto(`${hubURL}/hub/login`, { waitUntil: 'load', timeout: LONG });
  await page.type('#username_input', LEARNER);
  await page.type('#password_input', PASSWORD);
  await Promise.all([page.waitForNavigation({ timeout: LONG }).catch(() => {}), page.click('#login_submit')]);
  // The hub starts the server (spawn-pending) and sends the browser on to the lesson.
  await until('JupyterLab opened lesson 1 with its kernel idle', (p) => {
    const w = window.__panel && window.__panel(p);
    const k = w && w.sessionContext.session && w.sessionContext.session.kernel;
    return k && k.status === 'idle' && w.content.widgets.length > 0;
  }, LESSON);
  assert.match(page.url(), new RegExp(`/user/${LEARNER}/lab`), 'the learner is in their own server');
  await page.screenshot({ path: join(outDir, 'hub-opened.png') });
  const stored = JSON.parse(readFileSync(join(root, 'notebooks', LESSON), 'utf8')).cells;
  const code = stored.map((c, i) => (c.cell_type === 'code' ? i : -1)).filter((i) => i >= 0);
  assert.equal(await page.evaluate((p) => window.__panel(p).content.widgets.length, LESSON), stored.length,
    'the learner\'s copy holds every cell of the lesson');

  // Clear the copy's outputs, then Run All, from the menus as a learner does.
  for (const [menu, command] of [['Edit', 'editmenu:clear-all'], ['Run', 'runmenu:run-all']]) {
    const items = await page.$$('.lm-MenuBar-item');
    let opened = false;
    for (const item of items) {
      if ((await item.evaluate((e) => e.textContent.trim())) === menu) {
        await item.click();
        opened = true;
        break;
      }
    }
    assert.ok(opened, `JupyterLab has a ${menu} menu`);
    const sel = `.lm-Menu-item[data-command="${command}"]`;
    await until(`the ${menu} menu shows ${command}`, (s) => {
      const e = document.querySelector(s);
      return e && e.offsetParent !== null;
    }, sel);
    await page.click(sel);
    if (command === 'editmenu:clear-all') {
      await until('every output cleared', (a) => a.code.every((i) => window.__panel(a.p).content.widgets[i].model.outputs.length === 0), { p: LESSON, code });
    }
  }
  const finished = (a) => a.code.every((i) => {
    const c = window.__panel(a.p).content.widgets[i];
    const prompt = c.node.querySelector('.jp-InputPrompt');
    return c.model.executionCount !== null && prompt && !prompt.textContent.includes('*');
  }) && window.__panel(a.p).sessionContext.session.kernel.status === 'idle';
  await until('Run All: every code cell ran', finished, { p: LESSON, code }, (a) => a.code.map((i) => {
    const c = window.__panel(a.p).content.widgets[i];
    return `cell ${i}: count ${c.model.executionCount}`;
  }).join(', '));
  await page.screenshot({ path: join(outDir, 'hub-run-all.png'), fullPage: true });
  for (const i of code) {
    const shown = normalise(await page.evaluate((p, i) => [...window.__panel(p).content.widgets[i].node.querySelectorAll('.jp-OutputArea-output')]
      .map((e) => e.innerText).join('\n'), LESSON, i));
    const tags = (stored[i].metadata && stored[i].metadata.tags) || [];
    if (tags.includes('output-varies')) {
      assert.notEqual(shown, '', `cell ${i} (output-varies) shows nothing`);
      continue;
    }
    assert.equal(shown, storedText(stored[i].outputs), `cell ${i}: what the page shows differs from the stored outputs`);
  }
  log(`${LESSON}: ${code.length} code cells as stored, through the hub`);

  // %board: the learner's board came from the board map, by their hub name.
  const n = await page.evaluate((p) => {
    const nb = window.__panel(p).content;
    const at = nb.model.sharedModel.cells.length;
    nb.model.sharedModel.insertCell(at, { cell_type: 'code', source: '%board', metadata: {} });
    nb.activeCellIndex = at;
    return at;
  }, LESSON);
  // Run it as a learner does: Ctrl-Enter in the cell's editor.
  await page.evaluate((p, n) => window.__panel(p).content.widgets[n].node.scrollIntoView({ block: 'center' }), LESSON, n);
  const editor = await page.waitForFunction((p, n) => window.__panel(p).content.widgets[n].node.querySelector('.cm-content'),
    { timeout: LONG, polling: 250 }, LESSON, n);
  await editor.asElement().click();
  await page.keyboard.down('Control');
  await page.keyboard.press('Enter');
  await page.keyboard.up('Control');
  const board = await until('%board answered', (a) => {
    const c = window.__panel(a.p).content.widgets[a.n];
    const t = c ? [...c.node.querySelectorAll('.jp-OutputArea-output')].map((e) => e.innerText).join('\n') : '';
    return t.includes('Chosen by') && t;
  }, { p: LESSON, n });
  assert.match(board, new RegExp(`board map .*boards\\.conf:\\d+ \\(${LEARNER} =`), '%board names the learner\'s line of the map');
});
