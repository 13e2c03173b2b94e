// The raw-SQL floor: one hand-written SQL statement per benchmark shape, JSON built by PostgreSQL,
// answering the same GraphQL response shape as the service. Dispatches on `operationName`.
//   DATABASE_URL=... PORT=... DB_POOL_SIZE=10 BCRYPT_COST=12 node bench/floor.mjs
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import bcrypt from 'bcrypt';
import pg from 'pg';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_SIZE ?? 10) });
const bcryptCost = Number(process.env.BCRYPT_COST ?? 12);

const groups = `'groups', json_build_object('edges', (select coalesce(json_agg(json_build_object('node',
    json_build_object('id', g.id, 'name', g.name)) order by m.id), '[]')
  from customer_group_customer m join customer_group g on g.id = m.customer_group_id
  where m.customer_id = c.id and m.deleted_at is null and g.deleted_at is null))`;
const addresses = `'addresses', json_build_object('edges', (select coalesce(json_agg(json_build_object('node',
    json_build_object('id', a.id, 'city', a.city)) order by a.created_at, a.id), '[]')
  from customer_address a where a.customer_id = c.id and a.deleted_at is null))`;
const orders5 = `'orders', json_build_object('edges', (select coalesce(json_agg(json_build_object('node',
    json_build_object('id', o.id, 'total', o.total)) order by o.created_at desc, o.id desc), '[]')
  from (select id, total, created_at from "order" o where o.customer_id = c.id
        order by created_at desc, id desc limit 5) o))`;
const customerPage = (fields, after) => `
  select json_build_object('customers', json_build_object('edges', coalesce(json_agg(json_build_object(
    'cursor', c.id,
    'node', json_build_object('id', c.id, 'email', c.email${fields})) order by c.created_at desc, c.id desc), '[]'))) as data
  from (select * from customer c where deleted_at is null
        ${after ? `and (created_at, id) < ($2::timestamptz, $3)` : ''}
        order by created_at desc, id desc limit $1) c`;

const addresses15 = `'addresses', json_build_object('edges', (select coalesce(json_agg(json_build_object('node',
    json_build_object('id', a.id, 'city', a.city)) order by a.created_at, a.id), '[]')
  from (select id, city, created_at from customer_address where customer_id = c.id and deleted_at is null
        order by created_at, id limit 15) a))`;
const bearer = (req) => /^Bearer\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? '';

/** operationName -> (variables, request) -> [sql, params] */
const shapes = {
  Q1: (v) => [
    `select json_build_object('customer', (select json_build_object('id', id, 'email', email, 'firstName', first_name,
       'lastName', last_name, 'hasAccount', has_account) from customer where id = $1 and deleted_at is null)) as data`,
    [v.id],
  ],
  Q2: (v) => [customerPage(`, ${groups}, ${addresses}`), [v.first]],
  Q2c: (v) => [customerPage(`, ${groups}, ${addresses}, ${orders5}`), [v.first]],
  // Our keyset cursor: base64url of [version, connection, order, sort value, id].
  Q3: (v) => {
    const [, , , createdAt, id] = JSON.parse(Buffer.from(v.after, 'base64url').toString());
    return [customerPage('', true), [v.first, createdAt, id]];
  },
  Q4: (v) => [
    `select json_build_object('orders', json_build_object('totalCount', (select count(*) from "order"),
       'edges', (select coalesce(json_agg(json_build_object('node', json_build_object('id', id, 'total', total))
         order by created_at desc, id desc), '[]')
       from (select id, total, created_at from "order" order by created_at desc, id desc limit $1) o))) as data`,
    [v.first],
  ],
  // Scale mode (bench/shapes.ts): the storefront's `me` (the session's customer, 10 orders with their
  // items, the addresses) and the gateway's `_entities` (100 customers with groups and default address).
  me: (_v, req) => [
    `select json_build_object('me', (select json_build_object('id', c.id, 'email', c.email,
       'orders', json_build_object('edges', (select coalesce(json_agg(json_build_object('node', json_build_object('id', o.id,
         'items', (select coalesce(json_agg(json_build_object('id', li.id) order by li.id), '[]') from order_line_item li where li.order_id = o.id)))
         order by o.created_at desc, o.id desc), '[]')
         from (select id, created_at from "order" where customer_id = c.id order by created_at desc, id desc limit 10) o)),
       ${addresses15})
     from customer_session s join customer c on c.id = s.customer_id
     where s.token_hash = encode(sha256(convert_to($1, 'UTF8')), 'hex') and s.expires_at > now()
       and c.deleted_at is null and c.has_account)) as data`,
    [bearer(req)],
  ],
  _entities: (v) => [
    `select json_build_object('_entities', coalesce(json_agg((select json_build_object('id', c.id, 'email', c.email, ${groups},
       'defaultShippingAddress', (select json_build_object('id', a.id, 'city', a.city) from customer_address a
         where a.customer_id = c.id and a.is_default_shipping and a.deleted_at is null))
       from customer c where c.id = r.id and c.deleted_at is null) order by r.n), '[]')) as data
     from unnest($1::text[]) with ordinality r(id, n)`,
    [v.r.map((x) => x.id)],
  ],
  M1: async (v) => [
    `insert into customer (id, email, has_account, password_hash) values ($1, $2, true, $3)
     returning json_build_object('register', json_build_object('__typename', 'Session',
       'customer', json_build_object('id', id, 'email', email))) as data`,
    [
      `cus_${randomBytes(13).toString('hex')}`,
      v.input.email.toLowerCase(),
      await bcrypt.hash(v.input.password, bcryptCost),
    ],
  ],
  M2: (v) => [
    `with added as (
       insert into customer_group_customer (id, customer_id, customer_group_id)
       select 'cusgc_' || md5(random()::text || cid), cid, $1 from unnest($2::text[]) cid
       on conflict (customer_id, customer_group_id) where deleted_at is null do nothing returning 1)
     select json_build_object('addCustomersToGroup', json_build_object('__typename', 'CustomerGroupPayload',
       'customerGroup', json_build_object('id', g.id, 'name', g.name))) as data
     from customer_group g where g.id = $1 and (select count(*) from added) >= 0`,
    [v.groupId, v.ids],
  ],
};

const server = createServer(async (req, res) => {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  try {
    const body = JSON.parse(Buffer.concat(chunks).toString());
    const shape = shapes[body.operationName];
    if (!shape) throw new Error(`unknown operation ${body.operationName}`);
    const [sql, params] = await shape(body.variables ?? {}, req);
    const { rows } = await pool.query(sql, params);
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ data: rows[0]?.data ?? null }));
  } catch (error) {
    res.writeHead(500, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ errors: [{ message: String(error) }] }));
  }
});
server.listen(Number(process.env.PORT ?? 4100), '127.0.0.1');
const stop = () => server.close(() => pool.end().then(() => process.exit(0)));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
