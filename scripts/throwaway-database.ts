import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase, type Database } from '../src/db/index.js';

/**
 * Runs `body` on a database created for it on the PostgreSQL `server` names, dropped afterwards;
 * without a server, on an in-memory PGlite.
 */
export async function withThrowawayDatabase(server: string | undefined, body: (db: Database) => Promise<void>) {
  if (!server) {
    const db = await openDatabase({ dataDir: 'memory://' });
    try {
      return await body(db);
    } finally {
      await db.close();
    }
  }
  const name = `cg_scratch_${randomBytes(4).toString('hex')}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: server });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(server);
  url.pathname = `/${name}`;
  const db = await openDatabase({ url: url.toString() });
  try {
    await body(db);
  } finally {
    await db.close();
    await admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}
