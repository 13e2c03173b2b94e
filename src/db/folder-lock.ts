// One process at a time per embedded database folder. PGlite is PostgreSQL in single-user mode with
// no shared memory between processes: two processes writing one folder corrupt it. The lock is a file
// created exclusively (O_EXCL) holding the owner's PID; a lock whose process is gone (crashed,
// SIGKILLed) is stale and taken over, so a crash can never leave the folder stuck.
import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { StartupError } from '../startup-error.js';

export const LOCK_FILE = 'customer-graph.lock';

export class DatabaseInUseError extends StartupError {
  constructor(
    readonly dataDir: string,
    readonly pid: number,
  ) {
    super(
      `the embedded database ${dataDir} is in use by another process (PID ${pid}); ` +
        'stop it first (one process at a time may open the folder)',
    );
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists, under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function ownerOf(file: string): number | null {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8').split('\n')[0] ?? '', 10);
    return Number.isSafeInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

function tryCreate(file: string): boolean {
  try {
    const fd = openSync(file, 'wx');
    try {
      writeSync(fd, `${process.pid}\n${hostname()}\n${new Date().toISOString()}\n`);
    } finally {
      closeSync(fd);
    }
    return true;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw error;
  }
}

/**
 * Takes the folder's lock or throws DatabaseInUseError. Returns the release function (also run at
 * process exit, so a process that exits without closing the database leaves no lock behind).
 */
export function lockDataDir(dataDir: string): () => void {
  const file = join(dataDir, LOCK_FILE);
  // Stale-lock takeover is itself guarded by an exclusive file, so two processes taking over the
  // same stale lock cannot both win (one would delete the other's fresh lock).
  const takeover = `${file}.takeover`;
  for (let attempt = 0; attempt < 50; attempt++) {
    if (tryCreate(file)) break;
    const pid = ownerOf(file);
    if (pid !== null && alive(pid)) throw new DatabaseInUseError(dataDir, pid);
    if (pid === null) {
      // Being written right now by its creator, or garbage: only garbage once it is not brand new.
      const age = Date.now() - (statSafe(file) ?? Date.now());
      if (age < 2_000) {
        sleep(50);
        continue;
      }
    }
    if (tryCreate(takeover)) {
      try {
        if (ownerOf(file) === pid) unlinkSafe(file);
      } finally {
        unlinkSafe(takeover);
      }
    } else if (Date.now() - (statSafe(takeover) ?? Date.now()) > 10_000) {
      unlinkSafe(takeover); // left by a process that died mid-takeover
    } else {
      sleep(50);
    }
    if (attempt === 49) throw new Error(`could not take the lock ${file}`);
  }
  let held = true;
  const release = () => {
    if (!held) return;
    held = false;
    process.off('exit', release);
    if (ownerOf(file) === process.pid) unlinkSafe(file);
  };
  process.on('exit', release);
  return release;
}

function statSafe(file: string): number | undefined {
  try {
    return statSync(file).mtimeMs;
  } catch {
    return undefined;
  }
}

function unlinkSafe(file: string) {
  try {
    unlinkSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
}

function sleep(ms: number) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
