// The search, sort, filter, count and storefront shapes of issue 26: measured by the scale mode
// (`npm run bench:scale`) and checked for index use by the short mode's guard (`npm run bench:short`).
// The values they need (search terms, cursors deep into each order, a customer with 50 orders and
// a session of theirs) are read from the benchmark database by `findScaleIds`.
import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { encodeCursor } from '../src/schema/cursor.js';
import type { Ordering } from '../src/schema/keyset.js';

export interface Shape {
  name: string;
  query: string;
  variables: (n: number) => Record<string, unknown>;
  mutation?: boolean;
  /** The same data from PostGraphile (rowId for id, its own relation names, ordering and cursors). */
  peer?: { query: string; variables: () => Record<string, unknown> };
  /** What kind of read: the CI guard checks `search`, `sort`, `filter` and `count` shapes for index use. */
  kind?: 'read' | 'search' | 'sort' | 'filter' | 'count' | 'page' | 'storefront';
  /** A bearer token other than the admin key (`me`: the customer's session). */
  token?: () => string;
  /** The floor (bench/floor.mjs) answers it too. */
  floor?: boolean;
  /** The ID the page's first row must have (deep keyset pages: the row after the cursor, from SQL). */
  firstId?: string;
}

/** Everything the shapes name, read from one database. */
export interface ScaleIds {
  depth: number;
  commonName: string;
  rareName: string;
  emailFragment: string;
  phoneFragment: string;
  orderEmailFragment: string;
  largestGroup: string;
  /** Cursor and the ID of the row after it, per `connection:field:direction`. */
  deep: Record<string, { cursor: string; next: string | null }>;
  addressCity: string;
  addressPostalCode: string;
  meCustomer: string;
  meEmail: string;
  meOrders: number;
  meToken: string;
  entityIds: string[];
}

const CUSTOMER_FIELDS = {
  CREATED_AT: 'createdAt',
  UPDATED_AT: 'updatedAt',
  EMAIL: 'email',
  FIRST_NAME: 'firstName',
  LAST_NAME: 'lastName',
} as const;
const GROUP_FIELDS = { CREATED_AT: 'createdAt', UPDATED_AT: 'updatedAt', NAME: 'name' } as const;
const column = (field: string) => field.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** From/to of the date-range filters: two weeks of sign-ups (about 2% of customers) and of orders. */
export const RANGE = { gte: '2025-03-01T00:00:00.000Z', lt: '2025-03-15T00:00:00.000Z' };
export const ME_ORDERS = 50;
/** Orders given to the `me` customer are copies of others' orders, with IDs starting this way. */
const ME_ORDER_PREFIX = 'order_ZBENCH';

async function one<T>(db: pg.Client, sql: string, params: unknown[] = []): Promise<T> {
  const { rows } = await db.query(sql, params);
  if (!rows[0]) throw new Error(`no row: ${sql.slice(0, 200)}`);
  return rows[0] as T;
}

/**
 * Gives one account customer ME_ORDERS orders (copies of other customers' orders, line items
 * included): the seed gives nobody more than 10. Idempotent; run as the harness's role.
 */
