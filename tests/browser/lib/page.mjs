// What the browser tests do in a page of JupyterLab 4 or Notebook 7: both are built from the same
// JupyterLab components (NotebookPanel, CodeConsole, Completer, Tooltip, Stdin), so one set of
// helpers drives both. The server runs with expose_app_in_browser, so the page's `jupyterapp`
// finds a notebook panel by its path; everything a user does (menus, toolbar buttons, typing,
// keys, dialogs) is done with the mouse and keyboard.
import { join } from 'node:path';
import { LONG } from './server.mjs';

// Defined in every page before its own scripts run: lookups used by the waits below.
export const PAGE_HELPERS = `
window.__t = {
  panel(path) {
    const app = window.jupyterapp;
    if (!app) return null;
    return [...app.shell.widgets('main')].find((w) => w.context && w.context.path === path) || null;
  },
  cell(path, i) {
    const p = this.panel(path);
    return p ? p.content.widgets[i] : null;
  },
  kernelStatus(path) {
    const p = this.panel(path);
    const k = p && p.sessionContext.session && p.sessionContext.session.kernel;
    return k ? k.status : 'no kernel';
  },
  // A code cell that has run and finished: it has a count, its prompt has no '*', and the
  // kernel is idle (outputs come before idle on iopub).
  finished(path, i) {
    const c = this.cell(path, i);
    if (!c || c.model.type !== 'code') return false;
    const prompt = c.node.querySelector('.jp-InputPrompt');
    // (An answered input() box is replaced by a line of output once the cell has ended.)
    return c.model.executionCount !== null && prompt && !prompt.textContent.includes('*') &&
      !c.node.querySelector('.jp-Stdin') && this.kernelStatus(path) === 'idle';
  },
  shown(path, i) {
    const c = this.cell(path, i);
    return c ? [...c.node.querySelectorAll('.jp-OutputArea-output')].map((e) => e.innerText).join('\\n') : '';
  },
  // Whether a cell's outputs show anything: text, or a picture (a chart is an image with no
  // text), or a widget.
  showsSomething(path, i) {
    const c = this.cell(path, i);
    if (!c) return false;
    return [...c.node.querySelectorAll('.jp-OutputArea-output')].some((e) =>
      e.innerText.trim() !== '' || e.querySelector('img, svg, .jupyter-widgets, .widget-container'));
  },
  // Open dialogs and error notifications.
  dialogs() {
    return [...document.querySelectorAll('.jp-Dialog, .Toastify__toast--error')].map((d) => d.innerText.replace(/\\s+/g, ' ').trim());
  },
};
`;

export function normalise(s) {
  return s.split('\n').map((l) => l.replace(/\s+$/, '')).filter((l) => l !== '').join('\n');
}

