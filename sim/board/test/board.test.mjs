// The board's flash (--fs DIR) and its ESP32 modules.

import test from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Board, startBoard, tempFlash } from './framing.mjs';

const ok = (text) => `OK${text}\x04\x04>`;

test('files in DIR at boot are the board flash; nothing else is', async (t) => {
  const dir = tempFlash(t);
  fs.writeFileSync(path.join(dir, 'boot.py'), '# boot\n');
  fs.mkdirSync(path.join(dir, 'lib'));
  fs.writeFileSync(path.join(dir, 'lib', 'helper.py'), 'def twice(x):\n    return 2 * x\n');
  const b = await startBoard(t, { fsDir: dir, raw: true });
  assert.equal(
    await b.exchange('import os, helper\nprint(sorted(os.listdir("/")), os.getcwd(), helper.twice(21))\x04', '\x04>'),
    ok("['boot.py', 'lib'] / 42\r\n"),
  );
});

test('files a program writes appear in DIR; removals and renames are mirrored', async (t) => {
  const dir = tempFlash(t);
  const b = await startBoard(t, { fsDir: dir, raw: true });
  const program = [
    'import os',
    'with open("data.txt", "w") as f:',
    '    f.write("line 1\\n")',
    'with open("data.txt", "a") as f:',
    '    f.write("line 2\\n")',
    'with open("blob.bin", "wb") as f:',
    '    f.write(bytes(range(256)))',
    'os.mkdir("logs")',
    'with open("logs/a.log", "w") as f:',
    '    f.write("x")',
    'with open("gone.txt", "w") as f:',
    '    f.write("soon gone")',
    'os.remove("gone.txt")',
    'os.rename("logs/a.log", "logs/b.log")',
  ].join('\n');
  assert.equal(await b.exchange(program + '\x04', '\x04>'), ok(''));
  assert.equal(fs.readFileSync(path.join(dir, 'data.txt'), 'utf8'), 'line 1\nline 2\n');
  assert.deepEqual([...fs.readFileSync(path.join(dir, 'blob.bin'))], [...Array(256).keys()]);
  assert.deepEqual(fs.readdirSync(path.join(dir, 'logs')), ['b.log']);
  assert.equal(fs.existsSync(path.join(dir, 'gone.txt')), false);
  assert.equal(await b.exchange('os.remove("logs/b.log")\nos.rmdir("logs")\x04', '\x04>'), ok(''));
  assert.deepEqual(fs.readdirSync(dir).sort(), ['blob.bin', 'data.txt']);
});

test('a file dropped into DIR is visible to the next program; a removed one is gone', async (t) => {
  const dir = tempFlash(t);
  const b = await startBoard(t, { fsDir: dir, raw: true });
  assert.equal(await b.exchange('import os\nprint(os.listdir())\x04', '\x04>'), ok('[]\r\n'));
  fs.writeFileSync(path.join(dir, 'settings.py'), 'LED = 2\n');
  assert.equal(await b.exchange('import settings\nprint(settings.LED)\x04', '\x04>'), ok('2\r\n'));
  fs.writeFileSync(path.join(dir, 'settings.py'), 'LED = 5  # changed by PUT\n');
  assert.equal(await b.exchange('print(open("settings.py").read())\x04', '\x04>'), ok('LED = 5  # changed by PUT\r\n\r\n'));
  fs.rmSync(path.join(dir, 'settings.py'));
  assert.equal(await b.exchange('print(os.listdir())\x04', '\x04>'), ok('[]\r\n'));
});

test('a WebREPL PUT in progress (.webrepl-put-* temporary) is invisible until renamed', async (t) => {
  const dir = tempFlash(t);
  fs.mkdirSync(path.join(dir, 'lib'));
  const b = await startBoard(t, { fsDir: dir, raw: true });
  // Half-written temporaries, as the Go side leaves them while a PUT is under way.
  fs.writeFileSync(path.join(dir, '.webrepl-put-1234'), 'VALUE = ');
  fs.writeFileSync(path.join(dir, 'lib', '.webrepl-put-5678'), 'X = ');
  assert.equal(
    await b.exchange('import os\nprint(os.listdir(), os.listdir("lib"))\x04', '\x04>'),
    ok("['lib'] []\r\n"),
  );
  fs.appendFileSync(path.join(dir, '.webrepl-put-1234'), '7\n');
  fs.renameSync(path.join(dir, '.webrepl-put-1234'), path.join(dir, 'conf.py'));
  assert.equal(
    await b.exchange('import conf\nprint(sorted(os.listdir()), conf.VALUE)\x04', '\x04>'),
    ok("['conf.py', 'lib'] 7\r\n"),
  );
  // A file the board itself gives such a name is an ordinary file of its own and stays.
  assert.equal(
    await b.exchange('open(".webrepl-put-mine", "w").write("kept")\x04', '\x04>'),
    ok(''),
  );
  assert.equal(
    await b.exchange('print(open(".webrepl-put-mine").read())\x04', '\x04>'),
    ok('kept\r\n'),
  );
});

