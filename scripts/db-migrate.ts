// Applies pending migrations to the configured database (DATABASE_URL, or the embedded one).
import { openDatabase } from '../src/db/index.js';
import { migrate } from '../src/db/migrate.js';
import { loadEnv } from '../src/env.js';
import { exitOnStartupError } from '../src/startup-error.js';

try {
  const env = loadEnv();
  const db = await openDatabase({
    url: env.DATABASE_URL,
    dataDir: env.DATA_DIR,
    poolSize: 1,
    connectTimeoutMs: env.DB_CONNECT_TIMEOUT_MS,
    statementTimeoutMs: env.DB_STATEMENT_TIMEOUT_MS,
  });
  try {
    const { applied, modified } = await migrate(db);
    console.log(applied.length ? `applied: ${applied.join(', ')}` : 'no pending migrations');
    if (modified.length) console.warn(`warning: applied migrations changed since: ${modified.join(', ')}`);
  } finally {
    await db.close();
  }
} catch (error) {
  exitOnStartupError(error);
}
