#!/usr/bin/env node
// `prisma generate`, offline. Prisma's CLI insists on locating its native schema engine even though
// generate never runs it, and downloading it is not possible everywhere; any existing file satisfies
// the check. See ../docs/operations.md "Prisma without native engines".
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const env = { ...process.env, PRISMA_HIDE_UPDATE_MESSAGE: '1' };
env.PRISMA_SCHEMA_ENGINE_BINARY ??= fileURLToPath(import.meta.url);
const result = spawnSync('prisma', ['generate'], { env, stdio: 'inherit', shell: process.platform === 'win32' });
process.exit(result.status ?? 1);
