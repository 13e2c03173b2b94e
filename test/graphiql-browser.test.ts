import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { chromium } from 'playwright-core';
import { writePgliteDataFolder } from './template.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const skip = existsSync(CHROMIUM)
  ? {}
  : { skip: `no Chromium at ${CHROMIUM} (apt install chromium, or set CHROMIUM_PATH)` };

test('GraphiQL in a real browser runs the preloaded query against sample data', {
  ...skip,
  timeout: 120_000,
}, async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'customer-graph-graphiql-'));
  after(() => rmSync(dataDir, { recursive: true, force: true }));
  // Migrated and empty: the server loads the sample data itself, as on a first start.
  await writePgliteDataFolder(join(dataDir, 'pglite'));
  const server = spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    // Empty, not unset: a developer's .env cannot name another database or keys (the run's own key is preloaded).
    env: {
      ...process.env,
      DATABASE_URL: '',
      ADMIN_API_KEYS: '',
      PORT: '0',
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      DATA_DIR: join(dataDir, 'pglite'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  after(() => void server.kill('SIGKILL'));
  let output = '';
  server.stderr.on('data', (d) => (output += d));
  const url = await new Promise<string>((resolve, reject) => {
    server.stdout.on('data', (d) => {
      output += d;
      const match = /GraphiQL: (http:\/\/\S+)/.exec(output);
      if (match) resolve(match[1]!);
    });
    server.on('exit', (code) => reject(new Error(`server exited ${code}: ${output}`)));
  });

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--no-first-run',
    ],
  });
  after(() => browser.close());
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(url);
  // GraphiQL's run button executes the preloaded example query with the preloaded admin key.
  const run = page.locator('.graphiql-execute-button');
  await run.waitFor({ timeout: 60_000 });
  await page.waitForTimeout(500);
  await run.click();
  const result = page.locator('.graphiql-response');
  await page.waitForFunction(
    () => document.querySelector('.graphiql-response')?.textContent?.includes('totalCount'),
    null,
    { timeout: 30_000 },
  );
  const text = (await result.textContent()) ?? '';
  mkdirSync('test-results', { recursive: true });
  await page.screenshot({ path: 'test-results/graphiql.png' });
  assert.match(text, /"customers"/);
  assert.match(text, /"totalCount":\s*50/); // the editor renders spaces as no-break spaces
  assert.doesNotMatch(text, /"errors"/);
});
