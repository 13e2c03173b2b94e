// Preloaded into every test file's process by scripts/test.ts: on exit, appends how long the whole
// process took (start-up, imports and database set-up included, which node's reporters never see).
import { appendFileSync } from 'node:fs';
import { relative } from 'node:path';

const out = process.env.CG_TEST_FILE_TIMES;
const file = process.argv[1];
if (out && file && /\.test\.[cm]?[jt]s$/.test(file)) {
  process.on('exit', (code) => {
    const line = { file: relative(process.cwd(), file), ms: Math.round(performance.now()), code };
    appendFileSync(out, `${JSON.stringify(line)}\n`);
  });
}
