// Console output reaches the Go side as it is written, even when the program then spins.

import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startBoard, tempFlash } from './framing.mjs';

// A `while True: pass` loop never calls out of the interpreter: only output that left
// before it started can arrive. The boards are ended by the quit message (t.after).

test('raw REPL: OK and the output before a tight loop arrive while it spins', async (t) => {
  const b = await startBoard(t, { raw: true });
  const m = b.mark();
  b.send("print('spin')\nwhile True: pass\n\x04");
  assert.equal(await b.until(m, 'spin\r\n'), 'OKspin\r\n');
});

test('friendly REPL: echo and output before a tight loop arrive while it spins', async (t) => {
  const b = await startBoard(t);
  const m = b.mark();
  b.send("print('spin'); x = 1\r");
  await b.until(m, '>>> ');
  const m2 = b.mark();
  b.send("print('a', x, end='!')\rwhile True: pass\r\r");
  assert.equal(await b.until(m2, '... \r\n'), "print('a', x, end='!')\r\na 1!>>> while True: pass\r\n... \r\n");
});

test('main.py output before a tight loop arrives', async (t) => {
  const fsDir = tempFlash(t);
  fs.writeFileSync(path.join(fsDir, 'main.py'), "print('from main')\nwhile True:\n    pass\n");
  const b = await startBoard(t, { fsDir, waitPrompt: false });
  await b.until(0, 'from main\r\n');
});

test('20 000 prints arrive complete and in order', async (t) => {
  const b = await startBoard(t, { raw: true });
  const m = b.mark();
  b.send('for i in range(20000):\n    print(i)\n\x04');
  const out = await b.until(m, '\x04\x04>');
  const expected = 'OK' + Array.from({ length: 20000 }, (_, i) => `${i}\r\n`).join('') + '\x04\x04>';
  assert.equal(out, expected);
});

test('one write larger than the outbox arrives intact', async (t) => {
  const b = await startBoard(t, { raw: true });
  const m = b.mark();
  b.send("s = ''.join(chr(65 + i % 26) for i in range(300000))\nprint(s)\n\x04");
  const out = await b.until(m, '\x04\x04>');
  const expected = Array.from({ length: 300000 }, (_, i) => String.fromCharCode(65 + (i % 26))).join('');
  assert.equal(out, 'OK' + expected + '\r\n\x04\x04>');
});