export async function ensureMeCustomer(db: pg.Client): Promise<{ id: string; email: string; orders: number }> {
  const existing = await db.query<{ id: string; email: string }>(
    `SELECT c.id, c.email FROM "order" o JOIN customer c ON c.id = o.customer_id WHERE o.id LIKE '${ME_ORDER_PREFIX}%' LIMIT 1`,
  );
  let me: { id: string; email: string } | undefined = existing.rows[0];
  if (!me) {
    me = await one<{ id: string; email: string }>(
      db,
      `SELECT c.id, c.email FROM customer c WHERE c.has_account AND c.deleted_at IS NULL AND c.merged_into_id IS NULL
         AND EXISTS (SELECT 1 FROM customer_address a WHERE a.customer_id = c.id AND a.deleted_at IS NULL)
       ORDER BY c.id LIMIT 1`,
    );
    const have = Number(
      (await one<{ n: string }>(db, 'SELECT count(*) AS n FROM "order" WHERE customer_id = $1', [me.id])).n,
    );
    const columns = (
      await db.query<{ name: string }>(
        `SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = 'order'
           AND is_generated = 'NEVER' AND column_name NOT IN ('id', 'display_id', 'customer_id', 'email') ORDER BY ordinal_position`,
      )
    ).rows.map((r) => `"${r.name}"`);
    await db.query('BEGIN');
    await db.query(
      `CREATE TEMP TABLE me_source ON COMMIT DROP AS
         SELECT id FROM "order" WHERE customer_id IS DISTINCT FROM $1 AND created_at > (SELECT created_at FROM customer WHERE id = $1)
         ORDER BY id LIMIT $2`,
      [me.id, Math.max(0, ME_ORDERS - have)],
    );
    await db.query(
      `INSERT INTO "order" (id, customer_id, email, ${columns.join(', ')})
       SELECT '${ME_ORDER_PREFIX}' || substr(o.id, 7), $1, $2, ${columns.map((c) => `o.${c}`).join(', ')}
       FROM "order" o JOIN me_source s ON s.id = o.id ORDER BY o.created_at`,
      [me.id, me.email],
    );
    await db.query(
      `INSERT INTO order_line_item (id, order_id, title, quantity, unit_price)
       SELECT 'ordli_ZBENCH' || substr(li.id, 7), '${ME_ORDER_PREFIX}' || substr(li.order_id, 7), li.title, li.quantity, li.unit_price
       FROM order_line_item li JOIN me_source s ON s.id = li.order_id`,
    );
    await db.query('COMMIT');
  }
  const { id, email } = me;
  const orders = Number(
    (await one<{ n: string }>(db, 'SELECT count(*) AS n FROM "order" WHERE customer_id = $1', [id])).n,
  );
  return { id, email, orders };
}

/** A session of the customer, written directly (what `login` stores: the token's SHA-256). */
export async function sessionFor(db: pg.Client, customerId: string): Promise<string> {
  const token = `cgs_${randomBytes(32).toString('base64url')}`;
  await db.query(
    `INSERT INTO customer_session (id, customer_id, token_hash, expires_at) VALUES ($1, $2, $3, now() + interval '1 day')`,
    [
      `cses_BENCH${randomBytes(8).toString('hex').toUpperCase()}`,
      customerId,
      createHash('sha256').update(token).digest('hex'),
    ],
  );
  return token;
}

/**
 * The cursor of the row `depth` rows into a connection's order (its sort value and ID, as the
 * service issues it), and the ID of the row after it: the page after the cursor starts there.
 */
async function deepCursor(db: pg.Client, table: string, connection: string, ordering: Ordering, depth: number) {
  const dir = ordering.direction.toUpperCase();
  const sortColumn = ordering.field ? `${column(ordering.field)} ${dir}, ` : '';
  const value = ordering.field ? `, ${column(ordering.field)} AS v` : '';
  const { rows } = await db.query<{ id: string; v: unknown }>(
    `SELECT id${value} FROM ${table} WHERE deleted_at IS NULL ORDER BY ${sortColumn}id ${dir} OFFSET $1 LIMIT 2`,
    [Math.max(0, depth - 1)],
  );
  if (!rows[0]) throw new Error(`${connection}: fewer than ${depth} rows`);
  const row = ordering.field ? { id: rows[0].id, [ordering.field]: rows[0].v } : { id: rows[0].id };
  return { cursor: encodeCursor(connection, ordering, row), next: rows[1]?.id ?? null };
}

/**
 * Terms and IDs for the shapes. `terms` (from the largest database of a run) keep the search terms
 * the same at every size.
 */
