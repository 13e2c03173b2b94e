import { mkdirSync } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { DEFAULTS } from '../env.js';
import { PrismaClient } from '../generated/prisma/client.js';
import { lockDataDir } from './folder-lock.js';

/** One connection, held for a sequence of raw statements (migrations, locks). */
export interface SqlSession {
  query<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs a script of several statements. */
  exec(sql: string): Promise<void>;
  release(): Promise<void>;
}

/** A bulk load's connection: statements, and COPY of rows given as PostgreSQL's text format. */
export interface LoadSession extends Omit<SqlSession, 'release'> {
  /** COPY `table` (`columns`) FROM the text: a line per row, values separated by tabs. */
  copy(table: string, columns: readonly string[], text: string): Promise<void>;
}

const copyStatement = (table: string, columns: readonly string[], source: string) =>
  `COPY ${quoteIdent(table)} (${columns.map(quoteIdent).join(', ')}) FROM ${source}`;

/** The extensions the migrations create, which PGlite must load when it opens a database. */
export const PGLITE_EXTENSIONS = { pg_trgm };

/** The TimeZone of every database session: instants are read and written as UTC. */
export const SESSION_TIME_ZONE = 'UTC';

export const quoteIdent = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** The node-postgres query shape, which libraries that speak SQL directly (rate limits) expect. */
export interface QueryClient {
  query(query: {
    text: string;
    values?: unknown[];
    name?: string;
  }): Promise<{ rows: unknown[]; rowCount: number | null }>;
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
   * Runs `load` in one transaction on one connection, without a statement timeout, and commits
   * if it returns: a bulk load (the seed). On the embedded database nothing else runs meanwhile.
   */
  bulkLoad<T>(load: (session: LoadSession) => Promise<T>): Promise<T>;
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
  /** Unset: `DB_POOL_SIZE`'s default. */
  poolSize?: number;
  /** How long a query waits for a free pooled connection (or a new one) before failing. Unset: `DB_CONNECT_TIMEOUT_MS`'s default. */
  connectTimeoutMs?: number;
  /**
   * PostgreSQL's statement_timeout for every pooled connection; 0 or unset: none. Unlike the other
   * two, unset is not the setting's default: tools (the benchmark, tests) must not have their long
   * statements cancelled; the server and `db:migrate` pass `DB_STATEMENT_TIMEOUT_MS`.
   */
  statementTimeoutMs?: number;
  /**
   * Makes `onStatement` work (tests count statements). Off by default: Prisma then serializes every
   * statement's parameters for the event, a cost on each query (a third of a 1,000-ID batch write's).
   */
  statementEvents?: boolean;
}

/** The only place a PrismaClient is built. */
export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  return options.url
    ? openPostgres(options)
    : openPglite(options.dataDir ?? 'memory://', options.initialData, options.statementEvents);
}

function once(fn: () => Promise<void>) {
  let done: Promise<void> | undefined;
  return () => (done ??= fn());
}

const queryEvents = (on: boolean | undefined) =>
  on ? { log: [{ emit: 'event' as const, level: 'query' as const }] } : {};

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
  const max = options.poolSize ?? DEFAULTS.DB_POOL_SIZE;
  const connectTimeoutMs = options.connectTimeoutMs ?? DEFAULTS.DB_CONNECT_TIMEOUT_MS;
  // node-postgres lets a URL's own `options` parameter win over the config's: the pin joins it.
  const url = new URL(options.url!);
  const urlOptions = url.searchParams.get('options');
  url.searchParams.delete('options');
  const pool = new pg.Pool({
    connectionString: url.toString(),
    max,
    connectionTimeoutMillis: connectTimeoutMs,
    idleTimeoutMillis: 30_000,
    ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
    // Every session in UTC, whatever the server's or the database's TimeZone: Prisma's pg adapter
    // sends and reads timestamps without their offset, so any other zone shifts every instant.
    options: [urlOptions, `-c TimeZone=${SESSION_TIME_ZONE}`].filter(Boolean).join(' '),
  });
  // An idle client that loses its server emits 'error'; unhandled, that would end the process.
  pool.on('error', () => {});
  const prisma = new PrismaClient({
    adapter: new PrismaPg(pool),
    ...queryEvents(options.statementEvents),
    // An interactive transaction waits for a connection as long as any other query (Prisma's own default is 2 s).
    transactionOptions: { maxWait: connectTimeoutMs },
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
    async bulkLoad(load) {
      const client = await pool.connect();
      let failed = false;
      try {
        await client.query('BEGIN');
        await client.query('SET LOCAL statement_timeout = 0');
        const result = await load({
          query: async (sql, params) => (await client.query(sql, params as unknown[])).rows,
          exec: async (sql) => void (await client.query(sql)),
          copy: (table, columns, text) =>
            pipeline(Readable.from([text]), client.query(copyFrom(copyStatement(table, columns, 'STDIN')))),
        });
        await client.query('COMMIT');
        return result;
      } catch (error) {
        failed = true;
        await client.query('ROLLBACK').catch(() => {});
        throw error;
      } finally {
        // A connection that failed mid-COPY is not given back to the pool.
        client.release(failed);
      }
    },
    close: once(async () => {
      await prisma.$disconnect();
      await pool.end();
    }),
  };
}

