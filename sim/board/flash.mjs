// The board's flash: Emscripten's MEMFS at /flash (mounted as / for Python, py/board.py),
// mirrored to the host folder fsDir both ways. The board's own changes are written through
// at once (hooks on FS); changes made in fsDir (WebREPL PUT, a file dropped in by hand, a
// removal) are loaded by syncFromHost before each execution.
//
// Owns: what was last synchronised (path → kind, mtime, size) and whether the flash itself
// is changing MEMFS (no write-through then).

import fs from 'node:fs';
import path from 'node:path';
import { log } from './log.mjs';

export const flashMount = '/flash'; // where the board's flash lives inside Emscripten's MEMFS

const EIO = 29; // Emscripten's number; translated to 5 on the way into the interpreter

// The Go side's WebREPL PUT writes into a file with this name prefix beside the target and
// renames it when complete; the board must never load such a half-written file.
const putTempPrefix = '.webrepl-put-';

function insidePutTemp(rel) {
  return rel.split('/').some((name) => name.startsWith(putTempPrefix));
}

export class Flash {
  // FS is the interpreter's Emscripten file system; fsDir the host folder (a real path).
  constructor(FS, fsDir) {
    this.FS = FS;
    this.fsDir = fsDir;
    this.known = new Map(); // rel path → { dir, mtimeMs, size } as last synchronised
    this.syncing = false; // true while the flash itself changes MEMFS (no write-through)
  }

  // mount creates the flash in MEMFS, loads fsDir into it and starts writing through.
  mount() {
    this.syncing = true;
    try {
      this.FS.mkdir(flashMount);
    } finally {
      this.syncing = false;
    }
    this.syncFromHost();
    this.installHooks();
  }

  // has reports whether the flash holds name (a path relative to its root).
  has(name) {
    return this.memExists(flashMount + '/' + name);
  }

  hostPathFor(rel) {
    const host = path.resolve(this.fsDir, rel);
    if (host !== this.fsDir && !host.startsWith(this.fsDir + path.sep)) return null;
    return host;
  }

  // memAbsolute resolves a MEMFS path the way Emscripten does: relative to its cwd (the
  // port passes paths like "logs" through unchanged after os.chdir).
  memAbsolute(memPath) {
    return path.posix.resolve(this.FS.cwd(), memPath);
  }

  // relOf maps a MEMFS path to a path relative to the flash root, or null outside it.
  relOf(memPath) {
    if (typeof memPath !== 'string') return null;
    const p = this.memAbsolute(memPath);
    if (!p.startsWith(flashMount + '/')) return null;
    const rel = p.slice(flashMount.length + 1);
    return rel === '' || this.hostPathFor(rel) === null ? null : rel;
  }

  insideFlash(hostPath) {
    return hostPath === this.fsDir || hostPath.startsWith(this.fsDir + path.sep);
  }

  // safeHostTarget returns the host path for rel if writing there cannot leave fsDir
  // through a symbolic link (the board never makes links, but DIR is shared with the host).
  safeHostTarget(rel) {
    const host = this.hostPathFor(rel);
    if (host === null) return null;
    let existing = path.dirname(host);
    while (!fs.existsSync(existing)) existing = path.dirname(existing);
    try {
      if (!this.insideFlash(fs.realpathSync(existing))) return null;
    } catch {
      return null;
    }
    try {
      if (fs.lstatSync(host).isSymbolicLink()) return null;
    } catch {
      // does not exist yet
    }
    return host;
  }

  remember(rel, host) {
    try {
      const st = fs.statSync(host);
      this.known.set(rel, { dir: st.isDirectory(), mtimeMs: st.mtimeMs, size: st.size });
    } catch {
      this.known.delete(rel);
    }
  }

  forgetTree(rel) {
    for (const key of [...this.known.keys()]) {
      if (key === rel || key.startsWith(rel + '/')) this.known.delete(key);
    }
  }

