import { after } from 'node:test';
import { createScratchDatabase } from '../scripts/throwaway-database.js';
import { type Database, openDatabase } from '../src/db/index.js';
import { migrate } from '../src/db/migrate.js';
import type { Prisma } from '../src/generated/prisma/client.js';
import { newId } from '../src/lib/ids.js';
import { createLogger } from '../src/logger.js';
import { type App, type AppSettings, createApp } from '../src/yoga.js';
import { POSTGRES_TEMPLATE_ENV, pgliteTemplateData } from './template.js';

/** The admin API key every test app accepts, under the name `tests`. */
export const ADMIN_KEY = 'test-admin-key-0123456789abcdef';
export const ADMIN = { authorization: `Bearer ${ADMIN_KEY}` };
export const ANONYMOUS = { authorization: '' };
export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/** With DATABASE_URL the tests run on that PostgreSQL server, each file in a database of its own. */
export const SERVER_URL = process.env.DATABASE_URL;
export const DATABASE_KIND = SERVER_URL ? 'postgres' : 'pglite';

/** A new, empty database: in-memory PGlite (undefined), or a throwaway database on the server. */
export async function freshDatabaseUrl(): Promise<string | undefined> {
  if (!SERVER_URL) return undefined;
  const scratch = await createScratchDatabase(SERVER_URL, 'cg_test');
  after(scratch.drop);
  return scratch.url;
}

/** A new database with nothing in it, to spread into `openDatabase`: on PGlite a copy of an initdb'ed folder. */
export async function emptyDatabase(): Promise<{ url?: string; initialData?: Blob }> {
  return SERVER_URL ? { url: await freshDatabaseUrl() } : { initialData: await pgliteTemplateData('empty') };
}

/**
 * Where a new database with every migration already applied comes from, to spread into
 * `openDatabase({ ...(await migratedDatabase()), … })`: on PostgreSQL a throwaway copy of the run's
 * migrated template database (dropped after the file's tests), on PGlite the migrated data folder
 * tarball (test/template.ts). Without scripts/test.ts's template on PostgreSQL, an empty throwaway
 * database: callers still run `migrate`, which is a ledger check on a copy.
 */
export async function migratedDatabase(): Promise<{ url?: string; initialData?: Blob }> {
  if (!SERVER_URL) return { initialData: await pgliteTemplateData() };
  const scratch = await createScratchDatabase(SERVER_URL, 'cg_test', process.env[POSTGRES_TEMPLATE_ENV] || undefined);
  after(scratch.drop);
  return { url: scratch.url };
}

/**
 * `data` as a test reads it when it names no type: its shape is the query text's, and the
 * assertions check it. Typing it would mean a type per query in every test file.
 */
// biome-ignore lint/suspicious/noExplicitAny: untyped response data is deliberate in tests; a test names `T` where it wants checking
type UntypedData = Record<string, any>;

export interface GraphQLResponse<T = UntypedData> {
  status: number;
  data?: T | null;
  errors?: { message: string; path?: (string | number)[]; extensions?: Record<string, unknown> }[];
  extensions?: Record<string, unknown>;
}

export interface TestApp {
  db: Database;
  app: App;
  prisma: Database['prisma'];
  /** Sends an operation through the real yoga app: as admin unless `headers` say otherwise. */
  gql<T = UntypedData>(
    query: string,
    variables?: Record<string, unknown>,
    headers?: Record<string, string>,
  ): Promise<GraphQLResponse<T>>;
  /** Runs `fn` and returns its result with the number of SQL statements it sent. */
  countStatements<T>(fn: () => Promise<T>): Promise<{ result: T; statements: number; sql: string[] }>;
}

/** Builds the real yoga app on a fresh database; closed automatically after the file's tests. */
export interface TestAppOptions {
  settings?: Partial<AppSettings>;
  now?: () => Date;
}

