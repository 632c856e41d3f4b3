// The board's REPL byte streams against docs/protocol/webrepl.md §3, §7 and Appendices A and B
// (with the ESP32's LF → CRLF cooking applied).

import test from 'node:test';
import assert from 'node:assert/strict';
import { startBoard } from './framing.mjs';

const banner = (b) => b.console.match(/MicroPython v[^\r]*\r\nType "help\(\)" for more information\.\r\n/)[0];

test('boots into the friendly REPL with an ESP32 simulator banner', async (t) => {
  const b = await startBoard(t);
  assert.match(b.console, /^\r\nMicroPython v1\.27\.0 on [0-9-]+; Simulated ESP32 module \(webrepl-kernel\) with ESP32\r\n/);
  assert.ok(b.console.endsWith('Type "help()" for more information.\r\n>>> '));
  const bootIndex = b.messages.findIndex((m) => m.type === 'B');
  assert.ok(b.messages.slice(0, bootIndex).some((m) => m.type === 'o'), 'banner is sent before B');
});

test('friendly REPL echo, expression values, prompts and paste mode', async (t) => {
  const b = await startBoard(t);
  assert.equal(await b.exchange('1+2\r', '>>> '), '1+2\r\n3\r\n>>> ');
  assert.equal(await b.exchange('1;2\r', '>>> '), '1;2\r\n1\r\n2\r\n>>> ');
  assert.equal(await b.exchange('for i in range(2):\r', '...     '), 'for i in range(2):\r\n...     ');
  assert.equal(await b.exchange('\x03', '>>> '), '\r\n>>> ');
  assert.equal(await b.exchange('x=[\r1,\r2]\rx\r', '[1, 2]\r\n>>> '), 'x=[\r\n... 1,\r\n... 2]\r\n>>> x\r\n[1, 2]\r\n>>> ');
  assert.equal(await b.exchange('abc\x03', '>>> '), 'abc\r\n>>> ');
  assert.equal(
    await b.exchange('\x05', '=== '),
    '\r\npaste mode; Ctrl-C to cancel, Ctrl-D to finish\r\n=== ',
  );
  assert.equal(await b.exchange('y=1\ry\r', '=== y\r\n=== '), 'y=1\r\n=== y\r\n=== ');
  assert.equal(await b.exchange('\x04', '>>> '), '\r\n1\r\n>>> ');
  assert.equal(
    await b.exchange('undefined_name\r', '>>> '),
    "undefined_name\r\nTraceback (most recent call last):\r\n  File \"<stdin>\", line 1, in <module>\r\nNameError: name 'undefined_name' isn't defined\r\n>>> ",
  );
  assert.equal(
    await b.exchange('open("/nonexist")\r', '>>> '),
    'open("/nonexist")\r\nTraceback (most recent call last):\r\n  File "<stdin>", line 1, in <module>\r\nOSError: [Errno 2] ENOENT\r\n>>> ',
  );
});

test('friendly REPL: a lone LF is Enter, a CRLF pair counts once (docs/protocol/webrepl.md §7.2, Appendix A)', async (t) => {
  const b = await startBoard(t);
  // The LF left over from a WebREPL login "secret\r\n" reaches readline on its own.
  let from = b.messages.length;
  await b.exchange('\n', '>>> ');
  const writes = () => b.messages.slice(from).filter((m) => m.type === 'o').map((m) => m.payload.toString('latin1'));
  assert.deepEqual(writes(), ['\r\n', '>>> ']);
  assert.equal(await b.exchange('1+1\n', '>>> '), '1+1\r\n2\r\n>>> ');
  from = b.messages.length;
  assert.equal(await b.exchange('2+2\r\n3+3\r\n', '6\r\n>>> '), '2+2\r\n4\r\n>>> 3+3\r\n6\r\n>>> ');
  // A CRLF split over two inputs is still one Enter; only the marker after it is new.
  assert.equal(await b.exchange('4+4\r', '>>> '), '4+4\r\n8\r\n>>> ');
  assert.equal(await b.exchange('\n"end"\r', '>>> '), "\"end\"\r\n'end'\r\n>>> ");
  // The LF of the CRLF that ended an input() line is not a second Enter.
  assert.equal(await b.exchange('x = input()\r', 'input()\r\n'), 'x = input()\r\n');
  assert.equal(await b.exchange('typed\r\nx\r', '>>> x\r\n\'typed\'\r\n>>> '), "typed\r\n>>> x\r\n'typed'\r\n>>> ");
  // In paste mode an LF stays a line end of the pasted text, as on a board.
  assert.equal(await b.exchange('\x05', '=== '), '\r\npaste mode; Ctrl-C to cancel, Ctrl-D to finish\r\n=== ');
  assert.equal(await b.exchange('a = 1\nb = 2\n', '2\r\n'), 'a = 1\r\nb = 2\r\n');
  assert.equal(await b.exchange('\x04', '>>> '), '\r\n>>> ');
  assert.equal(await b.exchange('a + b\n', '>>> '), 'a + b\r\n3\r\n>>> ');
});

