// Live plots and widgets in the browser, in JupyterLab 4 and then Notebook 7 (each with its own
// server and simulated ESP32, lib/frontend.mjs). Steps, each with a screenshot in OUT_DIR named
// UI-live-NN-step.png:
//   a board loop calling plot() for a few seconds: the chart's SVG in the page sampled twice
//   while the cell runs differs; the last chart stays when the cell has ended and after the
//   page is reloaded;
//   a board IntSlider driving the LED's PWM (GPIO 2): dragged with the mouse, the duty the
//   simulated board reports (a next cell asks it) is the slider's value, and the light sensor
//   (ADC 34) follows it;
//   a dashboard cell (a slider, a stop toggle and a live plot of the light sensor): the slider
//   dragged while the loop runs dims the light the chart shows; the toggle ends the loop;
//   the notebook saved (with "Save Jupyter widget state in notebooks" on), closed with its
//   kernel shut down and reopened: the slider shows again from the saved widget state.
// Every wait is on a condition in the page, with generous limits and a diagnosis.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Frontend } from './lib/frontend.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const outDir = resolve(process.env.OUT_DIR || join(here, 'out'));
const bin = resolve(root, process.env.BIN || 'bin/webrepl-kernel');
const python = resolve(root, process.env.PYTHON || process.env.WEBREPL_PYTHON || '.venv/bin/python');
const chromium = process.env.CHROMIUM || '/usr/bin/chromium';
const WIDGET_STATE = 'application/vnd.jupyter.widget-state+json';

// The chart a cell shows: JupyterLab's SVG renderer draws image/svg+xml as an <img> of a data
// URL (an inline <svg> is taken too); '' when there is none.
const CHART = `(p, i) => {
  const c = window.__t.cell(p, i);
  const img = c && c.node.querySelector('.jp-OutputArea-output img[src^="data:image/svg+xml"]');
  if (img) return decodeURIComponent(img.src.slice(img.src.indexOf(',') + 1));
  const svg = c && c.node.querySelector('.jp-OutputArea-output svg');
  return svg ? svg.outerHTML : '';
}`;

// Drags the handle of the slider in cell i with the mouse, in steps, to frac of its track.
async function drag(d, i, frac) {
  const cell = (await d.page.evaluateHandle((p, i) => window.__t.cell(p, i).node, 'live.ipynb', i)).asElement();
  const track = await (await cell.$('.widget-slider .noUi-base')).boundingBox();
  const handle = await (await cell.$('.widget-slider .noUi-handle')).boundingBox();
  const x0 = handle.x + handle.width / 2;
  const x1 = track.x + track.width * frac;
  const y = handle.y + handle.height / 2;
  await d.page.mouse.move(x0, y);
  await d.page.mouse.down();
  for (let k = 1; k <= 12; k++) await d.page.mouse.move(x0 + ((x1 - x0) * k) / 12, y, { steps: 3 });
  await d.page.mouse.up();
}

// The value a chart's legend names for a series ("light = 2430"), or NaN.
function legend(svg, name) {
  const m = svg.match(new RegExp(`>${name} = (-?[0-9.e+]+)<`));
  return m ? Number(m[1]) : NaN;
}

