import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { parseEnv } from 'node:util';
import {
  pageWithSettings,
  renderEnvExample,
  SETTINGS_BEGIN,
  SETTINGS_END,
  settingDocs,
} from '../scripts/settings-docs.js';
import { DEFAULTS, type Env, loadEnv, settingsSchema } from '../src/env.js';

// Every setting is declared once, in src/env.ts; .env.example and docs/settings.md's table are generated
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

test("docs/settings.md's table has a row per setting, with its default", () => {
  const page = read('docs/settings.md');
  const begin = page.indexOf(SETTINGS_BEGIN);
  assert.ok(begin >= 0 && page.indexOf(SETTINGS_END) > begin, 'docs/settings.md has no settings markers');
  const table = page.slice(begin, page.indexOf(SETTINGS_END));
  for (const name of names) {
    const row = new RegExp(`^\\| \`${name}\` \\| ([^|]+) \\|`, 'm').exec(table);
    assert.ok(row, `docs/settings.md table has no ${name}`);
    const shown = row[1]!;
    if (shown === 'unset') assert.equal(DEFAULTS[name], undefined, name);
    else {
      const value = shown === 'empty' ? '' : /^`(.*)`$/.exec(shown)?.[1];
      assert.notEqual(value, undefined, `${name}: ${shown}`);
      assert.deepEqual(loadEnv({ [name]: value })[name], DEFAULTS[name], `${name}: ${shown}`);
    }
  }
});

test('.env.example and docs/settings.md are what `npm run settings:print` makes of src/env.ts', () => {
  assert.equal(read('.env.example'), renderEnvExample(), 'run `npm run settings:print`');
  const page = read('docs/settings.md');
  assert.equal(pageWithSettings(page), page, 'run `npm run settings:print`');
});

test('the generator covers every setting of the schema, each with a description', () => {
  const documented = settingDocs().flatMap(({ settings }) => settings);
  assert.deepEqual(
    documented.map((s) => s.name),
    names,
  );
  for (const setting of documented) assert.ok(setting.description.length > 10, setting.name);
});

test('a stale settings table is replaced, and a page without the markers is refused', () => {
  const page = `# Title\n\n${SETTINGS_BEGIN}\n| variable |\n| \`PORT\` | \`1\` |\n${SETTINGS_END}\n\nAfter.\n`;
  const updated = pageWithSettings(page);
  assert.notEqual(updated, page);
  assert.match(updated, /^\| `PORT` \| `4000` \| integer 0–65535 \| /m);
  assert.ok(updated.startsWith(`# Title\n\n${SETTINGS_BEGIN}\n`) && updated.endsWith(`\n${SETTINGS_END}\n\nAfter.\n`));
  assert.equal(pageWithSettings(updated), updated);
  assert.throws(() => pageWithSettings('# Title\n'), /no settings table/);
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