  // mirror applies one change to fsDir. A failure is logged and reported to the program as
  // an I/O error (EIO), like a flash write that failed on a board: nothing is lost silently.
  mirror(what, rel, action) {
    try {
      action();
      return true;
    } catch (err) {
      log(`flash: could not ${what} ${rel} in ${this.fsDir}: ${err.message}`);
      return false;
    }
  }

  // writeThrough copies a file the board just wrote to fsDir; false if that failed.
  writeThrough(memPath) {
    const rel = this.relOf(memPath);
    if (rel === null) return true;
    const host = this.safeHostTarget(rel);
    if (host === null) {
      log(`flash: refusing to write ${rel}: it would leave ${this.fsDir}`);
      return false;
    }
    return this.mirror('write', rel, () => {
      const content = this.FS.readFile(this.memAbsolute(memPath));
      fs.mkdirSync(path.dirname(host), { recursive: true });
      fs.writeFileSync(host, content);
      this.remember(rel, host);
    });
  }

  memExists(memPath) {
    return this.FS.analyzePath(memPath).exists;
  }

  memMkdirs(memDir) {
    const parts = memDir.split('/').filter(Boolean);
    let cur = '';
    for (const part of parts) {
      cur += '/' + part;
      if (!this.memExists(cur)) this.FS.mkdir(cur);
    }
  }

  memRemoveTree(memPath) {
    const { FS } = this;
    const st = FS.stat(memPath);
    if (FS.isDir(st.mode)) {
      for (const name of FS.readdir(memPath)) {
        if (name !== '.' && name !== '..') this.memRemoveTree(memPath + '/' + name);
      }
      FS.rmdir(memPath);
    } else {
      FS.unlink(memPath);
    }
  }

  // walkHost lists fsDir (relative paths, directories before their contents). Symbolic
  // links and special files are skipped: the board's flash holds only files and folders. So
  // are PUT temporaries.
  walkHost() {
    const { fsDir } = this;
    const entries = [];
    const visit = (relDir) => {
      let names;
      try {
        names = fs.readdirSync(relDir ? path.join(fsDir, relDir) : fsDir);
      } catch (err) {
        log(`flash: cannot list ${relDir || '.'} in ${fsDir}: ${err.message}`);
        return;
      }
      names.sort();
      for (const name of names) {
        if (name.startsWith(putTempPrefix)) continue;
        const rel = relDir ? relDir + '/' + name : name;
        let st;
        try {
          st = fs.lstatSync(path.join(fsDir, rel));
        } catch {
          continue; // vanished meanwhile
        }
        if (st.isDirectory()) {
          entries.push({ rel, dir: true, st });
          visit(rel);
        } else if (st.isFile()) {
          entries.push({ rel, dir: false, st });
        }
      }
    };
    visit('');
    return entries;
  }

  // syncFromHost makes MEMFS match fsDir for everything that changed there since the board
  // last looked (WebREPL PUT, a file dropped in by hand, a removal).
  syncFromHost() {
    const { FS } = this;
    this.syncing = true;
    try {
      const seen = new Set();
      for (const { rel, dir, st } of this.walkHost()) {
        seen.add(rel);
        const memPath = flashMount + '/' + rel;
        const known = this.known.get(rel);
        if (dir) {
          if (!known || !known.dir || !this.memExists(memPath)) {
            this.mirror('load folder', rel, () => {
              if (this.memExists(memPath) && !FS.isDir(FS.stat(memPath).mode)) FS.unlink(memPath);
              this.memMkdirs(memPath);
            });
            this.known.set(rel, { dir: true, mtimeMs: st.mtimeMs, size: st.size });
          }
          continue;
        }
        if (known && !known.dir && known.mtimeMs === st.mtimeMs && known.size === st.size && this.memExists(memPath)) {
          continue;
        }
        this.mirror('load', rel, () => {
          const content = fs.readFileSync(path.join(this.fsDir, rel));
          if (this.memExists(memPath) && FS.isDir(FS.stat(memPath).mode)) this.memRemoveTree(memPath);
          this.memMkdirs(path.posix.dirname(memPath));
          FS.writeFile(memPath, content);
          this.known.set(rel, { dir: false, mtimeMs: st.mtimeMs, size: st.size });
        });
      }
      // Deepest first, so folders are empty when their turn comes.
      // A file the board itself named like a PUT temporary is not listed above, yet is no
      // less there: it stays.
      const gone = [...this.known.keys()].filter((rel) => !seen.has(rel) && !insidePutTemp(rel)).sort().reverse();
      for (const rel of gone) {
        const memPath = flashMount + '/' + rel;
        this.mirror('remove', rel, () => {
          if (this.memExists(memPath)) this.memRemoveTree(memPath);
        });
        this.forgetTree(rel);
      }
    } finally {
      this.syncing = false;
    }
  }

