// Writes .env.example and the settings table of docs/settings.md from src/env.ts, or with --check fails when
// either has drifted (as schema:check does for schema.graphql).
import { readFileSync, writeFileSync } from 'node:fs';
import { pageWithSettings, renderEnvExample } from './settings-docs.js';

const files = [
  { name: '.env.example', url: new URL('../.env.example', import.meta.url), render: () => renderEnvExample() },
  {
    name: 'docs/settings.md',
    url: new URL('../docs/settings.md', import.meta.url),
    render: (current: string) => pageWithSettings(current),
  },
];

const read = (url: URL) => {
  try {
    return readFileSync(url, 'utf8');
  } catch {
    return '';
  }
};

if (process.argv.includes('--check')) {
  const stale = files.filter(({ name, url, render }) => {
    const current = read(url);
    try {
      return current !== render(current);
    } catch (error) {
      console.error(`${name}: ${(error as Error).message}`);
      return true;
    }
  });
  if (stale.length) {
    const names = stale.map((f) => f.name).join(' and ');
    console.error(`${names} out of date with the settings in src/env.ts: run \`npm run settings:print\` and commit.`);
    process.exit(1);
  }
  console.log('.env.example and the settings table of docs/settings.md match src/env.ts.');
} else {
  for (const { name, url, render } of files) {
    writeFileSync(url, render(read(url)));
    console.log(`wrote ${name}`);
  }
}
