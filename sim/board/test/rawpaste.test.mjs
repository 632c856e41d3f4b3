// Raw-paste mode (docs/protocol/webrepl.md §4 and Appendix B), cooked like an ESP32.

import test from 'node:test';
import assert from 'node:assert/strict';
import { startBoard } from './framing.mjs';

const negotiation = 'R\x01\x80\x00\x01';

async function enterRawPaste(b) {
  assert.equal(await b.exchange('\x05A\x01', negotiation), negotiation);
}

test('raw-paste: negotiation, program output, no OK', async (t) => {
  const b = await startBoard(t, { raw: true });
  await enterRawPaste(b);
  assert.equal(await b.exchange('print(5)\x04', '\x04>'), '\x045\r\n\x04\x04>');
  await enterRawPaste(b);
  assert.equal(
    await b.exchange('1/0\x04', '\x04>'),
    '\x04\x04Traceback (most recent call last):\r\n  File "<stdin>", line 1, in <module>\r\nZeroDivisionError: divide by zero\r\n\x04>',
  );
});

test('raw-paste: syntax error found at the end', async (t) => {
  const b = await startBoard(t, { raw: true });
  await enterRawPaste(b);
  assert.equal(
    await b.exchange('x=1\nprint(x\x04', '\x04>'),
    '\x04\x04Traceback (most recent call last):\r\n  File "<stdin>", line 3\r\nSyntaxError: invalid syntax\r\n\x04>',
  );
});

test('raw-paste: Ctrl-C aborts with a traceback-less KeyboardInterrupt', async (t) => {
  const b = await startBoard(t, { raw: true });
  await enterRawPaste(b);
  assert.equal(await b.exchange('x=1\n\x03', '\x04>'), '\x04\x04KeyboardInterrupt: \r\n\x04>');
  // The aborted program never ran.
  assert.equal(await b.exchange("print('x' in globals())\x04", '\x04>'), 'OKFalse\r\n\x04\x04>');
});

test('raw-paste: early end on a syntax error the rest cannot repair', async (t) => {
  const b = await startBoard(t, { raw: true });
  await enterRawPaste(b);
  const m = b.mark();
  b.send('x = = 1\n' + '#'.repeat(79) + '\n');
  // The board ends the transfer by itself: the host has not sent its Ctrl-D yet.
  await b.until(m, '\x04');
  assert.equal(b.output(m), '\x04');
  b.send('more = 1\n'); // still in flight when the host noticed: discarded
  assert.equal(
    await b.exchange('\x04', '\x04>'),
    '\x04Traceback (most recent call last):\r\n  File "<stdin>", line 1\r\nSyntaxError: invalid syntax\r\n\x04>',
  );
  assert.equal(await b.exchange("print('more' in globals())\x04", '\x04>'), 'OKFalse\r\n\x04\x04>');
});

test('raw-paste: early end on line 1 while the host is still in the middle of a line (Appendix B)', async (t) => {
  const b = await startBoard(t, { raw: true });
  await enterRawPaste(b);
  const m = b.mark();
  // No newline after the 80 bytes and no Ctrl-D: the host waits for the board.
  b.send('x = = 1\n' + '#'.repeat(80));
  await b.until(m, '\x04');
  assert.equal(b.output(m), '\x04');
  assert.equal(
    await b.exchange('\x04', '\x04>'),
    '\x04Traceback (most recent call last):\r\n  File "<stdin>", line 1\r\nSyntaxError: invalid syntax\r\n\x04>',
  );
});

test('raw-paste: input that merely ends early (open bracket, block, continuation) goes on', async (t) => {
  const b = await startBoard(t, { raw: true });
  await enterRawPaste(b);
  // Each piece is one 128-byte window, so the board's credit byte shows it took the piece
  // before the next is sent: every prefix below is seen with nothing more queued.
  const window = (code, filler, end) => code + filler.repeat(128 - code.length - end.length) + end;
  const pieces = [
    window('v = (1,  #', '-', '\n'),
    window('2)  #', '-', '\n'),
    window('if v:  #', '-', '\n'),
    window('    w = 3 +', ' ', '\\\n'),
    window('4  #', '-', '\n'),
  ];
  const m = b.mark();
  for (const [i, piece] of pieces.entries()) {
    b.send(piece);
    await b.until(m, '\x01'.repeat(i + 1));
  }
  assert.equal(await b.exchange('print(v, w)\n\x04', '\x04>'), '\x04(1, 2) 7\r\n\x04\x04>');
});

test('raw-paste: an unfinished triple-quoted string does not end early', async (t) => {
  const b = await startBoard(t, { raw: true });
  await enterRawPaste(b);
  const m = b.mark();
  b.send('s = """first\n');
  b.send('second\n');
  b.send('third\n');
  b.send('"""\nprint(len(s.splitlines()))\n\x04');
  assert.equal(await b.until(m, '\x04>'), '\x043\r\n\x04\x04>');
});

test('raw-paste: one credit byte per 128 bytes consumed', async (t) => {
  const b = await startBoard(t, { raw: true });
  await enterRawPaste(b);
  const m = b.mark();
  b.send('#'.repeat(127) + '\n');
  await b.until(m, '\x01');
  b.send('#'.repeat(127) + '\n');
  await b.until(m, '\x01\x01');
  assert.equal(b.output(m), '\x01\x01');
  assert.equal(await b.exchange('print("ok")\x04', '\x04>'), '\x04ok\r\n\x04\x04>');
});

test('raw-paste: empty body and unknown command', async (t) => {
  const b = await startBoard(t, { raw: true });
  await enterRawPaste(b);
  assert.equal(await b.exchange('\x04', '\x04>'), '\x04\x04\x04>');
  assert.equal(await b.exchange('\x05B\x01', '>'), 'R\x00>');
});

test('raw-paste: a large program sent with flow control, like mpremote', async (t) => {
  const b = await startBoard(t, { raw: true, queue: 259 });
  const lines = [];
  for (let i = 0; i < 400; i++) lines.push(`v${i} = ${i} * 2  # line ${i}`);
  lines.push('print(sum(globals()["v%d" % i] for i in range(400)))');
  const program = Buffer.from(lines.join('\n') + '\n', 'latin1');

  await enterRawPaste(b);
  const window = 128;
  let credit = window * 2;
  let sent = 0;
  let seen = b.mark();
  while (sent < program.length) {
    if (credit === 0) {
      await b.waitFor((x) => x.console.length > seen, 'flow-control credit');
    }
    const reverse = b.console.slice(seen);
    seen = b.console.length;
    for (const ch of reverse) {
      assert.equal(ch, '\x01', 'only credit bytes while sending');
      credit += window;
    }
    const n = Math.min(credit, window, program.length - sent);
    if (n > 0) {
      b.send(program.subarray(sent, sent + n));
      sent += n;
      credit -= n;
    }
  }
  const m = b.mark();
  b.send('\x04');
  const rest = await b.until(m, '\x04>');
  assert.equal(rest.replace(/^\x01*/, ''), `\x04${399 * 400}\r\n\x04\x04>`);
  const dropped = b.messages.filter((x) => x.type === 'd');
  assert.equal(dropped.length, 0, 'flow control keeps the 259-byte queue from overflowing');
});
