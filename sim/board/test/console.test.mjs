// Ctrl-C while code runs, input(), sys.stdin and the stdin queue.

import test from 'node:test';
import assert from 'node:assert/strict';
import { startBoard } from './framing.mjs';

const executingSince = (b, from, value) =>
  b.waitFor((x) => x.messages.slice(from).some((m) => m.type === 'b' && m.payload[0] === value), `b=${value}`);

test('Ctrl-C interrupts a time.sleep loop with the board traceback', async (t) => {
  const b = await startBoard(t, { raw: true });
  const from = b.messages.length;
  const m = b.mark();
  b.send('import time\nfor i in range(1000):\n  print(i)\n  time.sleep(0.05)\n\x04');
  await executingSince(b, from, 1);
  await b.until(m, '2\r\n', { contains: true });
  b.send('\x03');
  const out = await b.until(m, '\x04>');
  assert.match(
    out,
    /^OK0\r\n1\r\n2\r\n(\d+\r\n)*\x04Traceback \(most recent call last\):\r\n {2}File "<stdin>", line 4, in <module>\r\nKeyboardInterrupt: \r\n\x04>$/,
  );
  await executingSince(b, from, 0);
  // Ctrl-C was not queued: the next command runs normally.
  assert.equal(await b.exchange('print("next")\x04', '\x04>'), 'OKnext\r\n\x04\x04>');
});

test('Ctrl-C interrupts friendly-REPL code too', async (t) => {
  const b = await startBoard(t);
  const m = b.mark();
  b.send('import time\r');
  await b.until(m, '>>> ');
  const sent = b.messages.length;
  const m2 = b.mark();
  b.send('while True: time.sleep_ms(10)\r\r');
  // The first Enter only asks for a continuation line; the second one runs the loop.
  await b.waitFor((x) => x.messages.slice(sent).filter((msg) => msg.type === 'b' && msg.payload[0] === 1).length === 2, 'the loop to run');
  b.send('\x03');
  assert.equal(
    await b.until(m2, '>>> '),
    'while True: time.sleep_ms(10)\r\n... \r\nTraceback (most recent call last):\r\n  File "<stdin>", line 1, in <module>\r\nKeyboardInterrupt: \r\n>>> ',
  );
});

test('a Ctrl-C sent right behind the Enter that starts code interrupts that code', async (t) => {
  const b = await startBoard(t);
  const m = b.mark();
  b.send('import time\r');
  await b.until(m, '>>> ');
  const m2 = b.mark();
  b.send('while True: time.sleep_ms(10)\r\r\x03');
  assert.match(await b.until(m2, '>>> '), /\r\nKeyboardInterrupt: \r\n>>> $/);
});

test('input() reads the console with echo; variables survive', async (t) => {
  const b = await startBoard(t, { raw: true });
  assert.equal(await b.exchange("print(input('name? ').upper())\x04", 'name? '), 'OKname? ');
  assert.equal(await b.exchange('abc\r', '\x04>'), 'abc\r\nABC\r\n\x04\x04>');
  assert.equal(await b.exchange("who = input('again? ')\x04", 'again? '), 'OKagain? ');
  assert.equal(await b.exchange('def\r\n', '\x04>'), 'def\r\n\x04\x04>');
  // The LF of that CRLF belonged to the line: it is not left over for the next input().
  assert.equal(await b.exchange("print(who * 2, input('more? '))\x04", 'more? '), 'OKmore? ');
  assert.equal(await b.exchange('ghi\r', '\x04>'), 'ghi\r\ndefdef ghi\r\n\x04\x04>');
});

test('input(): the line is decoded as UTF-8 and backspace erases a character', async (t) => {
  const b = await startBoard(t, { raw: true });
  assert.equal(await b.exchange('n = input()\x04', 'OK'), 'OK');
  const typed = Buffer.from('hé\x7f\x7fi wörld\r', 'utf8');
  const m = b.mark();
  b.send(typed);
  const echo = await b.until(m, '\x04\x04>');
  assert.equal(echo, Buffer.from('hé', 'utf8').toString('latin1') + '\b \b\b \b' + Buffer.from('i wörld', 'utf8').toString('latin1') + '\r\n\x04\x04>');
  assert.equal(await b.exchange('print(n, len(n))\x04', '\x04>'), 'OKi w' + Buffer.from('ö', 'utf8').toString('latin1') + 'rld 7\r\n\x04\x04>');
});

test('input(): Ctrl-C raises KeyboardInterrupt at the caller', async (t) => {
  const b = await startBoard(t, { raw: true });
  assert.equal(await b.exchange("x = 1\ny = input('? ')\x04", '? '), 'OK? ');
  assert.equal(
    await b.exchange('\x03', '\x04>'),
    '\x04Traceback (most recent call last):\r\n  File "<stdin>", line 2, in <module>\r\nKeyboardInterrupt: \r\n\x04>',
  );
});