  // installHooks writes the board's own changes through to fsDir as they happen.
  installHooks() {
    const flash = this;
    const { FS, fsDir } = this;
    const { close, unlink, rmdir, mkdir, rename } = FS;
    const check = (ok) => {
      if (!ok) throw new FS.ErrnoError(EIO);
    };
    // hostTargetFor returns the host path a MEMFS change must be mirrored to, null when the
    // path is outside the flash, or throws EIO when it cannot be mirrored safely.
    const hostTargetFor = (memPath) => {
      const rel = flash.syncing ? null : flash.relOf(memPath);
      if (rel === null) return null;
      const host = flash.safeHostTarget(rel);
      if (host === null) {
        log(`flash: refusing to change ${rel}: it would leave ${fsDir}`);
        throw new FS.ErrnoError(EIO);
      }
      return { rel, host };
    };
    FS.close = function boardClose(stream) {
      const memPath = stream.path;
      const wrote = (stream.flags & 3) !== 0; // O_WRONLY | O_RDWR
      const result = close.apply(this, arguments);
      if (wrote && !flash.syncing) check(flash.writeThrough(memPath));
      return result;
    };
    FS.unlink = function boardUnlink(memPath) {
      const target = hostTargetFor(memPath);
      const result = unlink.apply(this, arguments);
      if (target) {
        flash.known.delete(target.rel);
        check(flash.mirror('remove', target.rel, () => fs.rmSync(target.host, { force: true })));
      }
      return result;
    };
    FS.rmdir = function boardRmdir(memPath) {
      const target = hostTargetFor(memPath);
      const result = rmdir.apply(this, arguments);
      if (target) {
        flash.forgetTree(target.rel);
        check(flash.mirror('remove folder', target.rel, () => fs.rmSync(target.host, { recursive: true, force: true })));
      }
      return result;
    };
    FS.mkdir = function boardMkdir(memPath) {
      const target = hostTargetFor(memPath);
      const result = mkdir.apply(this, arguments);
      if (target) {
        check(
          flash.mirror('create folder', target.rel, () => {
            fs.mkdirSync(target.host, { recursive: true });
            flash.remember(target.rel, target.host);
          }),
        );
      }
      return result;
    };
    FS.rename = function boardRename(oldPath, newPath) {
      const from = hostTargetFor(oldPath);
      const to = hostTargetFor(newPath);
      const result = rename.apply(this, arguments);
      if (from && to) {
        flash.forgetTree(from.rel);
        flash.forgetTree(to.rel);
        check(
          flash.mirror('rename', from.rel, () => {
            fs.mkdirSync(path.dirname(to.host), { recursive: true });
            fs.renameSync(from.host, to.host);
            // Re-learn the moved tree so the next sync sees no change.
            for (const { rel } of flash.walkHost()) {
              if (rel === to.rel || rel.startsWith(to.rel + '/')) flash.remember(rel, path.join(fsDir, rel));
            }
          }),
        );
      } else if (from) {
        flash.forgetTree(from.rel);
        check(flash.mirror('remove', from.rel, () => fs.rmSync(from.host, { recursive: true, force: true })));
      } else if (to) {
        const st = FS.stat(flash.memAbsolute(newPath));
        if (!FS.isDir(st.mode)) check(flash.writeThrough(newPath));
      }
      return result;
    };
  }
}
