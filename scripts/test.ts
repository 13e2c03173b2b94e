// `npm test`: node's test runner over test/*.test.ts (or the files given), two files at a time,
// each starting from a copy of one migrated database made for the run (test/template.ts), then the
// slowest files. With DATABASE_URL the run's template is a database on that server, dropped at the end.
// The TypeScript is compiled to JavaScript once per run (test/compile.ts), not by tsx in every process.
//
//   npm test [-- test/a.test.ts …]      TEST_SLOWEST=N lists N files (default 8)
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { compileForTests } from '../test/compile.js';
import {
  createPostgresTemplate,
  PGLITE_TEMPLATE_ENV,
  POSTGRES_TEMPLATE_ENV,
  pgliteTemplateFile,
} from '../test/template.js';

const started = performance.now();
const given = process.argv.slice(2);
const TIMES_CACHE = 'node_modules/.cache/customer-graph/test-times.json';
// One folder per run (inside the project, so that the compiled files resolve its node_modules): two
// runs at once must not empty each other's.
const COMPILED = `node_modules/.cache/customer-graph/compiled-${process.pid}`;

/**
 * Longest first, so that two files still run side by side at the end instead of one long file
 * alone: by the last full run's times, or before any run, the files that start processes of their
 * own (servers, a browser) first.
 */
function longestFirst(files: string[]): string[] {
  let last: Record<string, number> = {};
  try {
    last = JSON.parse(readFileSync(TIMES_CACHE, 'utf8')) as Record<string, number>;
  } catch {
    // No full run yet.
  }
  const weight = (file: string) => last[file] ?? (/\bspawn\(|chromium/.test(readFileSync(file, 'utf8')) ? 1e9 : 0);
  return files.sort((a, b) => weight(b) - weight(a) || a.localeCompare(b));
}

const everyFile = !given.some((arg) => !arg.startsWith('-'));
const files = everyFile
  ? [
      ...given,
      ...longestFirst(
        readdirSync('test')
          .filter((f) => f.endsWith('.test.ts'))
          .map((f) => `test/${f}`),
      ),
    ]
  : given;

const compiled = await compileForTests(COMPILED);
const compiledPath = (arg: string) => (arg.startsWith('-') ? arg : join(compiled, arg.replace(/\.ts$/, '.js')));
const sourcePath = (file: string) => relative(compiled, file).replace(/\.js$/, '.ts');

const server = process.env.DATABASE_URL;
const work = mkdtempSync(join(tmpdir(), 'customer-graph-test-'));
const timesFile = join(work, 'file-times.jsonl');
const env: NodeJS.ProcessEnv = { ...process.env, CG_TEST_FILE_TIMES: timesFile };
let dropTemplate = async () => {};
if (server) {
  const template = await createPostgresTemplate(server);
  env[POSTGRES_TEMPLATE_ENV] = template.name;
  dropTemplate = template.drop;
} else {
  env[PGLITE_TEMPLATE_ENV] = await pgliteTemplateFile();
}
const setupMs = performance.now() - started;

const child = spawn(
  process.execPath,
  [
    // PGlite is PostgreSQL compiled to WebAssembly, compiled anew in every test process; V8's
    // optimizing tier then recompiles its hot functions in the background, CPU that a process
    // living seconds never earns back. Without it the PGlite run took 17% less CPU on 2 cores
    // (481 → 400 s; 270 → 226 s), and the PostgreSQL run no longer.
    '--liftoff-only',
    '--enable-source-maps',
    '--import',
    './test/file-clock.mjs',
    '--test',
    '--test-concurrency=2',
    '--test-timeout=600000',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    // Names every skipped test at the end (the spec reporter only counts them), for .ci/run's check.
    '--test-reporter=./test/skip-reporter.mjs',
    '--test-reporter-destination=stdout',
    ...files.map(compiledPath),
  ],
  { env, stdio: 'inherit' },
);
// Ctrl-C reaches the whole foreground group; a SIGTERM to this script alone is passed on.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
const code = await new Promise<number>((resolve) => child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0))));

try {
  await dropTemplate();
} catch (error) {
  console.error(`could not drop the template database: ${(error as Error).message}`);
}
let times: { file: string; ms: number }[] = [];
try {
  times = readFileSync(timesFile, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { file: string; ms: number })
    .map(({ file, ms }) => ({ file: sourcePath(file), ms }));
} catch {
  // No file finished (all failed to start): nothing to list.
}
rmSync(work, { recursive: true, force: true });
rmSync(compiled, { recursive: true, force: true });
if (everyFile && code === 0) {
  mkdirSync(dirname(TIMES_CACHE), { recursive: true });
  writeFileSync(TIMES_CACHE, JSON.stringify(Object.fromEntries(times.map(({ file, ms }) => [file, Math.round(ms)]))));
}
const slowest = times.sort((a, b) => b.ms - a.ms).slice(0, Number(process.env.TEST_SLOWEST ?? 8));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
if (slowest.length) {
  console.log(`\nslowest test files (whole process: start-up, database and tests):`);
  for (const { file, ms } of slowest) console.log(`  ${seconds(ms).padStart(8)}  ${file}`);
}
console.log(
  `\n${server ? 'PostgreSQL' : 'PGlite'}: ${times.length} files in ${seconds(performance.now() - started)} (template ${seconds(setupMs)})`,
);
process.exit(code);