export async function findScaleIds(
  db: pg.Client,
  depth: number,
  terms?: Pick<ScaleIds, 'commonName' | 'rareName' | 'emailFragment' | 'phoneFragment' | 'orderEmailFragment'>,
): Promise<ScaleIds> {
  const deep: ScaleIds['deep'] = {};
  for (const direction of ['asc', 'desc'] as const) {
    for (const field of Object.values(CUSTOMER_FIELDS)) {
      deep[`customers:${field}:${direction}`] = await deepCursor(
        db,
        'customer',
        'customers',
        { model: 'Customer', field, direction },
        depth,
      );
    }
    const groups = Number(
      (await one<{ n: string }>(db, 'SELECT count(*) AS n FROM customer_group WHERE deleted_at IS NULL')).n,
    );
    for (const field of Object.values(GROUP_FIELDS)) {
      deep[`customerGroups:${field}:${direction}`] = await deepCursor(
        db,
        'customer_group',
        'customerGroups',
        { model: 'CustomerGroup', field, direction },
        Math.min(depth, Math.floor(groups / 2)),
      );
    }
  }
  deep['orders:createdAt:desc'] = await deepCursor(
    db,
    '(SELECT id, created_at, NULL AS deleted_at FROM "order") o',
    'orders',
    { model: 'Order', field: 'createdAt', direction: 'desc' },
    depth,
  );
  deep['addresses:createdAt:desc'] = await deepCursor(
    db,
    'customer_address',
    'addresses',
    { model: 'Address', field: 'createdAt', direction: 'desc' },
    depth,
  );

  const found =
    terms ??
    (await (async () => {
      // Names: the most and the least frequent last name; fragments of one customer's email and phone.
      const names = await one<{ common: string; rare: string }>(
        db,
        `WITH n AS (SELECT last_name, count(*) AS k FROM customer WHERE deleted_at IS NULL AND last_name ~ '^[A-Za-z]{4,}$' GROUP BY last_name)
         SELECT (SELECT last_name FROM n ORDER BY k DESC, last_name LIMIT 1) AS common,
                (SELECT last_name FROM n ORDER BY k, last_name LIMIT 1) AS rare`,
      );
      const c = await one<{ email: string; phone: string }>(
        db,
        `WITH f AS (SELECT id, email, phone FROM customer WHERE deleted_at IS NULL AND phone IS NOT NULL AND email LIKE '%.%@%')
         SELECT email, phone FROM f ORDER BY id OFFSET (SELECT count(*) / 2 FROM f) LIMIT 1`,
      );
      const o = await one<{ email: string }>(
        db,
        `SELECT email FROM "order" ORDER BY id OFFSET (SELECT count(*) / 3 FROM "order") LIMIT 1`,
      );
      return {
        commonName: names.common.toLowerCase(),
        rareName: names.rare.toLowerCase(),
        // The local part of an email: "kathryn.lind123"
        emailFragment: c.email.split('@')[0]!,
        phoneFragment: c.phone.replace(/\D/g, '').slice(3, 10),
        orderEmailFragment: o.email.split('@')[0]!,
      };
    })());
  const largestGroup = (
    await one<{ id: string }>(
      db,
      `SELECT customer_group_id AS id FROM customer_group_customer WHERE deleted_at IS NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1`,
    )
  ).id;
  const address = await one<{ city: string; postal_code: string }>(
    db,
    `SELECT city, postal_code FROM customer_address WHERE deleted_at IS NULL AND city IS NOT NULL AND postal_code IS NOT NULL ORDER BY id LIMIT 1`,
  );
  const me = await ensureMeCustomer(db);
  const entityIds = (
    await db.query<{ id: string }>(`SELECT id FROM customer WHERE deleted_at IS NULL ORDER BY md5(id) LIMIT 100`)
  ).rows.map((r) => r.id);
  return {
    depth,
    ...found,
    largestGroup,
    deep,
    addressCity: address.city,
    addressPostalCode: address.postal_code,
    meCustomer: me.id,
    meEmail: me.email,
    meOrders: me.orders,
    meToken: await sessionFor(db, me.id),
    entityIds,
  };
}

const CUSTOMER_PAGE = 'edges { cursor node { id email firstName lastName } } pageInfo { hasNextPage }';
const PAGE = 20;

function customers(
  name: string,
  kind: Shape['kind'],
  args: { filter?: Record<string, unknown>; orderBy?: Record<string, unknown>; after?: string },
  selection = CUSTOMER_PAGE,
): Shape {
  return {
    name,
    kind,
    query: `query ${name.replace(/\W/g, '_')}($first: Int, $after: String, $filter: CustomerFilter, $orderBy: CustomerOrderBy) {
  customers(first: $first, after: $after, filter: $filter, orderBy: $orderBy) { ${selection} } }`,
    variables: () => ({ first: PAGE, ...args }),
  };
}

