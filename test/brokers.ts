// Private brokers for the event tests: a nats-server (JetStream) or redis-server of the test's own,
// on a free loopback port, which the test can stop (as an outage) and start again on the same port
// and data. The machine's own brokers (4222, 6379) are never touched.
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { connect as connectTcp, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * A broker binary: the path `envVar` names if set, else the first `name` on PATH, then in /usr/sbin
 * and /usr/bin (where Debian puts them, and not always on a user's PATH). Unfound: the bare name,
 * which `requireBinary` reports as missing.
 */
export function findBinary(name: string, envVar: string, env: NodeJS.ProcessEnv = process.env): string {
  const given = env[envVar];
  if (given) return given;
  const dirs = [...(env.PATH ?? '').split(delimiter).filter(Boolean), '/usr/sbin', '/usr/bin'];
  for (const dir of dirs) {
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // Not here.
    }
  }
  return name;
}

export const NATS_SERVER = findBinary('nats-server', 'NATS_SERVER_BIN');
export const REDIS_SERVER = findBinary('redis-server', 'REDIS_SERVER_BIN');

/**
 * Skips the test when the broker binary is missing, except in CI (`CI=true`), where a missing
 * binary fails it: a broker test must never turn green by not running.
 */
export function requireBinary(t: TestContext, binary: string): boolean {
  if (binary.includes('/') && existsSync(binary)) return true;
  const where = binary.includes('/')
    ? binary
    : `${binary} (on PATH, /usr/sbin, /usr/bin; or set NATS_SERVER_BIN / REDIS_SERVER_BIN)`;
  if (process.env.CI === 'true') throw new Error(`${where} is missing: the broker tests must run in CI`);
  t.skip(`${where} is missing`);
  return false;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connectTcp({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

export interface PrivateBroker {
  url: string;
  port: number;
  /** Starts the broker and waits until it accepts connections. */
  start(): Promise<void>;
  /** Kills the broker (SIGKILL, as a crash or a network cut) and waits until it is gone. */
  stop(): Promise<void>;
  readonly running: boolean;
}

function privateBroker(
  url: (port: number) => string,
  command: (port: number, dir: string) => [string, string[]],
  port: number,
): PrivateBroker {
  const dir = mkdtempSync(join(tmpdir(), 'cg-broker-'));
  let child: ChildProcess | undefined;
  let output = '';
  const broker: PrivateBroker = {
    url: url(port),
    port,
    get running() {
      return child !== undefined;
    },
    async start() {
      if (child) return;
      const [bin, args] = command(port, dir);
      child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout!.on('data', (d) => (output += d));
      child.stderr!.on('data', (d) => (output += d));
      // The broker does not keep the test process alive; it is killed when that exits.
      child.unref();
      (child.stdout as unknown as { unref(): void }).unref();
      (child.stderr as unknown as { unref(): void }).unref();
      const exited = child;
      exited.once('exit', () => {
        if (child === exited) child = undefined;
      });
      for (let i = 0; i < 200; i++) {
        if (!child) throw new Error(`${bin} exited:\n${output}`);
        if (await accepts(port)) return;
        await sleep(25);
      }
      throw new Error(`${bin} did not listen on ${port}:\n${output}`);
    },
    async stop() {
      const running = child;
      if (!running) return;
      child = undefined;
      const gone = new Promise((resolve) => running.once('exit', resolve));
      running.kill('SIGKILL');
      await gone;
    },
  };
  // At the process's exit rather than in an `after` hook: a test's own hooks (closing its sinks,
  // reading the stream) still find the broker running.
  process.once('exit', () => {
    child?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });
  return broker;
}

/** A JetStream nats-server storing its streams in a folder of its own, so they outlive a restart. */
export async function privateNats(): Promise<PrivateBroker> {
  return privateBroker(
    (port) => `nats://127.0.0.1:${port}`,
    (port, dir) => [NATS_SERVER, ['-js', '-a', '127.0.0.1', '-p', String(port), '-sd', dir]],
    await freePort(),
  );
}

/** A redis-server whose append-only file is synced on every write, so a killed one loses nothing it acknowledged. */
export async function privateRedis(): Promise<PrivateBroker> {
  return privateBroker(
    (port) => `redis://127.0.0.1:${port}`,
    (port, dir) => [
      REDIS_SERVER,
      [
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--dir',
        dir,
      ],
    ],
    await freePort(),
  );
}
