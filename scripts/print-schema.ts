// Writes schema.graphql from the code, or with --check fails when the committed file has drifted.
import { readFileSync, writeFileSync } from 'node:fs';
import { printSchema } from 'graphql';
import { sortedSchema } from '../src/schema/index.js';

const FILE = new URL('../schema.graphql', import.meta.url);
const printed = `${printSchema(sortedSchema())}\n`;

if (process.argv.includes('--check')) {
  let committed = '';
  try {
    committed = readFileSync(FILE, 'utf8');
  } catch {}
  if (committed !== printed) {
    console.error('schema.graphql is out of date with the code: run `npm run schema:print` and commit it.');
    process.exit(1);
  }
  console.log('schema.graphql matches the code.');
} else {
  writeFileSync(FILE, printed);
  console.log('wrote schema.graphql');
}