test('board paths cannot escape DIR, not even through a link placed in DIR', async (t) => {
  const parent = tempFlash(t);
  const dir = path.join(parent, 'flash');
  const outside = path.join(parent, 'outside');
  fs.mkdirSync(dir);
  fs.mkdirSync(outside);
  fs.symlinkSync(outside, path.join(dir, 'link'));
  const b = await startBoard(t, { fsDir: dir, raw: true });
  const program = [
    'import os',
    'for p in ("../escape.txt", "/../escape.txt", "/../../escape.txt"):',
    '    try:',
    '        open(p, "w").write("x")',
    '    except OSError:',
    '        pass',
    'print(os.listdir("/"))',
    'for p in ("link", "link/x.txt"):',
    '    try:',
    '        os.mkdir(p)',
    '    except OSError as e:',
    '        print("refused", e)',
  ].join('\n');
  assert.equal(await b.exchange(program + '\x04', '\x04>'), ok('[]\r\nrefused [Errno 5] EIO\r\nrefused [Errno 5] EIO\r\n'));
  assert.deepEqual(fs.readdirSync(parent).sort(), ['flash', 'outside']);
  assert.deepEqual(fs.readdirSync(outside), []);
});

test('machine.Pin and PWM changes are reported as p messages', async (t) => {
  const b = await startBoard(t, { raw: true });
  const from = b.messages.length;
  assert.equal(
    await b.exchange('import machine\nmachine.Pin(2).value(1)\nled = machine.Pin(2, machine.Pin.OUT)\nprint(led.value())\nled.off()\nled.toggle()\x04', '\x04>'),
    ok('1\r\n'),
  );
  assert.equal(
    await b.exchange('pwm = machine.PWM(machine.Pin(4), freq=1000, duty=512)\npwm.duty(100)\nprint(pwm.freq(), pwm.duty())\x04', '\x04>'),
    ok('1000 100\r\n'),
  );
  const peripherals = b.messages.slice(from).filter((m) => m.type === 'p').map((m) => JSON.parse(m.payload.toString()));
  assert.deepEqual(peripherals, [
    { pin: 2, value: 1 },
    { pin: 2, value: 0 },
    { pin: 2, value: 1 },
    { pwm: 4, freq: 1000, duty: 512 },
    { pwm: 4, freq: 1000, duty: 100 },
  ]);
});

test('machine errors look like the C module: no simulator frames', async (t) => {
  const b = await startBoard(t, { raw: true });
  assert.equal(
    await b.exchange('import machine\nmachine.Pin(99)\x04', '\x04>'),
    'OK\x04Traceback (most recent call last):\r\n  File "<stdin>", line 2, in <module>\r\nValueError: invalid pin\r\n\x04>',
  );
});

test('machine, network and os answer like an ESP32 that says it is simulated', async (t) => {
  const b = await startBoard(t, { raw: true });
  const program = [
    'import machine, network, os',
    'print(len(machine.unique_id()), machine.freq())',
    'print(machine.Pin(0, machine.Pin.IN, machine.Pin.PULL_UP).value())',
    'print(0 <= machine.ADC(machine.Pin(34)).read() <= 4095)',
    'sta = network.WLAN(network.STA_IF)',
    'sta.active(True)',
    'print(sta.isconnected())',
    'sta.connect("ssid", "password")',
    'print(sta.isconnected(), len(sta.ifconfig()), len(sta.config("mac")))',
    'print("simulator" in os.uname().machine, os.uname().sysname)',
    'print("machine.py" in os.listdir() or "network.py" in os.listdir())',
  ].join('\n');
  assert.equal(
    await b.exchange(program + '\x04', '\x04>'),
    ok('6 160000000\r\n1\r\nTrue\r\nFalse\r\nTrue 4 6\r\nTrue esp32\r\nFalse\r\n'),
  );
});

test('machine.reset() requests a hard reset, machine.soft_reset() a soft one', async (t) => {
  const hard = await startBoard(t, { raw: true });
  let from = hard.messages.length;
  hard.send('import machine\nmachine.reset()\x04');
  await hard.waitMessage('h', from);
  const soft = await startBoard(t, { raw: true });
  from = soft.messages.length;
  soft.send('import machine\nmachine.soft_reset()\x04');
  await soft.waitMessage('s', from);
});

test('WEBREPL_SIM_MODULES selects the node_modules folder; a wrong one is a clear error', async (t) => {
  const modules = path.join(path.dirname(new URL(import.meta.url).pathname), '..', 'node_modules');
  const good = await startBoard(t, { env: { WEBREPL_SIM_MODULES: modules } });
  assert.ok(good.console.endsWith('>>> '));
  const bad = new Board({ fsDir: tempFlash(t), env: { WEBREPL_SIM_MODULES: path.join(tempFlash(t), 'nothing') } });
  t.after(() => bad.close());
  await bad.waitFor((x) => x.exited, 'exit');
  assert.notEqual(bad.exited.code, 0);
  assert.match(bad.stderr, /MicroPython package not found/);
});

