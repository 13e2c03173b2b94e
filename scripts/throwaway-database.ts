import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { type Database, openDatabase } from '../src/db/index.js';

async function adminQuery(server: string, sql: string) {
  const client = new pg.Client({ connectionString: server });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * Creates a database on the PostgreSQL `server` names: empty, or a copy of `template` (a database
 * nobody is connected to). `drop` removes it, connections and all.
 */
export async function createScratchDatabase(server: string, prefix = 'cg_scratch', template?: string) {
  const name = `${prefix}_${randomBytes(6).toString('hex')}`;
  if (template !== undefined && !/^\w+$/.test(template)) throw new Error(`not a database name: ${template}`);
  await adminQuery(server, `CREATE DATABASE ${name}${template ? ` TEMPLATE ${template}` : ''}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => adminQuery(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** Runs `body` on a scratch database on `server`, dropped afterwards; without a server, on an in-memory PGlite. */
export async function withThrowawayDatabase(server: string | undefined, body: (db: Database) => Promise<void>) {
  const scratch = server ? await createScratchDatabase(server) : undefined;
  const db = await openDatabase({ url: scratch?.url, dataDir: 'memory://', statementEvents: true });
  try {
    await body(db);
  } finally {
    await db.close();
    await scratch?.drop();
  }
}