/** Every shape of issue 26 beyond Q1–Q4 (which bench/run.ts defines). */
export function scaleShapes(ids: ScaleIds): Shape[] {
  const out: Shape[] = [];
  const op = (name: string) => name.replace(/\W/g, '_');
  // Search.
  out.push(customers('q common name', 'search', { filter: { q: ids.commonName } }));
  out.push(customers('q rare name', 'search', { filter: { q: ids.rareName } }));
  out.push(customers('q no match', 'search', { filter: { q: 'zzqxv' } }));
  out.push(customers('q email fragment', 'search', { filter: { q: ids.emailFragment } }));
  out.push(customers('q phone fragment', 'search', { filter: { q: ids.phoneFragment } }));
  out.push(
    customers('q + LAST_NAME sort', 'search', {
      filter: { q: ids.commonName },
      orderBy: { field: 'LAST_NAME', direction: 'ASC' },
    }),
  );
  out.push(customers('q + totalCount', 'search', { filter: { q: ids.commonName } }, `totalCount ${CUSTOMER_PAGE}`));
  out.push({
    name: 'orders q',
    kind: 'search',
    query: `query orders_q($q: String!) { orders(first: ${PAGE}, filter: { q: $q }) { edges { node { id email total { amount currencyCode } } } } }`,
    variables: () => ({ q: ids.orderEmailFragment }),
  });
  // Sorts: every orderBy of the root connections, both directions, first page and deep page.
  for (const [field, key] of Object.entries(CUSTOMER_FIELDS)) {
    for (const direction of ['ASC', 'DESC'] as const) {
      const d = ids.deep[`customers:${key}:${direction.toLowerCase()}`]!;
      out.push(customers(`customers ${field} ${direction}`, 'sort', { orderBy: { field, direction } }));
      out.push({
        ...customers(`customers ${field} ${direction} deep`, 'sort', {
          orderBy: { field, direction },
          after: d.cursor,
        }),
        firstId: d.next ?? undefined,
      });
    }
  }
  for (const [field, key] of Object.entries(GROUP_FIELDS)) {
    for (const direction of ['ASC', 'DESC'] as const) {
      const d = ids.deep[`customerGroups:${key}:${direction.toLowerCase()}`]!;
      for (const deep of [false, true]) {
        const name = `customerGroups ${field} ${direction}${deep ? ' deep' : ''}`;
        out.push({
          name,
          kind: 'sort',
          query: `query ${op(name)}($after: String, $orderBy: CustomerGroupOrderBy) {
  customerGroups(first: 10, after: $after, orderBy: $orderBy) { edges { cursor node { id name } } } }`,
          variables: () => ({ orderBy: { field, direction }, ...(deep ? { after: d.cursor } : {}) }),
          firstId: deep ? (d.next ?? undefined) : undefined,
        });
      }
    }
  }
  // Counts.
  const count = (name: string, filter?: Record<string, unknown>): Shape => ({
    name,
    kind: 'count',
    query: `query ${op(name)}($filter: CustomerFilter) { customers(first: 1, filter: $filter) { totalCount } }`,
    variables: () => (filter ? { filter } : {}),
  });
  // Each count as totalCount (exact, reads every match) and as count(limit:) (exact up to 10,000).
  for (const bounded of [false, true]) {
    const suffix = bounded ? ' count(limit)' : '';
    const selection = bounded ? 'count { count precision }' : 'totalCount';
    const c = (name: string, filter?: Record<string, unknown>) => ({
      ...count(`${name}${suffix}`, filter),
      query: count(`${name}${suffix}`, filter).query.replace('totalCount', selection),
    });
    out.push(c('count customers'));
    out.push(c('count hasAccount', { hasAccount: true }));
    out.push(c('count groupIds', { groupIds: [ids.largestGroup] }));
    out.push(c('count createdAt range', { createdAt: RANGE }));
    out.push(c('count q', { q: ids.commonName }));
    const orders = `count orders${suffix}`;
    out.push({
      name: orders,
      kind: 'count',
      query: `query ${op(orders)} { orders(first: 1) { ${selection} } }`,
      variables: () => ({}),
    });
    const members = `largest group members + ${bounded ? 'count(limit)' : 'totalCount'}`;
    out.push({
      name: members,
      kind: 'count',
      query: `query ${op(members)}($id: ID!) { customerGroup(id: $id) { customers(first: ${PAGE}) { ${selection} edges { node { id email } } } } }`,
      variables: () => ({ id: ids.largestGroup }),
    });
  }
  // Root addresses and orders pages, with their filters.
  const addresses = (name: string, kind: Shape['kind'], filter?: Record<string, unknown>, after?: string): Shape => ({
    name,
    kind,
    query: `query ${op(name)}($filter: AddressFilter, $after: String) { addresses(first: ${PAGE}, after: $after, filter: $filter) { edges { cursor node { id city postalCode } } } }`,
    variables: () => ({ ...(filter ? { filter } : {}), ...(after ? { after } : {}) }),
  });
  out.push(addresses('addresses', 'page'));
  out.push({
    ...addresses('addresses deep', 'page', undefined, ids.deep['addresses:createdAt:desc']!.cursor),
    firstId: ids.deep['addresses:createdAt:desc']!.next ?? undefined,
  });
  out.push(addresses('addresses city', 'filter', { city: ids.addressCity }));
  out.push(addresses('addresses countryCode', 'filter', { countryCode: 'dk' }));
  out.push(addresses('addresses postalCode', 'filter', { postalCode: ids.addressPostalCode }));
  out.push(addresses('addresses customerId', 'filter', { customerId: ids.meCustomer }));
  out.push(addresses('addresses q', 'search', { q: ids.addressCity.toLowerCase() }));
  const orders = (name: string, kind: Shape['kind'], filter?: Record<string, unknown>, after?: string): Shape => ({
    name,
    kind,
    query: `query ${op(name)}($filter: OrderFilter, $after: String) { orders(first: ${PAGE}, after: $after, filter: $filter) { edges { cursor node { id displayId total { amount currencyCode } status } } } }`,
    variables: () => ({ ...(filter ? { filter } : {}), ...(after ? { after } : {}) }),
  });
  out.push(orders('orders', 'page'));
  out.push({
    ...orders('orders deep', 'page', undefined, ids.deep['orders:createdAt:desc']!.cursor),
    firstId: ids.deep['orders:createdAt:desc']!.next ?? undefined,
  });
  out.push(orders('orders status', 'filter', { status: ['REQUIRES_ACTION'] }));
  out.push(orders('orders paymentStatus', 'filter', { paymentStatus: ['AWAITING'] }));
  out.push(orders('orders fulfillmentStatus', 'filter', { fulfillmentStatus: ['PARTIALLY_SHIPPED'] }));
  out.push(orders('orders createdAt range', 'filter', { createdAt: RANGE }));
  out.push(orders('orders email', 'filter', { email: ids.meEmail }));
  out.push(orders('orders currencyCode', 'filter', { currencyCode: 'dkk' }));
  // Storefront and gateway.
  out.push({
    name: 'me',
    kind: 'storefront',
    floor: true,
    token: () => ids.meToken,
    query: `query me { me { id email orders(first: 10) { edges { node { id items { id } } } } addresses { edges { node { id city } } } } }`,
    variables: () => ({}),
  });
  out.push({
    name: '_entities',
    kind: 'storefront',
    floor: true,
    query: `query _entities($r: [_Any!]!) { _entities(representations: $r) { ... on Customer { id email
  groups { edges { node { id name } } } defaultShippingAddress { id city } } } }`,
    variables: () => ({ r: ids.entityIds.map((id) => ({ __typename: 'Customer', id })) }),
  });
  return out;
}

/** The shapes the CI guard checks: every search, sort, filter and count. */
export const guarded = (shape: Shape) =>
  shape.kind === 'search' || shape.kind === 'sort' || shape.kind === 'filter' || shape.kind === 'count';