test('boot.py and main.py run at start-up with the board framing; the banner follows', async (t) => {
  const dir = tempFlash(t);
  fs.writeFileSync(path.join(dir, 'boot.py'), 'print("boot ran")\nBOOT = 1\n');
  fs.writeFileSync(path.join(dir, 'main.py'), 'print("main sees", BOOT)\nx = 1 / 0\n');
  const b = await startBoard(t, { fsDir: dir });
  assert.match(
    b.console,
    /^boot ran\r\nmain sees 1\r\nTraceback \(most recent call last\):\r\n {2}File "main\.py", line 2, in <module>\r\nZeroDivisionError: divide by zero\r\n\r\nMicroPython v1\.27\.0 [^\r]*\r\nType "help\(\)" for more information\.\r\n>>> $/,
  );
  assert.equal(await b.exchange('BOOT\r', '>>> '), 'BOOT\r\n1\r\n>>> ');
});

test('a looping main.py can be stopped with Ctrl-C; raw boots skip main.py', async (t) => {
  const dir = tempFlash(t);
  fs.writeFileSync(path.join(dir, 'main.py'), 'import time\nwhile True:\n    time.sleep_ms(20)\n');
  const b = await startBoard(t, { fsDir: dir, waitPrompt: false });
  const m = b.mark();
  b.send('\x03');
  assert.match(await b.until(m, '>>> '), /^Traceback \(most recent call last\):\r\n {2}File "main\.py", line 3, in <module>\r\nKeyboardInterrupt: \r\n\r\nMicroPython/);
  const raw = await startBoard(t, { fsDir: dir, raw: true });
  assert.equal(raw.console, 'raw REPL; CTRL-B to exit\r\n>');
});

test('machine.Timer callbacks run while the program sleeps and while the REPL waits', async (t) => {
  const b = await startBoard(t, { raw: true });
  const program = [
    'from machine import Timer',
    'import time',
    'ticks = []',
    'tim = Timer(0)',
    'tim.init(period=20, mode=Timer.PERIODIC, callback=lambda t: ticks.append(1))',
    'time.sleep_ms(300)',
    'print(len(ticks) >= 5)',
    'once = Timer(1, mode=Timer.ONE_SHOT, period=10, callback=lambda t: print("fired"))',
  ].join('\n');
  const m = b.mark();
  b.send(program + '\x04');
  // The one-shot timer fires while the board sits at the raw prompt: unsolicited output.
  assert.equal(await b.until(m, 'fired\r\n'), ok('True\r\n') + 'fired\r\n');
  assert.equal(await b.exchange('tim.deinit()\nprint(once.value())\x04', '\x04>'), ok('0\r\n'));
});

test('a program that allocates without end resets the board instead of eating the host', async (t) => {
  const b = await startBoard(t, { raw: true });
  const from = b.messages.length;
  const m = b.mark();
  b.send('l = []\nwhile True:\n    l.append("x" * 1000)\n\x04');
  await b.waitMessage('h', from);
  assert.match(b.output(m), /^OK\r\nsimulated board: out of memory \(over \d+ MiB\), resetting\r\n$/);
});

test('a boot.py copied from a real ESP32 runs: esp, webrepl, esp32, dht, neopixel exist', async (t) => {
  const dir = tempFlash(t);
  fs.writeFileSync(path.join(dir, 'boot.py'), 'import esp\nesp.osdebug(None)\nimport webrepl\nwebrepl.start()\n');
  const b = await startBoard(t, { fsDir: dir, raw: true });
  assert.equal(b.console, 'raw REPL; CTRL-B to exit\r\n>');
  const from = b.messages.length;
  const program = [
    'import esp32, dht, neopixel, machine',
    'print(type(esp32.mcu_temperature()))',
    'sensor = dht.DHT22(machine.Pin(4))',
    'sensor.measure()',
    'print(10 < sensor.temperature() < 40, 0 <= sensor.humidity() <= 100)',
    'strip = neopixel.NeoPixel(machine.Pin(5), 2)',
    'strip[1] = (0, 0, 255)',
    'strip.write()',
  ].join('\n');
  assert.equal(await b.exchange(program + '\x04', '\x04>'), ok("<class 'int'>\r\nTrue True\r\n"));
  const p = b.messages.slice(from).filter((m) => m.type === 'p').map((m) => JSON.parse(m.payload.toString()));
  assert.deepEqual(p, [{ neopixel: 5, pixels: [[0, 0, 0], [0, 0, 255]] }]);
});