// What a stored output shows on the page, as normalised lines.
export function storedText(outputs) {
  const text = (v) => (Array.isArray(v) ? v.join('') : v || '');
  const parts = [];
  for (const o of outputs) {
    if (o.output_type === 'stream') parts.push(text(o.text));
    else if (o.output_type === 'execute_result' || o.output_type === 'display_data') parts.push(text(o.data['text/plain']));
    else if (o.output_type === 'error') parts.push(o.traceback.join('\n').replace(/\x1b\[[0-9;]*[A-Za-z]/g, ''));
  }
  return normalise(parts.join('\n'));
}

// One page of a frontend: waits with diagnoses, screenshots, cells.
export class Driver {
  constructor({ page, ui, outDir, log }) {
    this.page = page;
    this.ui = ui;
    this.outDir = outDir;
    this.log = log;
  }

  // Waits for fn(arg) in the page to return a truthy value (returned). On timeout: a screenshot
  // and an error naming what was awaited and what the page showed (diagnose(arg) in the page).
  async until(what, fn, arg, { timeout = LONG, diagnose } = {}) {
    try {
      const h = await this.page.waitForFunction(fn, { timeout, polling: 200 }, arg);
      return await h.jsonValue();
    } catch (e) {
      let seen = '';
      try {
        seen = diagnose ? await this.page.evaluate(diagnose, arg) : '';
      } catch (d) {
        seen = `(no diagnosis: ${d.message})`;
      }
      const shot = join(this.outDir, `${this.ui}-FAILED.png`);
      await this.page.screenshot({ path: shot }).catch(() => {});
      throw new Error(`${this.ui}: ${what}: not within ${timeout} ms (${e.message.split('\n')[0]}); the page shows: ${seen}; screenshot ${shot}`);
    }
  }

  async screenshot(name, { tall = false } = {}) {
    await this.page.bringToFront();
    const path = join(this.outDir, `${this.ui}-${name}.png`);
    if (tall) {
      // The notebook scrolls inside the page: make the window as tall as its content, so
      // one picture shows every cell.
      const h = await this.page.evaluate(() => {
        const n = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-WindowedPanel-outer') ||
          document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook');
        if (!n) return 0;
        n.scrollTop = 0;
        return n.scrollHeight;
      });
      const vp = this.page.viewport();
      await this.page.setViewport({ ...vp, height: Math.min(Math.max(vp.height, h + 300), 12000) });
      await this.page.screenshot({ path });
      await this.page.setViewport(vp);
    } else {
      await this.page.screenshot({ path });
    }
    this.log(`screenshot ${path}`);
    return path;
  }

  async waitPanel(path) {
    await this.until(`${path} opened with its kernel idle`, (p) => window.__t.kernelStatus(p) === 'idle', path, {
      diagnose: (p) => `kernel ${window.__t.kernelStatus(p)}, dialogs ${JSON.stringify(window.__t.dialogs())}`,
    });
  }

  async cellCount(path) {
    return this.page.evaluate((p) => window.__t.panel(p).content.widgets.length, path);
  }

  // Appends a code cell holding source (set in the model: typing would be re-indented by the
  // editor) and returns its index.
  async addCell(path, source) {
    return this.page.evaluate((p, src) => {
      const nb = window.__t.panel(p).content;
      const n = nb.model.sharedModel.cells.length;
      nb.model.sharedModel.insertCell(n, { cell_type: 'code', source: src, metadata: {} });
      return n;
    }, path, source);
  }

  // Clicks into cell i's editor (the cursor at its end).
  async focusCell(path, i) {
    await this.page.bringToFront(); // a background tab is not drawn (Notebook 7: one per notebook)
    await this.page.evaluate((p, i) => window.__t.cell(p, i).node.scrollIntoView({ block: 'center' }), path, i);
    const editor = await this.page.waitForFunction((p, i) => window.__t.cell(p, i).node.querySelector('.cm-content'), { timeout: LONG, polling: 200 }, path, i);
    await editor.asElement().click();
    await this.until(`the editor of cell ${i} focused`, (a) => window.__t.cell(a.p, a.i).editor.hasFocus(), { p: path, i });
    await this.page.keyboard.down('Control');
    await this.page.keyboard.press('End');
    await this.page.keyboard.up('Control');
  }

  async press(key, ...mods) {
    for (const m of mods) await this.page.keyboard.down(m);
    await this.page.keyboard.press(key);
    for (const m of mods.reverse()) await this.page.keyboard.up(m);
  }

  // Runs cell i as a user does (Ctrl-Enter in its editor), without waiting.
  async startCell(path, i) {
    await this.focusCell(path, i);
    await this.press('Enter', 'Control');
  }

  async waitFinished(path, i, what) {
    await this.until(what || `cell ${i} of ${path} finished`, (a) => window.__t.finished(a.p, a.i), { p: path, i }, {
      diagnose: (a) => `kernel ${window.__t.kernelStatus(a.p)}; cell ${a.i}: ${JSON.stringify(window.__t.shown(a.p, a.i))}; dialogs ${JSON.stringify(window.__t.dialogs())}`,
    });
  }

  // Adds a cell, runs it and returns what it shows (normalised) and its execution count.
  async run(path, source, what) {
    const i = await this.addCell(path, source);
    await this.startCell(path, i);
    await this.waitFinished(path, i, what || `the cell ${JSON.stringify(source)} finished`);
    return { i, ...(await this.cellResult(path, i)) };
  }

  async cellResult(path, i) {
    const r = await this.page.evaluate((p, i) => ({ shown: window.__t.shown(p, i), something: window.__t.showsSomething(p, i), count: window.__t.cell(p, i).model.executionCount }), path, i);
    return { shown: normalise(r.shown), something: r.something, count: r.count };
  }

  async scrollTo(path, i) {
    await this.page.evaluate((p, i) => window.__t.cell(p, i).node.scrollIntoView({ block: 'center' }), path, i);
  }

  // Opens a menu of the menu bar by its label and clicks the item for command.
  async menu(label, command) {
    const bar = await this.page.$$('.lm-MenuBar-item');
    let found = false;
    for (const item of bar) {
      if ((await item.evaluate((e) => e.textContent.trim())) === label) {
        await item.click();
        found = true;
        break;
      }
    }
    if (!found) throw new Error(`${this.ui}: no menu ${label}`);
    const sel = `.lm-Menu-item[data-command="${command}"]`;
    await this.until(`menu ${label} showing ${command}`, (s) => {
      const e = document.querySelector(s);
      return e && e.offsetParent !== null;
    }, sel, { diagnose: () => [...document.querySelectorAll('.lm-Menu-item')].map((e) => e.getAttribute('data-command')).join(' ') });
    await this.page.click(sel);
  }

  async toolbar(path, command) {
    const sel = `[data-command="${command}"]`;
    const button = await this.page.evaluateHandle((p, s) => window.__t.panel(p).toolbar.node.querySelector(s), path, sel);
    if (!button.asElement()) throw new Error(`${this.ui}: no toolbar button ${command}`);
    await button.asElement().click();
  }

  // The dialogs open now (there should be none outside the Restart confirmation).
  async dialogs() {
    return this.page.evaluate(() => window.__t.dialogs());
  }
}
