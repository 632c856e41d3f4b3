// The board's Python (sim/board/py) compiled and exercised, file by file, under real
// MicroPython without the board around it (test/py/exercise.py): under the simulator's own
// interpreter, the WebAssembly port the board runs on, and under ../shared/realmp's
// unix-port micropython (v1.28, the release the simulator models by default), so that a
// mistake shows here and not on a learner's board. The board tests run the same files
// inside the board on every boot.

import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { pyDir, readBoardSources } from '../boardpy.mjs';
import { tempFlash } from './framing.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const exercisePath = path.join(here, 'py', 'exercise.py');
const summary = /^board python: (\d+) files compiled, (\d+) exercised$/m;

// The same package the board loads (main.mjs): WEBREPL_SIM_MODULES, else node_modules here.
function micropythonURL() {
  const rel = '@micropython/micropython-webassembly-pyscript/micropython.mjs';
  if (process.env.WEBREPL_SIM_MODULES) return pathToFileURL(path.join(process.env.WEBREPL_SIM_MODULES, rel)).href;
  return pathToFileURL(createRequire(path.join(here, '..', 'main.mjs')).resolve(rel)).href;
}

// realmpDir is $WEBREPL_REALMP, or ../shared/realmp beside the repository as in the Makefile.
function realmpDir() {
  return process.env.WEBREPL_REALMP || path.resolve(here, '..', '..', '..', '..', 'shared', 'realmp');
}

function checkSummary(output) {
  const m = summary.exec(output);
  assert.ok(m, `no summary line in:\n${output}`);
  const files = readBoardSources().size;
  assert.equal(Number(m[1]), files, `all ${files} board sources compiled`);
  assert.equal(Number(m[2]), files - 1, `all but board.py (compile only) exercised: ${m[0]}`);
}

test('the board Python compiles and runs under the simulator interpreter', async () => {
  const { loadMicroPython } = await import(micropythonURL());
  let output = '';
  const mp = await loadMicroPython({ stdout: (line) => (output += line + '\n'), stderr: (line) => (output += line + '\n') });
  // The sources and the exercise go into the interpreter's own file system, as files.
  for (const [rel, src] of readBoardSources()) {
    const target = '/py/' + rel;
    let dir = '';
    for (const part of path.posix.dirname(target).split('/').filter(Boolean)) {
      dir += '/' + part;
      if (!mp.FS.analyzePath(dir).exists) mp.FS.mkdir(dir);
    }
    mp.FS.writeFile(target, src);
  }
  mp.FS.mkdir('/work');
  mp.runPython(fs.readFileSync(exercisePath, 'utf8'));
  try {
    mp.globals.get('main')('/py', '/work');
  } catch (err) {
    assert.fail(`exercise.py failed under the simulator's interpreter:\n${err.message}\noutput:\n${output}`);
  }
  checkSummary(output);
});

test('the board Python compiles and runs under real MicroPython (realmp)', (t) => {
  const micropython = path.join(realmpDir(), 'micropython');
  try {
    fs.accessSync(micropython, fs.constants.X_OK);
  } catch {
    t.skip(`realmp not found at ${realmpDir()} (set WEBREPL_REALMP): the board Python was not run under the unix port`);
    return;
  }
  const work = tempFlash(t);
  const r = spawnSync(micropython, [exercisePath, pyDir, work], { encoding: 'utf8', timeout: 120_000 });
  assert.equal(r.error, undefined, `running ${micropython}: ${r.error}`);
  assert.equal(r.status, 0, `exercise.py failed under ${micropython}:\n${r.stdout}${r.stderr}`);
  checkSummary(r.stdout);
});
