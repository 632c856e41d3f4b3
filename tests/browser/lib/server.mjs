// The setup the browser tests run against, started once per frontend: a simulated ESP32 board
// (`webrepl-kernel sim`), the kernel installed for it into a private Jupyter folder, and the
// pinned JupyterLab 4 or Notebook 7 from the project's venv (scripts/pyenv.sh) on loopback with
// a token, serving a copy of the lessons whose outputs are cleared.
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, readdirSync, rmSync, existsSync, openSync, closeSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { randomBytes } from 'node:crypto';

export const LONG = 180_000; // the most any one condition may take on a busy machine

// Resolves when pred() is true (checked every `every` ms), or rejects after ms with what(): a
// deadline with a diagnosis, for conditions outside the browser (files, process output).
export async function until(pred, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await pred();
    if (v) return v;
    if (Date.now() > end) throw new Error(`${what()} (after ${ms} ms)`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// The processes started here (each leads a process group), stopped if this process is told to
// end before it stops them (a test runner's timeout, Ctrl-C): SIGTERM first, so Jupyter shuts
// its kernels down; SIGKILL for whatever is left when this process exits.
const groups = new Map(); // pid -> the child
process.once('exit', () => {
  for (const pid of groups.keys()) {
    try { process.kill(-pid, 'SIGKILL'); } catch { /* gone */ }
  }
});
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, async () => {
    // The newest first: Jupyter before the board.
    for (const child of [...groups.values()].reverse()) await stopGroup(child, 20_000);
    process.exit(sig === 'SIGINT' ? 130 : 143);
  });
}

// Starts a process in a process group of its own, its output appended to logFile.
function startLogged(cmd, args, env, logFile) {
  const fd = openSync(logFile, 'a');
  const child = spawn(cmd, args, { env, stdio: ['ignore', fd, fd], detached: true });
  closeSync(fd);
  groups.set(child.pid, child);
  child.exited = new Promise((r) => child.once('exit', (code, signal) => {
    groups.delete(child.pid);
    r({ code, signal });
  }));
  return child;
}

// Stops a process group: SIGTERM, then SIGKILL after grace ms.
async function stopGroup(child, grace = 30_000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  try { process.kill(-child.pid, 'SIGTERM'); } catch { return; }
  const timer = setTimeout(() => { try { process.kill(-child.pid, 'SIGKILL'); } catch { /* gone */ } }, grace);
  await child.exited;
  clearTimeout(timer);
}

// A copy of every lesson with its code cells' outputs and counts cleared, in dir.
function clearedLessons(root, dir) {
  mkdirSync(dir, { recursive: true });
  const names = readdirSync(join(root, 'notebooks')).filter((n) => n.endsWith('.ipynb')).sort();
  for (const name of names) {
    const nb = JSON.parse(readFileSync(join(root, 'notebooks', name), 'utf8'));
    for (const cell of nb.cells) {
      if (cell.cell_type === 'code') {
        cell.outputs = [];
        cell.execution_count = null;
      }
    }
    writeFileSync(join(dir, name), JSON.stringify(nb, null, 1) + '\n');
  }
  return names;
}

// JupyterLab settings for both frontends (Notebook 7 reads the same user settings): every cell
// in the page (no windowing, so what a cell shows can be read and screenshotted), no news or
// update checks and no extension manager (no network requests of their own).
function writeSettings(configDir) {
  const dir = join(configDir, 'lab', 'user-settings', '@jupyterlab');
  const put = (ext, file, value) => {
    mkdirSync(join(dir, ext), { recursive: true });
    writeFileSync(join(dir, ext, file), JSON.stringify(value, null, 1));
  };
  put('notebook-extension', 'tracker.jupyterlab-settings', { windowingMode: 'none' });
  put('apputils-extension', 'notification.jupyterlab-settings', { fetchNews: 'false', checkForUpdates: false });
  put('extensionmanager-extension', 'plugin.jupyterlab-settings', { disclaimed: false, enabled: false });
}