test('input() in the friendly REPL', async (t) => {
  const b = await startBoard(t);
  // The echo of the line holds "name? " too: wait for the prompt on the next line.
  assert.equal(await b.exchange('n = input("name? ")\r', '\r\nname? '), 'n = input("name? ")\r\nname? ');
  assert.equal(await b.exchange('bob\r', '>>> '), 'bob\r\n>>> ');
  assert.equal(await b.exchange('n\r', '>>> '), "n\r\n'bob'\r\n>>> ");
});

test('sys.stdin reads raw console bytes; Ctrl-C interrupts the read', async (t) => {
  const b = await startBoard(t, { raw: true });
  assert.equal(await b.exchange('import sys\nprint(repr(sys.stdin.read(3)))\x04', 'OK'), 'OK');
  assert.equal(await b.exchange('xyz', '\x04>'), "'xyz'\r\n\x04\x04>");
  assert.equal(await b.exchange('sys.stdin.read(1)\x04', 'OK'), 'OK');
  assert.equal(
    await b.exchange('\x03', '\x04>'),
    '\x04Traceback (most recent call last):\r\n  File "<stdin>", line 1, in <module>\r\nKeyboardInterrupt: \r\n\x04>',
  );
});

test('stdin queue of 259 bytes drops and counts overflow', async (t) => {
  const b = await startBoard(t, { raw: true, queue: 259 });
  const from = b.messages.length;
  const m = b.mark();
  // Busy until told: a fixed sleep could end before the input below arrives on a loaded
  // machine. A Ctrl-C while code runs is not queued, so it still gets through.
  b.send('import time\ntry:\n time.sleep(120)\nexcept KeyboardInterrupt:\n pass\n\x04');
  await executingSince(b, from, 1);
  // The board is busy and reads nothing: 259 bytes fit, the rest is lost.
  b.send('#'.repeat(300));
  b.send('#'.repeat(300));
  const drops = await b.waitFor((x) => {
    const d = x.messages.slice(from).filter((msg) => msg.type === 'd');
    return d.length === 2 && d;
  }, 'two d messages');
  assert.deepEqual(drops.map((d) => d.payload.readUInt32BE(0)), [41, 341]);
  b.send('\x03');
  await b.until(m, '\x04>');
  // What did fit is now a comment in the raw buffer; Ctrl-C at the prompt clears it. The
  // board reads those 259 bytes only once back at the prompt, and on a loaded machine the
  // next line can arrive while they still fill the ring: it is then dropped like any
  // overflow, and a 'd' message says so. Such a line is sent again (its leading Ctrl-C
  // clears what a partly dropped copy left); one that fits must run.
  const droppedSoFar = (x) => x.messages.filter((msg) => msg.type === 'd').length;
  let outcome;
  for (let attempt = 1; attempt <= 50; attempt++) {
    const dropsBefore = droppedSoFar(b);
    const m2 = b.mark();
    b.send('\x03print("clean")\x04');
    outcome = await b.waitFor(
      (x) => (droppedSoFar(x) > dropsBefore && 'dropped') || (x.output(m2).endsWith('\x04>') && x.output(m2)),
      'the line to run or to be dropped',
    );
    if (outcome !== 'dropped') break;
    await new Promise((resolve) => setTimeout(resolve, 100)); // let the board read the ring
  }
  assert.equal(outcome, 'OKclean\r\n\x04\x04>');
});

test('builtins.input is the board input(): echo, CRLF, Ctrl-C', async (t) => {
  const b = await startBoard(t, { raw: true });
  assert.equal(
    await b.exchange("import builtins\nprint(builtins.input is input)\nprint(builtins.input('x? ').upper())\x04", 'x? '),
    'OKTrue\r\nx? ',
  );
  assert.equal(await b.exchange('ab\r', '\x04>'), 'ab\r\nAB\r\n\x04\x04>');
  assert.equal(await b.exchange("from builtins import input as ask\nprint(ask('y? '))\x04", 'y? '), 'OKy? ');
  assert.equal(await b.exchange('cd\r', '\x04>'), 'cd\r\ncd\r\n\x04\x04>');
  assert.equal(await b.exchange("builtins.input('z? ')\x04", 'z? '), 'OKz? ');
  assert.equal(
    await b.exchange('\x03', '\x04>'),
    '\x04Traceback (most recent call last):\r\n  File "<stdin>", line 1, in <module>\r\nKeyboardInterrupt: \r\n\x04>',
  );
});

