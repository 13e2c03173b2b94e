import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseEnv } from 'node:util';
import {
  README_BEGIN,
  README_END,
  readmeWithSettings,
  renderEnvExample,
  settingDocs,
} from '../scripts/settings-docs.js';
import { DEFAULTS, type Env, loadEnv, settingsSchema } from '../src/env.js';

// Every setting is declared once, in src/env.ts; .env.example and the README's table are generated
// from it (`npm run settings:print`). These tests hold the generated files to the declarations.

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), 'utf8');
const names = Object.keys(settingsSchema.shape) as (keyof Env)[];

test('.env.example lists every setting at its default, and reading it changes nothing', () => {
  const example = read('.env.example');
  for (const name of names) {
    const line = new RegExp(`^(# )?${name}=(.*)$`, 'm').exec(example);
    assert.ok(line, `.env.example has no ${name}`);
    // Commented out exactly when unset has a meaning of its own (no default).
    assert.equal(line[1] !== undefined, DEFAULTS[name] === undefined, `.env.example: ${name} commented out`);
  }
  // What `npm start` reads from a .env copied from the example: every setting at its default.
  assert.deepEqual(loadEnv(parseEnv(example)), DEFAULTS);
});

test("the README's settings table has a row per setting, with its default", () => {
  const readme = read('README.md');
  const table = readme.slice(readme.indexOf(README_BEGIN), readme.indexOf(README_END));
  for (const name of names) {
    const row = new RegExp(`^\\| \`${name}\` \\| ([^|]+) \\|`, 'm').exec(table);
    assert.ok(row, `README settings table has no ${name}`);
    const shown = row[1]!;
    if (shown === 'unset') assert.equal(DEFAULTS[name], undefined, name);
    else {
      const value = shown === 'empty' ? '' : /^`(.*)`$/.exec(shown)?.[1];
      assert.notEqual(value, undefined, `${name}: ${shown}`);
      assert.deepEqual(loadEnv({ [name]: value })[name], DEFAULTS[name], `${name}: ${shown}`);
    }
  }
});

test('.env.example and the README are what `npm run settings:print` makes of src/env.ts', () => {
  assert.equal(read('.env.example'), renderEnvExample(), 'run `npm run settings:print`');
  const readme = read('README.md');
  assert.equal(readmeWithSettings(readme), readme, 'run `npm run settings:print`');
});

test('the generator covers every setting of the schema, each with a description', () => {
  const documented = settingDocs().flatMap(({ settings }) => settings);
  assert.deepEqual(
    documented.map((s) => s.name),
    names,
  );
  for (const setting of documented) assert.ok(setting.description.length > 10, setting.name);
});

test('a stale README table is replaced, and a README without the markers is refused', () => {
  const readme = `# Title\n\n${README_BEGIN}\n| variable |\n| \`PORT\` | \`1\` |\n${README_END}\n\nAfter.\n`;
  const updated = readmeWithSettings(readme);
  assert.notEqual(updated, readme);
  assert.match(updated, /^\| `PORT` \| `4000` \| integer 0–65535 \| /m);
  assert.ok(updated.startsWith(`# Title\n\n${README_BEGIN}\n`) && updated.endsWith(`\n${README_END}\n\nAfter.\n`));
  assert.equal(readmeWithSettings(updated), updated);
  assert.throws(() => readmeWithSettings('# Title\n'), /no settings table/);
});

test('src/env.ts is the only reader of process.env', () => {
  const readers: string[] = [];
  const walk = (folder: string) => {
    for (const entry of readdirSync(new URL(`../${folder}`, import.meta.url), { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) {
        if (path !== join('src', 'generated')) walk(path);
      } else if (/\.(ts|mjs)$/.test(entry.name) && /\bprocess\.env\b/.test(read(path))) readers.push(path);
    }
  };
  walk('src');
  assert.deepEqual(readers, [join('src', 'env.ts')]);
});
