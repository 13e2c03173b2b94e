// .ci/run's check of one phase's skipped tests against test/allowed-skips.txt.
//   node scripts/check-skips.mjs PHASE SKIPS_FILE LOG
// SKIPS_FILE: the JSON lines test/skip-reporter.mjs wrote for the phase (TEST_SKIPS_FILE); LOG: the
// phase's output, whose `ℹ skipped N` must agree with them. Prints the phase's skips to stderr, each
// marked allowed or not, and to stdout the number of skips that are not allowed (a run that named
// fewer skips than it counted adds the difference). Exits 0; .ci/run decides.
import { existsSync, readFileSync } from 'node:fs';

const ALLOWED = 'test/allowed-skips.txt';
const [phase, skipsFile, log] = process.argv.slice(2);
if (!phase || !skipsFile || !log) {
  console.error('usage: node scripts/check-skips.mjs PHASE SKIPS_FILE LOG');
  process.exit(2);
}

/** `phase | file | test | why`; a test inside describe blocks is "block › test", and a line naming a block allows every skip inside it. */
const allowed = readFileSync(ALLOWED, 'utf8')
  .split('\n')
  .map((line, i) => ({ line, at: i + 1 }))
  .filter(({ line }) => line.trim() && !line.trimStart().startsWith('#'))
  .map(({ line, at }) => {
    const [p, file, name, why] = line.split(' | ').map((part) => part.trim());
    if (!p || !file || !name || !why)
      throw new Error(`${ALLOWED}:${at}: expected "phase | file | test | why", got: ${line}`);
    return { phase: p, file, name };
  });
const isAllowed = (skip) =>
  allowed.some(
    (a) => a.phase === phase && a.file === skip.file && (a.name === skip.name || skip.name.startsWith(`${a.name} › `)),
  );

const skips = existsSync(skipsFile)
  ? readFileSync(skipsFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line))
  : [];
const counted = Number(
  [...(existsSync(log) ? readFileSync(log, 'utf8') : '').matchAll(/^ℹ skipped (\d+)/gm)].at(-1)?.[1] ?? 0,
);
const named = skips.filter((s) => !s.suite).length;

let notAllowed = 0;
const lines = [];
for (const skip of skips) {
  const ok = isAllowed(skip);
  if (!ok) notAllowed++;
  const what = `${skip.file} › ${skip.name}${skip.suite ? ' (a whole block)' : ''}${skip.reason ? ` # ${skip.reason}` : ''}`;
  lines.push(
    ok
      ? `  allowed:     ${what}`
      : `  NOT ALLOWED: ${what}\n               (skipped in ${phase} and not on ${ALLOWED}: make it run here, or add "${phase} | ${skip.file} | ${skip.name} | why")`,
  );
}
if (counted > named) {
  notAllowed += counted - named;
  lines.push(
    `  NOT ALLOWED: the runner counted ${counted} skipped tests but ${named} were named (is test/skip-reporter.mjs still one of the run's reporters?)`,
  );
}
console.error(
  `${phase}: ${skips.length} skipped${notAllowed ? `, ${notAllowed} not allowed` : ''}${lines.length ? `\n${lines.join('\n')}` : ''}`,
);
console.log(notAllowed);