// Starts the board, installs the kernel and starts `jupyter UI` (lab or notebook) in
// outDir/UI-work; returns { baseURL, token, lessonsDir, lessons, work, stop() }.
export async function startJupyter({ ui, root, bin, python, outDir }) {
  const work = join(outDir, `${ui}-work`);
  rmSync(work, { recursive: true, force: true });
  const lessonsDir = join(work, 'lessons');
  const lessons = clearedLessons(root, lessonsDir);
  const dirs = {
    JUPYTER_CONFIG_DIR: join(work, 'config'), JUPYTER_DATA_DIR: join(work, 'data'),
    JUPYTER_RUNTIME_DIR: join(work, 'runtime'), IPYTHONDIR: join(work, 'ipython'),
    XDG_CACHE_HOME: join(work, 'cache'),
  };
  for (const d of [...Object.values(dirs), join(work, 'flash')]) mkdirSync(d, { recursive: true });
  writeSettings(dirs.JUPYTER_CONFIG_DIR);
  const venvBin = dirname(python);
  const env = { ...process.env, ...dirs, JUPYTER_PATH: dirs.JUPYTER_DATA_DIR, PATH: `${venvBin}:${process.env.PATH}` };

  const password = randomBytes(4).toString('hex');
  const simOut = join(work, 'sim.log');
  const sim = startLogged(bin, ['sim', '--addr', '127.0.0.1:0', '--password', password, '--profile', 'esp32',
    '--flash', join(work, 'flash')], env, simOut);
  let jupyter;
  const stop = async () => {
    await stopGroup(jupyter); // first: it shuts its kernels down, and they log out of the board
    await stopGroup(sim);
  };
  try {
    const simURL = await until(() => {
      if (sim.exitCode !== null) throw new Error(`the simulator exited:\n${readFileSync(simOut, 'utf8')}`);
      const m = readFileSync(simOut, 'utf8').match(/ws:\/\/[^ \n]*\//);
      return m && m[0];
    }, LONG, () => `the simulator did not say where it listens:\n${readFileSync(simOut, 'utf8')}`);

    const install = spawn(bin, ['install', '--user', '--url', simURL, '--password', password], { env, stdio: 'pipe' });
    let installOut = '';
    install.stdout.on('data', (d) => { installOut += d; });
    install.stderr.on('data', (d) => { installOut += d; });
    const code = await new Promise((r) => install.once('exit', r));
    if (code !== 0) throw new Error(`webrepl-kernel install failed (${code}): ${installOut}`);

    const token = randomBytes(24).toString('hex');
    const app = ui === 'lab' ? 'LabApp' : 'JupyterNotebookApp';
    const args = [ui, '--no-browser', '--ip=127.0.0.1', `--port=${process.env.BROWSER_TEST_PORT || (ui === 'lab' ? 18890 : 18950)}`,
      '--port-retries=50', `--ServerApp.root_dir=${lessonsDir}`, `--IdentityProvider.token=${token}`,
      `--${app}.expose_app_in_browser=True`];
    if (process.getuid && process.getuid() === 0) args.push('--allow-root');
    const jupyterLog = join(work, 'jupyter.log');
    jupyter = startLogged(join(venvBin, 'jupyter'), args, env, jupyterLog);
    // The server writes jpserver-PID.json into its runtime folder once it listens.
    const info = join(dirs.JUPYTER_RUNTIME_DIR, `jpserver-${jupyter.pid}.json`);
    await until(() => {
      if (jupyter.exitCode !== null) throw new Error(`jupyter ${ui} exited:\n${readFileSync(jupyterLog, 'utf8')}`);
      return existsSync(info) && readFileSync(info, 'utf8').trim().endsWith('}');
    }, LONG, () => `jupyter ${ui} did not start:\n${readFileSync(jupyterLog, 'utf8')}`);
    const { url } = JSON.parse(readFileSync(info, 'utf8'));
    return { baseURL: url.endsWith('/') ? url : url + '/', token, lessonsDir, lessons, work, jupyterLog, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