type AdapterFactory = InstanceType<typeof import('pglite-prisma-adapter').PrismaPGlite>;
type Adapter = Awaited<ReturnType<AdapterFactory['connect']>>;

/**
 * pglite-prisma-adapter 0.7 reports a transaction's COMMIT as done even when PostgreSQL refused it
 * (its transaction promise turns the error into undefined), so a write that a deferred constraint
 * rolls back at COMMIT was answered as written. Checking the deferred constraints as the last
 * statement inside the transaction raises their error where the adapter passes it on, and the
 * transaction rolls back with it, as on PostgreSQL.
 */
function checkedCommits(factory: AdapterFactory): AdapterFactory {
  const connect = factory.connect.bind(factory);
  factory.connect = async () => {
    const adapter: Adapter = await connect();
    const start = adapter.startTransaction.bind(adapter);
    adapter.startTransaction = async (isolationLevel) => {
      const tx = await start(isolationLevel);
      const commit = tx.commit.bind(tx);
      tx.commit = async () => {
        try {
          await tx.executeRaw({ sql: 'SET CONSTRAINTS ALL IMMEDIATE', args: [], argTypes: [] });
        } catch (error) {
          // Prisma does not roll back a transaction whose commit failed: end it here.
          await tx.rollback();
          throw error;
        }
        return commit();
      };
      return tx;
    };
    return adapter;
  };
  return factory;
}

async function openPglite(dataDir: string, initialData?: Blob, statementEvents?: boolean): Promise<Database> {
  let unlock = () => {};
  if (!dataDir.includes('://')) {
    mkdirSync(dataDir, { recursive: true });
    unlock = lockDataDir(dataDir);
  }
  // Loaded only for the embedded database: PGlite and its adapter are ~50 MB of a process's
  // memory that a server on PostgreSQL need not hold.
  const [{ PGlite }, { PrismaPGlite }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('pglite-prisma-adapter'),
  ]);
  const pglite = new PGlite({
    dataDir,
    extensions: PGLITE_EXTENSIONS,
    ...(initialData ? { loadDataDir: initialData } : {}),
  });
  try {
    await pglite.waitReady;
    // As on PostgreSQL (openPostgres): this one connection's session is in UTC.
    await pglite.exec(`SET TIME ZONE '${SESSION_TIME_ZONE}'`);
  } catch (error) {
    unlock();
    throw error;
  }
  const prisma = new PrismaClient({
    adapter: checkedCommits(new PrismaPGlite(pglite)),
    ...queryEvents(statementEvents),
  });
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
    // PGlite's own transaction holds its connection for the whole load: Prisma's queries wait.
    bulkLoad: (load) =>
      pglite.transaction((tx) =>
        load({
          query: async <T>(sql: string, params?: unknown[]) => (await tx.query<T>(sql, params)).rows,
          exec: async (sql) => void (await tx.exec(sql)),
          copy: async (table, columns, text) =>
            void (await tx.query(copyStatement(table, columns, "'/dev/blob'"), [], { blob: new Blob([text]) })),
        }),
      ),
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