test('raw REPL: Appendix B vectors, cooked', async (t) => {
  const b = await startBoard(t);
  const friendlyBanner = banner(b);
  assert.equal(await b.exchange('\x01', '>'), '\r\nraw REPL; CTRL-B to exit\r\n>');
  assert.equal(await b.exchange('\x01', '>'), 'raw REPL; CTRL-B to exit\r\n>');
  assert.equal(await b.exchange('print(1)\x01', '>'), 'raw REPL; CTRL-B to exit\r\n>');
  assert.equal(await b.exchange('abc\x03print(7)\x04', '\x04>'), 'OK7\r\n\x04\x04>');
  assert.equal(await b.exchange('1+1\x04', '\x04>'), 'OK\x04\x04>');
  assert.equal(
    await b.exchange('def f():\n  return 1/0\nf()\x04', '\x04>'),
    'OK\x04Traceback (most recent call last):\r\n  File "<stdin>", line 3, in <module>\r\n  File "<stdin>", line 2, in f\r\nZeroDivisionError: divide by zero\r\n\x04>',
  );
  assert.equal(
    await b.exchange('x = (\x04', '\x04>'),
    'OK\x04Traceback (most recent call last):\r\n  File "<stdin>", line 2\r\nSyntaxError: invalid syntax\r\n\x04>',
  );
  assert.equal(
    await b.exchange('raise KeyboardInterrupt\x04', '\x04>'),
    'OK\x04Traceback (most recent call last):\r\n  File "<stdin>", line 1, in <module>\r\nKeyboardInterrupt: \r\n\x04>',
  );
  assert.equal(await b.exchange('exec(compile("1+1", "<stdin>", "single"))\x04', '\x04>'), 'OK2\r\n\x04\x04>');
  assert.equal(await b.exchange('\x05B\x01', '>'), 'R\x00>');
  assert.equal(await b.exchange('\x02', '>>> '), '\r\n' + friendlyBanner + '>>> ');
});

test('raw REPL: one console write per HAL write, bare LF cooked (Appendix A)', async (t) => {
  const b = await startBoard(t, { raw: true });
  const from = b.messages.length;
  await b.exchange('print(123)\x04', '\x04>');
  const writes = b.messages.slice(from).filter((m) => m.type === 'o').map((m) => m.payload.toString('latin1'));
  assert.deepEqual(writes, ['OK', '123', '\r\n', '\x04', '\x04', '>']);
  assert.equal(await b.exchange('print("a\\nb")\x04', '\x04>'), 'OKa\r\nb\r\n\x04\x04>');
  assert.equal(await b.exchange('import sys\nsys.stdout.write("c\\r\\nd")\x04', '\x04>'), 'OKc\r\nd\x04\x04>');
});

test('--raw boots straight into the raw REPL', async (t) => {
  const b = await startBoard(t, { raw: true });
  assert.equal(b.console, 'raw REPL; CTRL-B to exit\r\n>');
  assert.equal(await b.exchange('x = 5\x04', '\x04>'), 'OK\x04\x04>');
  assert.equal(await b.exchange('print(x * 2)\x04', '\x04>'), 'OK10\r\n\x04\x04>');
});

test('sys.exit() in raw mode: OK, two markers, no prompt, then a soft reset', async (t) => {
  const b = await startBoard(t, { raw: true });
  const from = b.messages.length;
  const m = b.mark();
  b.send('import sys\nsys.exit()\x04');
  await b.waitMessage('s', from);
  assert.equal(b.output(m), 'OK\x04\x04');
});

test('empty Ctrl-D in raw mode requests a soft reset', async (t) => {
  const b = await startBoard(t, { raw: true });
  const from = b.messages.length;
  const m = b.mark();
  b.send('\x04');
  await b.waitMessage('s', from);
  assert.equal(b.output(m), 'OK\r\n');
});

test('Ctrl-D on an empty friendly line requests a soft reset', async (t) => {
  const b = await startBoard(t);
  const from = b.messages.length;
  b.send('\x04');
  await b.waitMessage('s', from);
});

test('quit message ends the process even while a tight loop runs', async (t) => {
  const b = await startBoard(t, { raw: true });
  const from = b.messages.length;
  b.send('while True:\n  pass\n\x04');
  await b.waitFor((x) => x.messages.slice(from).some((m) => m.type === 'b' && m.payload[0] === 1), 'executing');
  await b.close();
  assert.equal(b.exited.code, 0);
});
