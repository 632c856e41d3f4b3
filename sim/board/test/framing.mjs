// Test helper: start sim/board/main.mjs and speak its framed stdin/stdout protocol
// (docs/design.md, "sim/ (Go) ↔ sim/board (Node)").

import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const boardDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const mainPath = path.join(boardDir, 'main.mjs');

export function encodeFrame(type, payload = Buffer.alloc(0)) {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload, 'latin1');
  const head = Buffer.alloc(5);
  head[0] = type.charCodeAt(0);
  head.writeUInt32BE(body.length, 1);
  return Buffer.concat([head, body]);
}

export function tempFlash(t) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'simboard-'));
  t?.after?.(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// Board is one running main.mjs. Messages are collected in order; `console` is the
// concatenation of all `o` payloads so far (latin1 text, so every byte is one char).
export class Board {
  constructor({ fsDir, queue = 0, raw = false, env = {} }) {
    const args = [mainPath, '--fs', fsDir, '--queue', String(queue)];
    if (raw) args.push('--raw');
    this.proc = spawn(process.execPath, args, {
      env: { ...process.env, ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.messages = [];
    this.console = '';
    this.stderr = '';
    this.waiters = [];
    this.exited = null;
    let pending = Buffer.alloc(0);
    this.proc.stdout.on('data', (chunk) => {
      pending = Buffer.concat([pending, chunk]);
      while (pending.length >= 5) {
        const len = pending.readUInt32BE(1);
        if (pending.length < 5 + len) break;
        const msg = { type: String.fromCharCode(pending[0]), payload: Buffer.from(pending.subarray(5, 5 + len)) };
        pending = pending.subarray(5 + len);
        this.messages.push(msg);
        if (msg.type === 'o') this.console += msg.payload.toString('latin1');
      }
      this.wake();
    });
    this.proc.stderr.on('data', (chunk) => {
      this.stderr += chunk.toString();
    });
    this.proc.on('exit', (code, signal) => {
      this.exited = { code, signal };
      this.wake();
    });
  }

  wake() {
    for (const w of this.waiters.splice(0)) w();
  }

  // waitFor resolves when predicate(board) returns a truthy value, which it returns.
  waitFor(predicate, what = 'condition', timeoutMs = 15000) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`timed out waiting for ${what}; console so far: ${JSON.stringify(this.console)}; stderr: ${this.stderr}`));
      }, timeoutMs);
      const check = () => {
        let v;
        try {
          v = predicate(this);
        } catch (err) {
          clearTimeout(timer);
          reject(err);
          return;
        }
        if (v) {
          clearTimeout(timer);
          resolve(v);
        } else if (this.exited) {
          clearTimeout(timer);
          reject(new Error(`board exited (${JSON.stringify(this.exited)}) while waiting for ${what}; console: ${JSON.stringify(this.console)}; stderr: ${this.stderr}`));
        } else {
          this.waiters.push(check);
        }
      };
      check();
    });
  }

  waitMessage(type, from = 0) {
    return this.waitFor((b) => b.messages.slice(from).find((m) => m.type === type), `a '${type}' message`);
  }

  booted() {
    return this.waitMessage('B');
  }

  send(bytes) {
    this.proc.stdin.write(encodeFrame('i', bytes));
  }

  // mark returns the current console length; output(mark) is everything printed since.
  mark() {
    return this.console.length;
  }

  output(mark) {
    return this.console.slice(mark);
  }

  // until waits until the console output since mark ends with (or contains) text.
  until(mark, text, { contains = false } = {}) {
    return this.waitFor(
      (b) => (contains ? b.output(mark).includes(text) : b.output(mark).endsWith(text)) && b.output(mark),
      JSON.stringify(text),
    );
  }

  // exchange sends bytes and returns the console output up to and including `end`.
  async exchange(bytes, end, opts) {
    const m = this.mark();
    this.send(bytes);
    return this.until(m, end, opts);
  }

  async close() {
    if (this.exited) return;
    const done = new Promise((resolve) => this.proc.once('exit', resolve));
    try {
      this.proc.stdin.write(encodeFrame('q'));
    } catch {
      // already gone
    }
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 5000);
    await done;
    clearTimeout(timer);
  }
}

// startBoard boots a board, waits for its first prompt (unless waitPrompt is false, for a
// main.py that never ends) and registers its shutdown with the test context.
export async function startBoard(t, { waitPrompt = true, ...opts } = {}) {
  const fsDir = opts.fsDir ?? tempFlash(t);
  const board = new Board({ ...opts, fsDir });
  t.after(() => board.close());
  await board.booted();
  if (waitPrompt) await board.waitFor((b) => /(>>> |\n>)$/.test(b.console), 'the first prompt');
  return board;
}
