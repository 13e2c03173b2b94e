// A node:test reporter that names every skipped (or todo) test, beside the spec reporter: the runner's own
// summary only counts them (`ℹ skipped N`). At the end of the run it prints one line per skip
// ("skipped: file › block › test # reason"); with TEST_SKIPS_FILE set it also appends them there as
// JSON lines, which .ci/run checks against test/allowed-skips.txt (scripts/check-skips.mjs).
import { appendFileSync } from 'node:fs';
import { relative } from 'node:path';

/** The source file a test came from: `npm test` runs compiled copies under …/compiled/. */
const sourceFile = (file) => {
  if (!file) return '(unknown file)';
  const compiled = /[\\/]compiled(?:-\d+)?[\\/](.*)\.js$/.exec(file);
  return compiled ? `${compiled[1].replaceAll('\\', '/')}.ts` : relative(process.cwd(), file).replaceAll('\\', '/');
};

export default async function* skipReporter(source) {
  // Per file, the names of the tests enclosing the one running now (events of a file arrive in order).
  const open = new Map();
  const skipped = [];
  for await (const event of source) {
    const { data } = event;
    if (event.type === 'test:start') {
      const stack = open.get(data.file) ?? [];
      stack.length = data.nesting;
      stack.push(data.name);
      open.set(data.file, stack);
    } else if ((event.type === 'test:pass' || event.type === 'test:fail') && (data.skip ?? data.todo) !== undefined) {
      // A todo runs but cannot fail the run: it is named and allowed as a skip is.
      const enclosing = (open.get(data.file) ?? []).slice(0, data.nesting);
      skipped.push({
        file: sourceFile(data.file),
        name: [...enclosing, data.name].join(' › '),
        reason: typeof (data.skip ?? data.todo) === 'string' ? (data.skip ?? data.todo) : '',
        // A skipped describe block: its tests are not run and not counted as skipped by the runner.
        suite: data.details?.type === 'suite',
      });
    }
  }
  if (process.env.TEST_SKIPS_FILE && skipped.length) {
    appendFileSync(process.env.TEST_SKIPS_FILE, skipped.map((s) => `${JSON.stringify(s)}\n`).join(''));
  }
  if (skipped.length) {
    yield `\n${skipped.length} skipped:\n`;
    for (const s of skipped)
      yield `  skipped: ${s.file} › ${s.name}${s.suite ? ' (block)' : ''}${s.reason ? ` # ${s.reason}` : ''}\n`;
  }
}