export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  // Tests that race hundreds of requests must not fail on a busy machine's pool wait; the
  // pool-exhaustion test sets its own short timeout.
  const db = await openDatabase({
    ...(await migratedDatabase()),
    dataDir: 'memory://',
    poolSize: 5,
    connectTimeoutMs: 30_000,
    statementEvents: true,
  });
  after(() => db.close());
  await migrate(db);
  const app = createApp({
    db,
    log: createLogger((process.env.TEST_LOG_LEVEL as 'silent') ?? 'silent'),
    now: options.now,
    // bcrypt's cheapest cost keeps the suite fast; the timing test sets the real one.
    settings: { adminKeys: [{ name: 'tests', key: ADMIN_KEY }], bcryptCost: 4, ...options.settings },
  });
  return {
    db,
    app,
    prisma: db.prisma,
    async gql<T>(query: string, variables?: Record<string, unknown>, headers: Record<string, string> = ADMIN) {
      const response = await app.fetch('http://yoga/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/graphql-response+json', ...headers },
        body: JSON.stringify({ query, variables }),
      });
      // The caller names the shape it expects of `data`; nothing checks it at run time.
      const body = (await response.json()) as Omit<GraphQLResponse<T>, 'status'>;
      return { status: response.status, ...body };
    },
    async countStatements(fn) {
      const sql: string[] = [];
      const stop = db.onStatement((statement) => sql.push(statement));
      try {
        const result = await fn();
        return { result, statements: sql.length, sql };
      } finally {
        stop();
      }
    },
  };
}

/** The token a mutation sent as an event: `key` of the newest `name` event of the customer. */
export async function tokenOf(
  prisma: Database['prisma'],
  name: string,
  customerId: string,
  key = 'token',
): Promise<string> {
  const [event] = await prisma.outboxEvent.findMany({
    where: { name, key: `customer:${customerId}` },
    orderBy: { seq: 'desc' },
    take: 1,
  });
  const token = (event?.payload as Record<string, string> | undefined)?.[key];
  if (!token) throw new Error(`no ${name} event with ${key} for ${customerId}`);
  return token;
}

// Factories: the smallest valid rows, overridable field by field.
let sequence = 0;
const next = () => ++sequence;

export function makeCustomer(prisma: Database['prisma'], data: Partial<Prisma.CustomerUncheckedCreateInput> = {}) {
  const n = next();
  return prisma.customer.create({
    data: {
      id: newId('Customer'),
      email: `customer${n}@example.com`,
      firstName: `First${n}`,
      lastName: `Last${n}`,
      ...data,
    },
  });
}

export function makeGroup(prisma: Database['prisma'], data: Partial<Prisma.CustomerGroupUncheckedCreateInput> = {}) {
  return prisma.customerGroup.create({ data: { id: newId('CustomerGroup'), name: `Group ${next()}`, ...data } });
}

/**
 * A membership; a soft-deleted customer's is made ended with the customer, as their soft delete
 * would have ended it (the database refuses a live membership of a deleted customer).
 */
export async function addToGroup(prisma: Database['prisma'], customerId: string, customerGroupId: string) {
  const { deletedAt } = await prisma.customer.findUniqueOrThrow({
    where: { id: customerId },
    select: { deletedAt: true },
  });
  return prisma.customerGroupCustomer.create({
    data: { id: newId('CustomerGroupCustomer'), customerId, customerGroupId, deletedAt },
  });
}

export function makeAddress(
  prisma: Database['prisma'],
  customerId: string,
  data: Partial<Prisma.AddressUncheckedCreateInput> = {},
) {
  const n = next();
  return prisma.address.create({
    data: {
      id: newId('Address'),
      customerId,
      address1: `${n} Main St`,
      city: 'Copenhagen',
      countryCode: 'dk',
      postalCode: `${1000 + n}`,
      ...data,
    },
  });
}

export function makeOrder(
  prisma: Database['prisma'],
  customerId: string | null,
  data: Partial<Prisma.OrderUncheckedCreateInput> = {},
) {
  return prisma.order.create({
    data: {
      id: newId('Order'),
      customerId,
      email: `order${next()}@example.com`,
      currencyCode: 'eur',
      subtotal: 1000,
      total: 1250,
      taxTotal: 250,
      items: { create: [{ id: newId('OrderLineItem'), title: 'T-shirt', quantity: 2, unitPrice: 500 }] },
      ...data,
    },
  });
}

/**
 * Runs `take` (a statement that takes a lock) in a transaction that stays open until `release()`,
 * so that a request needing the lock waits: slow, deterministically. Resolves once the lock is held.
 */
export async function holdLock(prisma: Database['prisma'], take: string): Promise<{ release(): Promise<void> }> {
  let release!: () => void;
  const held = new Promise<void>((resolve) => (release = resolve));
  let locked!: () => void;
  const lockTaken = new Promise<void>((resolve) => (locked = resolve));
  const holder = prisma.$transaction(
    async (tx) => {
      await tx.$executeRawUnsafe(take);
      locked();
      await held;
    },
    { timeout: 60_000 },
  );
  await Promise.race([lockTaken, holder]);
  return {
    async release() {
      release();
      await holder;
    },
  };
}