test('builtins still works as a module: len, assignment, repr', async (t) => {
  const b = await startBoard(t, { raw: true });
  assert.equal(
    await b.exchange(
      "import builtins\nprint(builtins, builtins.len('abc'))\nbuiltins.shout = lambda s: s.upper() + '!'\nprint(shout('hi'))\x04",
      '\x04>', // not '>': the repr <module 'builtins'> ends with one
    ),
    "OK<module 'builtins'> 3\r\nHI!\r\n\x04\x04>",
  );
});

test('sys.stdin.readline() returns raw lines without echo', async (t) => {
  const b = await startBoard(t, { raw: true });
  assert.equal(await b.exchange('import sys\nprint(repr(sys.stdin.readline()), repr(sys.stdin.readline()))\x04', 'OK'), 'OK');
  assert.equal(await b.exchange('ab\ncd\r\n', '\x04>'), "'ab\\n' 'cd\\r\\n'\r\n\x04\x04>");
});

// A KeyboardInterrupt from Ctrl-C is an ordinary exception raised where the program is: a
// try around a sleep or an input() catches it, as on a board. Each program prints a line
// from inside its try before it waits, so the Ctrl-C is sent only once the try is entered;
// the sleeps are far longer than the waits of these tests, so only the Ctrl-C can end them.

test('Ctrl-C in a time.sleep_ms is caught by a try at top level', async (t) => {
  const b = await startBoard(t, { raw: true });
  const m = b.mark();
  b.send(
    'import time\ntry:\n    print("sleeping")\n    time.sleep_ms(600000)\n    print("slept")\nexcept KeyboardInterrupt:\n    print("caught")\nprint("after")\n\x04',
  );
  await b.until(m, 'sleeping\r\n');
  b.send('\x03');
  assert.equal(await b.until(m, '\x04>'), 'OKsleeping\r\ncaught\r\nafter\r\n\x04\x04>');
});

test('Ctrl-C in a time.sleep is caught inside a function, in the friendly REPL too', async (t) => {
  const b = await startBoard(t, { raw: true });
  const program =
    'import time\ndef wait(n):\n    try:\n        print("waiting", n)\n        time.sleep(600)\n        return "slept"\n    except KeyboardInterrupt as e:\n        return "caught %d %s" % (n, type(e).__name__)\n';
  assert.equal(await b.exchange(program + '\x04', '\x04>'), 'OK\x04\x04>');
  let m = b.mark();
  b.send('print(wait(1))\x04');
  await b.until(m, 'waiting 1\r\n');
  b.send('\x03');
  assert.equal(await b.until(m, '\x04>'), 'OKwaiting 1\r\ncaught 1 KeyboardInterrupt\r\n\x04\x04>');
  // The same function, called from the friendly REPL (Ctrl-B keeps the globals).
  await b.exchange('\x02', '>>> ');
  m = b.mark();
  b.send('wait(2)\r');
  await b.until(m, 'waiting 2\r\n');
  b.send('\x03');
  assert.equal(await b.until(m, '>>> '), "wait(2)\r\nwaiting 2\r\n'caught 2 KeyboardInterrupt'\r\n>>> ");
});

test('after a caught Ctrl-C a second Ctrl-C interrupts the following sleep loop', async (t) => {
  const b = await startBoard(t, { raw: true });
  const m = b.mark();
  b.send(
    'import time\ntry:\n    print("first")\n    time.sleep(600)\nexcept KeyboardInterrupt:\n    print("caught")\nprint("looping")\nwhile True:\n    time.sleep(0.1)\n\x04',
  );
  await b.until(m, 'first\r\n');
  b.send('\x03');
  await b.until(m, 'looping\r\n');
  b.send('\x03');
  assert.equal(
    await b.until(m, '\x04>'),
    'OKfirst\r\ncaught\r\nlooping\r\n\x04Traceback (most recent call last):\r\n  File "<stdin>", line 9, in <module>\r\nKeyboardInterrupt: \r\n\x04>',
  );
  assert.equal(await b.exchange('print("next")\x04', '\x04>'), 'OKnext\r\n\x04\x04>');
});

test('Ctrl-C in input() is caught by a try; the next one still interrupts', async (t) => {
  const b = await startBoard(t, { raw: true });
  assert.equal(
    await b.exchange('try:\n    s = input("? ")\nexcept KeyboardInterrupt:\n    s = "caught"\nprint(s)\nt = input("again? ")\x04', '? '),
    'OK? ',
  );
  assert.equal(await b.exchange('ab', 'ab'), 'ab');
  assert.equal(await b.exchange('\x03', 'again? '), 'caught\r\nagain? ');
  assert.equal(
    await b.exchange('\x03', '\x04>'),
    '\x04Traceback (most recent call last):\r\n  File "<stdin>", line 6, in <module>\r\nKeyboardInterrupt: \r\n\x04>',
  );
});