function liveSteps(ui) {
  const f = new Frontend({ ui, label: 'live', root, bin, python, outDir, chromium,
    // Off by default in jupyterlab_widgets; on, the frontend saves the widgets' state with the
    // notebook (README, Widgets).
    settings: { '@jupyter-widgets/jupyterlab-manager/plugin': { saveState: true } } });
  const NB = 'live.ipynb';
  let dragged; // the slider's value after the drag
  let sliderCell; // its cell
  let dashboard; // { i, value }: the dashboard cell and its slider's last value

  before(async () => {
    await f.start();
    await f.d.page.evaluateOnNewDocument(`window.__chart = ${CHART}`);
  });
  after(() => f.stop());

  test(`${f.name}: the plot's SVG changes while the loop runs, and the last chart stays`, async () => {
    const { d } = f;
    f.newNotebook(NB);
    await f.open(NB);
    // About 6 s of points on the board; the chart is redrawn at most 10 times a second.
    const i = await d.addCell(NB, [
      'import math, time',
      'from jupyter import plot',
      'for n in range(120):',
      '    plot(wave=round(100 * math.sin(n / 8)), n=n)',
      '    time.sleep(0.05)',
      "print('plotted', n + 1)",
    ].join('\n'));
    const running = (a) => window.__t.cell(a.p, a.i).node.querySelector('.jp-InputPrompt').textContent.includes('*');
    await d.startCell(NB, i);
    const first = await d.until('the chart shown while the cell runs', (a) => {
      const svg = window.__chart(a.p, a.i);
      return svg && window.__t.cell(a.p, a.i).node.querySelector('.jp-InputPrompt').textContent.includes('*') && svg;
    }, { p: NB, i }, { diagnose: (a) => `prompt ${window.__t.cell(a.p, a.i).node.querySelector('.jp-InputPrompt').textContent}; ${JSON.stringify(window.__t.shown(a.p, a.i))}` });
    await d.scrollTo(NB, i);
    await d.screenshot(f.shot('plot-running'));
    const second = await d.until('the chart redrawn while the cell still runs', (a) => {
      const svg = window.__chart(a.p, a.i);
      const busy = window.__t.cell(a.p, a.i).node.querySelector('.jp-InputPrompt').textContent.includes('*');
      if (!busy) throw new Error('the cell ended before the chart was redrawn');
      return svg && svg !== a.first && svg;
    }, { p: NB, i, first }, { diagnose: (a) => `chart ${window.__chart(a.p, a.i).length} chars, the same as the first: ${window.__chart(a.p, a.i) === a.first}` });
    assert.notEqual(second, first);
    const stillRunning = await d.page.evaluate(running, { p: NB, i });
    f.log(`plot: two charts sampled while the cell ran (${first.length} and ${second.length} chars; running after the second: ${stillRunning})`);
    await d.waitFinished(NB, i, 'the plotting cell ended');
    const { shown } = await d.cellResult(NB, i);
    assert.match(shown, /(^|\n)plotted 120$/, shown);
    const last = await d.page.evaluate((p, i) => window.__chart(p, i), NB, i);
    assert.ok(last.startsWith('<svg') || last.includes('<svg'), `the last chart is an SVG: ${last.slice(0, 200)}`);
    assert.notEqual(last, second, 'the last chart has the last points');
    // The series are named with their latest values: n ended at 119.
    assert.equal(legend(last, 'n'), 119, 'the last chart names n with its last value');
    assert.equal(legend(last, 'wave'), Math.round(100 * Math.sin(119 / 8)), 'and wave with its last value');
    await d.scrollTo(NB, i);
    await d.screenshot(f.shot('plot-ended'));
    // One chart in the cell, an image in the saved notebook.
    await d.page.evaluate((p) => window.__t.panel(p).context.save(), NB);
    const saved = JSON.parse(readFileSync(join(f.srv.lessonsDir, NB), 'utf8')).cells[i].outputs;
    const charts = saved.filter((o) => o.output_type === 'display_data' && o.data['image/svg+xml']);
    assert.equal(charts.length, 1, `one chart saved: ${JSON.stringify(saved.map((o) => o.output_type))}`);
    const svgText = (v) => (Array.isArray(v) ? v.join('') : v);
    assert.equal(svgText(charts[0].data['image/svg+xml']), last, 'the saved chart is the one shown last');

    await f.reload(NB);
    const after = await d.until('the chart shown after the reload', (a) => window.__chart(a.p, a.i), { p: NB, i }, {
      diagnose: (a) => JSON.stringify(window.__t.shown(a.p, a.i)),
    });
    await d.scrollTo(NB, i);
    await d.screenshot(f.shot('plot-reloaded'));
    assert.equal(after, last, 'the reloaded page shows the last chart');
    await f.clean('live plot');
  });

  test(`${f.name}: dragging the board's slider sets the LED's PWM duty`, async () => {
    const { d } = f;
    const i = await d.addCell(NB, [
      'from machine import ADC, PWM, Pin',
      'from jupyter.widgets import IntSlider',
      'led = PWM(Pin(2), freq=1000, duty=0)',
      "s = IntSlider(0, 1023, value=0, description='LED', on_change=led.duty)",
    ].join('\n'));
    sliderCell = i;
    await d.startCell(NB, i);
    await d.waitFinished(NB, i, 'the slider cell ended');
    const handleSel = '.widget-slider .noUi-handle';
    await d.until('the slider shown', (a) => window.__t.cell(a.p, a.i).node.querySelector(a.s), { p: NB, i, s: handleSel }, {
      diagnose: (a) => JSON.stringify(window.__t.shown(a.p, a.i)),
    });
    const readout = () => d.page.evaluate((p, i) => window.__t.cell(p, i).node.querySelector('.widget-readout').textContent.trim(), NB, i);
    assert.equal(await readout(), '0');
    // What the kernel accepts of the frontend's updates (protocol 2.1: echo_update), so the
    // next cell is started after the last value reached the kernel.
    await d.page.evaluate((p) => {
      window.__echoes = [];
      window.__t.panel(p).sessionContext.session.kernel.iopubMessage.connect((_, msg) => {
        const data = msg.header.msg_type === 'comm_msg' && msg.content.data;
        if (data && data.method === 'echo_update' && data.state && 'value' in data.state) window.__echoes.push(data.state.value);
      });
    }, NB);
    await d.scrollTo(NB, i);
    // Drag the handle about 60% of the track to the right with the mouse, in steps.
    await drag(d, i, 0.6);
    dragged = await d.until('the slider moved', (a) => {
      const v = window.__t.cell(a.p, a.i).node.querySelector('.widget-readout').textContent.trim();
      return v !== '0' && v;
    }, { p: NB, i });
    const value = Number(dragged);
    assert.ok(value > 300 && value < 900, `dragged 60% of the way, the slider shows ${dragged}`);
    await d.until(`the kernel accepted the value ${dragged}`, (v) => window.__echoes.includes(v), value, {
      diagnose: () => `echo_update values ${JSON.stringify(window.__echoes)}`,
    });
    await d.screenshot(f.shot('slider-dragged'));
    const asked = await d.run(NB, "print('duty', led.duty(), 'slider', s.value, 'light', ADC(Pin(34)).read())");
    await d.scrollTo(NB, asked.i);
    await d.screenshot(f.shot('slider-duty'));
    const m = asked.shown.match(/^duty (\d+) slider (\d+) light (\d+)$/);
    assert.ok(m, asked.shown);
    assert.equal(Number(m[1]), value, `the board's PWM duty is the slider's value: ${asked.shown}`);
    assert.equal(Number(m[2]), value, asked.shown);
    // The light sensor sees the LED: 2% of 4095 dark, 98% at full duty, ±1% noise.
    const want = (0.02 + 0.96 * value / 1023) * 4095;
    assert.ok(Math.abs(Number(m[3]) - want) <= 0.015 * 4095, `light ${m[3]} for duty ${value} (about ${Math.round(want)})`);
    await f.clean('slider');
  });

  test(`${f.name}: a dashboard: dragging its slider while its loop runs dims the light the plot shows`, async () => {
    const { d } = f;
    assert.ok(dragged, 'the slider step ran');
    const i = await d.addCell(NB, [
      'import time',
      'from jupyter import plot',
      'from jupyter.widgets import IntSlider, ToggleButton',
      'light = ADC(Pin(34))',
      "dim = IntSlider(0, 1023, value=led.duty(), description='LED', on_change=led.duty)",
      "stop = ToggleButton(False, description='stop')",
      'n = 0',
      'while not stop.value and n < 3000:',
      '    plot(led=dim.value, light=light.read())',
      '    n += 1',
      '    time.sleep_ms(50)',
      "print('stopped' if stop.value else 'done')",
    ].join('\n'));
    await d.startCell(NB, i);
    const bright = await d.until('the dashboard running: its slider and a chart of the light', (a) => {
      const c = window.__t.cell(a.p, a.i).node;
      const svg = window.__chart(a.p, a.i);
      return c.querySelector('.jp-InputPrompt').textContent.includes('*') && c.querySelector('.widget-slider .noUi-handle') &&
        c.querySelector('.widget-toggle-button') && svg.includes('>light = ') && svg;
    }, { p: NB, i }, { diagnose: (a) => JSON.stringify(window.__t.shown(a.p, a.i)) });
    const before = legend(bright, 'light');
    assert.ok(before > 1500, `with the LED at ${dragged} the light reads ${before}`);
    await d.scrollTo(NB, i);
    // Down to about 10%: the loop reads the slider, the board sets the duty, the sensor follows.
    await drag(d, i, 0.1);
    const dimmed = await d.until('the chart showing the light dimmed while the loop runs', (a) => {
      const c = window.__t.cell(a.p, a.i).node;
      if (!c.querySelector('.jp-InputPrompt').textContent.includes('*')) throw new Error('the loop ended');
      const m = window.__chart(a.p, a.i).match(/>light = (-?[0-9.e+]+)</);
      return m && Number(m[1]) < 1000 && window.__chart(a.p, a.i);
    }, { p: NB, i }, { diagnose: (a) => `legend ${JSON.stringify(window.__chart(a.p, a.i).match(/>[a-z]+ = [^<]*</g))}` });
    const value = Number(await d.page.evaluate((p, i) => window.__t.cell(p, i).node.querySelector('.widget-readout').textContent.trim(), NB, i));
    f.log(`dashboard: light ${before} → ${legend(dimmed, 'light')} with the slider at ${value}`);
    await d.screenshot(f.shot('dashboard'));
    // The cell's output alone: the slider, the toggle and the chart (JupyterLab's is README's
    // picture, docs/img/live-plot-slider.png).
    const box = await d.page.evaluate((p, i) => {
      const rects = [...window.__t.cell(p, i).node.querySelectorAll('.widget-slider, .widget-toggle-button, .jp-OutputArea-output img')]
        .map((e) => e.getBoundingClientRect());
      const x = Math.min(...rects.map((r) => r.left)) - 12;
      const y = Math.min(...rects.map((r) => r.top)) - 8;
      return { x, y, width: Math.max(...rects.map((r) => r.right)) + 16 - x, height: Math.max(...rects.map((r) => r.bottom)) + 8 - y };
    }, NB, i);
    await d.page.screenshot({ path: join(outDir, `${ui}-live-dashboard-output.png`), clip: box });
    await d.page.evaluate((p, i) => window.__t.cell(p, i).node.querySelector('.widget-toggle-button').scrollIntoView({ block: 'center' }), NB, i);
    await (await d.page.evaluateHandle((p, i) => window.__t.cell(p, i).node.querySelector('.widget-toggle-button'), NB, i)).asElement().click();
    await d.waitFinished(NB, i, 'the dashboard loop stopped by its toggle');
    const { shown } = await d.cellResult(NB, i);
    assert.match(shown, /(^|\n)stopped$/, shown);
    const last = await d.page.evaluate((p, i) => window.__chart(p, i), NB, i);
    assert.equal(legend(last, 'led'), value, 'the last chart names the slider\'s value as the LED\'s');
    assert.ok(legend(last, 'light') < 1000, `the last chart ends dim: ${legend(last, 'light')}`);
    const asked = await d.run(NB, "print('duty', led.duty())");
    assert.equal(asked.shown, `duty ${value}`);
    dashboard = { i, value };
    await d.scrollTo(NB, i);
    await d.screenshot(f.shot('dashboard-stopped'));
    await f.clean('dashboard');
  });

  test(`${f.name}: the slider shows again from the saved widget state after reopening`, async () => {
    const { d } = f;
    assert.ok(dragged, 'the slider step ran');
    await f.close(NB);
    const nb = JSON.parse(readFileSync(join(f.srv.lessonsDir, NB), 'utf8'));
    const state = nb.metadata.widgets && nb.metadata.widgets[WIDGET_STATE];
    assert.ok(state, `the saved notebook has widget state: ${JSON.stringify(Object.keys(nb.metadata))}`);
    const values = Object.values(state.state).filter((m) => m.model_name === 'IntSliderModel').map((m) => m.state.value).sort((a, b) => a - b);
    assert.deepEqual(values, [dashboard.value, Number(dragged)].sort((a, b) => a - b), 'the two sliders saved with their last values');
    await f.open(NB); // a new kernel: the board's widgets are not its
    const shown = await d.until('the sliders shown from the saved state', (a) => {
      const read = (k) => window.__t.cell(a.p, k).node.querySelector('.widget-slider .noUi-handle') &&
        window.__t.cell(a.p, k).node.querySelector('.widget-readout').textContent.trim();
      return read(a.one) && read(a.two) && [read(a.one), read(a.two)];
    }, { p: NB, one: sliderCell, two: dashboard.i }, {
      diagnose: (a) => window.__t.panel(a.p).content.widgets.map((w, k) => `${k}: ${JSON.stringify(window.__t.shown(a.p, k).slice(0, 120))}`).join('; '),
    });
    await d.scrollTo(NB, sliderCell);
    await d.screenshot(f.shot('reopened'));
    assert.deepEqual(shown, [dragged, String(dashboard.value)], 'the reopened sliders show the saved values');
    // Their models came from the notebook, not from a kernel: the views say they are not connected.
    assert.ok(await d.page.evaluate((p, k) => !!window.__t.cell(p, k).node.querySelector('.jupyter-widgets-disconnected'), NB, sliderCell),
      'the reopened slider is drawn from the saved state (disconnected from any kernel)');
    await f.clean('reopened');
  });
}

describe('JupyterLab 4: live plots and widgets', () => liveSteps('lab'));
describe('Notebook 7: live plots and widgets', () => liveSteps('notebook'));
