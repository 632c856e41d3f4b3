// Turning a WebAssembly module's own memory into an imported shared one, so that another
// thread can write the interpreter's memory while it runs (vmhook.mjs, the ESP8266 VM hook).
//
// A module either defines its memory (memory section) or imports it (import section).
// sharedMemoryModule moves the definition into an import of a shared memory with the same
// limits; the memory keeps index 0 and its export, so the code and Emscripten's glue see
// no difference. Plain loads and stores are valid on a shared memory.

function readULEB(buf, pos) {
  let result = 0;
  let shift = 0;
  for (;;) {
    const b = buf[pos++];
    result += (b & 0x7f) * 2 ** shift;
    shift += 7;
    if ((b & 0x80) === 0) return [result, pos];
    if (shift > 35) throw new Error('wasm: malformed LEB128');
  }
}

function uleb(n) {
  const out = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return out;
}

const sectionImport = 2;
const sectionMemory = 5;
const kindMemory = 0x02;
const limitsSharedWithMax = 0x03;
// Emscripten's heap grows up to the 2 GiB WebAssembly limit (interpreter.mjs caps it lower).
const defaultMaximumPages = 32768;

// sharedMemoryModule returns the rewritten module bytes, the import's name (in "env") and
// the memory's limits in 64 KiB pages.
export function sharedMemoryModule(source) {
  const buf = source instanceof Uint8Array ? source : new Uint8Array(source.buffer ?? source, source.byteOffset ?? 0, source.byteLength);
  if (buf.length < 8 || buf[0] !== 0 || buf[1] !== 0x61 || buf[2] !== 0x73 || buf[3] !== 0x6d) throw new Error('wasm: not a module');
  const sections = [];
  for (let pos = 8; pos < buf.length; ) {
    const id = buf[pos];
    const [size, body] = readULEB(buf, pos + 1);
    sections.push({ id, start: pos, body, end: body + size });
    pos = body + size;
  }
  const memory = sections.find((s) => s.id === sectionMemory);
  const imports = sections.find((s) => s.id === sectionImport);
  if (!memory || !imports) throw new Error('wasm: the module defines no memory of its own, or imports nothing');
  let [count, p] = readULEB(buf, memory.body);
  if (count !== 1) throw new Error(`wasm: ${count} memories`);
  const flags = buf[p++];
  let initial;
  let maximum = defaultMaximumPages;
  [initial, p] = readULEB(buf, p);
  if (flags & 1) [maximum, p] = readULEB(buf, p);
  const importName = 'webrepl_sim_shared_memory';
  const name = (s) => [...uleb(s.length), ...Buffer.from(s, 'latin1')];
  const [importCount, firstImport] = readULEB(buf, imports.body);
  const entry = [...name('env'), ...name(importName), kindMemory, limitsSharedWithMax, ...uleb(initial), ...uleb(maximum)];
  const importBody = [...uleb(importCount + 1), ...buf.subarray(firstImport, imports.end), ...entry];
  const parts = [buf.subarray(0, 8)];
  for (const s of sections) {
    if (s === memory) continue;
    if (s === imports) parts.push(Uint8Array.from([sectionImport, ...uleb(importBody.length), ...importBody]));
    else parts.push(buf.subarray(s.start, s.end));
  }
  return { bytes: Buffer.concat(parts), importName, initial, maximum };
}
