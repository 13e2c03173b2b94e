import { mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { PrismaPGlite } from 'pglite-prisma-adapter';
import { PrismaClient } from '../generated/prisma/client.js';
import { lockDataDir } from './folder-lock.js';

/** One connection, held for a sequence of raw statements (migrations, locks). */
export interface SqlSession {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs a script of several statements. */
  exec(sql: string): Promise<void>;
  release(): Promise<void>;
}

/** The node-postgres query shape, which libraries that speak SQL directly (rate limits) expect. */
export interface QueryClient {
  query(query: { text: string; values?: unknown[]; name?: string }): Promise<{ rows: unknown[]; rowCount: number | null }>;
}

export interface PoolStats {
  max: number;
  total: number;
  idle: number;
  waiting: number;
}

export interface Database {
  readonly kind: 'pglite' | 'postgres';
  /** Connection pool usage; null for the embedded database, which is one in-process connection. */
  poolStats(): PoolStats | null;
  readonly prisma: PrismaClient;
  readonly queryClient: QueryClient;
  session(): Promise<SqlSession>;
  /**
   * A statement outside Prisma (the read planner's). On PostgreSQL, with a `name`, it is a prepared
   * statement: each pooled connection parses and plans it once, not on every call.
   */
  query<T>(text: string, values: unknown[], name?: string): Promise<T[]>;
  /** Calls `listener` with every SQL statement Prisma (or `query`) sends. Returns the unsubscribe function. */
  onStatement(listener: (sql: string) => void): () => void;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** A PostgreSQL server. Without it, an embedded PGlite database is used. */
  url?: string;
  /** PGlite's folder; `memory://` keeps it in memory. */
  dataDir?: string;
  /**
   * PGlite only: a data folder tarball (`dumpDataDir`) to start from instead of running initdb.
   * Tests start from one migrated copy: initdb is most of a new PGlite's start-up time.
   */
  initialData?: Blob;
  poolSize?: number;
  /** How long a query waits for a free pooled connection (or a new one) before failing. */
  connectTimeoutMs?: number;
  /** PostgreSQL's statement_timeout for every pooled connection; 0 = none. */
  statementTimeoutMs?: number;
  /**
   * Makes `onStatement` work (tests count statements). Off by default: Prisma then serializes every
   * statement's parameters for the event, a cost on each query (a third of a 1,000-ID batch write's).
   */
  statementEvents?: boolean;
}

/** The only place a PrismaClient is built. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.url ? openPostgres(options) : openPglite(options.dataDir ?? 'memory://', options.initialData, options.statementEvents);
}

function once(fn: () => Promise<void>) {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
}

const queryEvents = (on: boolean | undefined) => (on ? { log: [{ emit: 'event' as const, level: 'query' as const }] } : {});

function withStatementEvents(prisma: PrismaClient, on: boolean | undefined) {
  const listeners = new Set<(sql: string) => void>();
  const emit = (sql: string) => {
    for (const listener of listeners) listener(sql);
  };
  if (on) (prisma as PrismaClient<'query'>).$on('query', (event) => emit(event.query));
  const onStatement = (listener: (sql: string) => void) => {
    if (!on) throw new Error('onStatement needs a database opened with statementEvents: true');
    listeners.add(listener);
    return () => void listeners.delete(listener);
  };
  return { onStatement, emit };
}

async function openPostgres(options: DatabaseOptions): Promise<Database> {
  const max = options.poolSize ?? 10;
  const pool = new pg.Pool({
    connectionString: options.url,
    max,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
  });
  // An idle client that loses its server emits 'error'; unhandled, that would end the process.
  pool.on('error', () => {});
  const prisma = new PrismaClient({
    adapter: new PrismaPg(pool),
    ...queryEvents(options.statementEvents),
    // An interactive transaction waits for a connection as long as any other query (Prisma's own default is 2 s).
    transactionOptions: { maxWait: options.connectTimeoutMs ?? 5_000 },
  });
  const { onStatement, emit } = withStatementEvents(prisma, options.statementEvents);
  return {
    kind: 'postgres',
    poolStats: () => ({ max, total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    prisma,
    async query<T>(text: string, values: unknown[], name?: string) {
      emit(text);
      return (await pool.query({ text, values, ...(name ? { name } : {}) })).rows as T[];
    },
    queryClient: pool,
    onStatement,
    async session() {
      const client = await pool.connect();
      return {
        query: async (sql, params) => (await client.query(sql, params as unknown[])).rows,
        exec: async (sql) => void (await client.query(sql)),
        release: async () => client.release(),
      };
    },
    close: once(async () => {
      await prisma.$disconnect();
      await pool.end();
    }),
  };
}

async function openPglite(dataDir: string, initialData?: Blob, statementEvents?: boolean): Promise<Database> {
  let unlock = () => {};
  if (!dataDir.includes('://')) {
    mkdirSync(dataDir, { recursive: true });
    unlock = lockDataDir(dataDir);
  }
  const pglite = new PGlite({ dataDir, ...(initialData ? { loadDataDir: initialData } : {}) });
  try {
    await pglite.waitReady;
  } catch (error) {
    unlock();
    throw error;
  }
  const prisma = new PrismaClient({ adapter: new PrismaPGlite(pglite), ...queryEvents(statementEvents) });
  const { onStatement } = withStatementEvents(prisma, statementEvents);
  // PGlite is one connection shared by the whole process, so a session is exclusive use of it
  // among sessions (an advisory lock would be re-entrant here and exclude nothing).
  let sessions = Promise.resolve();
  return {
    kind: 'pglite',
    poolStats: () => null,
    prisma,
    // Through Prisma's adapter, which keeps the one connection's transactions apart; nothing to prepare.
    query: <T>(text: string, values: unknown[]) => prisma.$queryRawUnsafe<T[]>(text, ...values),
    queryClient: {
      async query({ text, values }) {
        const result = await pglite.query(text, values);
        // PGlite counts only changed rows in affectedRows; node-postgres' rowCount counts returned ones too.
        return { rows: result.rows, rowCount: result.rows.length || (result.affectedRows ?? 0) };
      },
    },
    onStatement,
    async session() {
      let release!: () => void;
      const previous = sessions;
      sessions = new Promise<void>((resolve) => (release = resolve));
      await previous;
      return {
        query: async <T>(sql: string, params?: unknown[]) => (await pglite.query<T>(sql, params)).rows,
        exec: async (sql) => void (await pglite.exec(sql)),
        release: async () => release(),
      };
    },
    close: once(async () => {
      try {
        await prisma.$disconnect();
        await pglite.close();
      } finally {
        unlock();
      }
    }),
  };
}
