// One frontend (JupyterLab 4 or Notebook 7) for a browser test file of its own: the Jupyter
// server and simulated board of lib/server.mjs in a folder of the file's own (OUT_DIR/<label>),
// Debian's Chromium headless, pages with the helpers of lib/page.mjs and their console errors
// recorded, and the check after every step (no unexpected console error, no dialog).
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';
import { startJupyter, LONG } from './server.mjs';
import { Driver, PAGE_HELPERS } from './page.mjs';

export class Frontend {
  // label names the file's folder and screenshots (e.g. 'live'); settings are extra user
  // settings, { 'ext-id/plugin': {...} }, written before the first page loads.
  constructor({ ui, label, root, bin, python, outDir, chromium, settings = {} }) {
    Object.assign(this, { ui, label, root, bin, python, outDir, chromium, settings });
    this.name = ui === 'lab' ? 'JupyterLab 4' : 'Notebook 7';
    this.pages = [];
    this.baseline = [];
    this.stepNo = 0;
    this.log = (line) => console.log(`[${label} ${ui}] ${line}`);
  }

  // The next screenshot's name: label-NN-step.
  shot(step) {
    return `${this.label}-${String(++this.stepNo).padStart(2, '0')}-${step}`;
  }

  async start() {
    mkdirSync(this.outDir, { recursive: true });
    const t0 = Date.now();
    this.srv = await startJupyter({ ui: this.ui, root: this.root, bin: this.bin, python: this.python, outDir: join(this.outDir, this.label) });
    this.log(`jupyter ${this.ui} at ${this.srv.baseURL} in ${Date.now() - t0} ms (log ${this.srv.jupyterLog})`);
    // User settings, as Settings → Settings Editor writes them (both frontends read them).
    for (const [id, value] of Object.entries(this.settings)) {
      const dir = join(this.srv.work, 'config', 'lab', 'user-settings', ...id.split('/').slice(0, -1));
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, `${id.split('/').at(-1)}.jupyterlab-settings`), JSON.stringify(value));
    }
    this.profile = join(this.outDir, this.label, `${this.ui}-chromium-profile`);
    rmSync(this.profile, { recursive: true, force: true });
    this.browser = await puppeteer.launch({
      executablePath: this.chromium,
      headless: true,
      userDataDir: this.profile,
      protocolTimeout: LONG,
      handleSIGINT: false, handleSIGTERM: false, handleSIGHUP: false,
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    // Baseline: the errors the frontend logs on its file browser page with no kernel.
    const tree = await this.newPage('file browser');
    const treeURL = this.ui === 'lab' ? `${this.srv.baseURL}lab?token=${this.srv.token}` : `${this.srv.baseURL}tree?token=${this.srv.token}`;
    await tree.goto(treeURL, { waitUntil: 'load', timeout: LONG });
    await tree.waitForSelector('.jp-DirListing-item', { timeout: LONG });
    this.baseline = this.pages[0].errors.splice(0);
    for (const e of this.baseline) this.log(`the frontend's own error on its file browser page: ${e}`);
    await tree.close();
    this.pages.length = 0;
    this.d = new Driver({ page: await this.newPage('notebook page'), ui: this.ui, outDir: this.outDir, log: this.log });
  }

  async stop() {
    if (this.browser) await this.browser.close().catch((e) => this.log(`closing Chromium: ${e.message}`));
    if (this.srv) await this.srv.stop();
    if (this.profile) rmSync(this.profile, { recursive: true, force: true });
    this.log(`server folder (logs) ${this.srv ? this.srv.work : '-'}`);
  }

  // A browser tab with the helpers installed and its console errors recorded.
  async newPage(label) {
    const page = await this.browser.newPage();
    page.setDefaultTimeout(LONG);
    await page.setViewport({ width: 1280, height: 1000 });
    await page.evaluateOnNewDocument(PAGE_HELPERS);
    const rec = { label, page, errors: [] };
    page.on('console', (m) => {
      if (m.type() === 'error') rec.errors.push(`console.error: ${m.text()}`);
    });
    page.on('pageerror', (e) => rec.errors.push(`uncaught: ${e.message.split('\n')[0]}`));
    page.on('dialog', (dlg) => {
      rec.errors.push(`browser dialog: ${dlg.message()}`);
      dlg.dismiss().catch(() => {});
    });
    this.pages.push(rec);
    return page;
  }

  // A new empty notebook on the board's kernel in the served folder.
  newNotebook(path) {
    writeFileSync(join(this.srv.lessonsDir, path), JSON.stringify({
      nbformat: 4, nbformat_minor: 5, cells: [],
      metadata: { kernelspec: { name: 'micropython-webrepl', display_name: 'MicroPython (WebREPL)', language: 'python' } },
    }));
  }

  // Opens path in the main page with its kernel idle: Notebook 7 shows one notebook per page; in
  // Lab the notebooks open before are saved and closed, and path opens in the same page.
  async open(path) {
    const { d, srv } = this;
    if (this.ui === 'lab') {
      if (!d.page.url().includes('/lab')) {
        await d.page.goto(`${srv.baseURL}lab?token=${srv.token}`, { waitUntil: 'load', timeout: LONG });
      }
      await this.labReady();
      await d.page.evaluate(async (p) => {
        for (const w of [...jupyterapp.shell.widgets('main')]) {
          if (!w.context || w.context.path === p) continue;
          await w.context.save();
          w.close();
        }
        await jupyterapp.commands.execute('docmanager:open', { path: p });
      }, path);
    } else {
      await d.page.goto(`${srv.baseURL}notebooks/${path}?token=${srv.token}`, { waitUntil: 'load', timeout: LONG });
    }
    await d.waitPanel(path);
  }

  // JupyterLab started and its layout restored; the file browser off, for room.
  async labReady() {
    const { d } = this;
    await d.until('JupyterLab started', () => window.jupyterapp && document.querySelector('.jp-DirListing-item'), null);
    await d.page.evaluate(async () => {
      await jupyterapp.restored;
      if (jupyterapp.shell.leftCollapsed === false) await jupyterapp.commands.execute('application:toggle-left-area');
    });
  }

  // The browser's Reload of the page showing path; back with its kernel idle.
  async reload(path) {
    await this.d.page.reload({ waitUntil: 'load', timeout: LONG });
    if (this.ui === 'lab') await this.open(path);
    else await this.d.waitPanel(path);
  }

  // Saves path, shuts its kernel down (the board let go) and closes it: Lab closes its tab,
  // Notebook 7's page goes to the file browser.
  async close(path) {
    const { d, srv } = this;
    await d.page.evaluate(async (p) => {
      await window.__t.panel(p).context.save();
      await window.__t.panel(p).sessionContext.shutdown();
    }, path);
    if (this.ui === 'lab') {
      await d.page.evaluate((p) => window.__t.panel(p).close(), path);
      await d.until(`${path} closed`, (p) => !window.__t.panel(p), path);
    } else {
      await d.page.goto(`${srv.baseURL}tree?token=${srv.token}`, { waitUntil: 'load', timeout: LONG });
      await d.page.waitForSelector('.jp-DirListing-item', { timeout: LONG });
    }
  }

  // Errors logged so far that the frontend does not show on its own (baseline), and no dialog
  // open: the check after every step.
  async clean(step) {
    const unexpected = [];
    for (const rec of this.pages) {
      for (const e of rec.errors.splice(0)) {
        if (this.baseline.includes(e)) this.log(`${rec.label}: the frontend's own (also on its file browser page): ${e}`);
        else unexpected.push(`${rec.label}: ${e}`);
      }
    }
    const open = [];
    for (const rec of this.pages) if (!rec.page.isClosed()) open.push(...(await rec.page.evaluate(() => (window.__t ? window.__t.dialogs() : []))));
    assert.deepEqual(unexpected, [], `${this.name}, ${step}: errors in the browser console`);
    assert.deepEqual(open, [], `${this.name}, ${step}: a dialog is open`);
  }
}
