// Login timing: unknown email vs wrong password, interleaved, through the real app on an in-memory
// database at the configured bcrypt cost. Prints medians and their ratio, and bcrypt's time per hash.
//   npm run bench:login [-- --rounds 40 --cost 12]
import { parseArgs } from 'node:util';
import bcrypt from 'bcrypt';
import { openDatabase } from '../src/db/index.js';
import { migrate } from '../src/db/migrate.js';
import { createLogger } from '../src/logger.js';
import { createApp } from '../src/yoga.js';

const { values } = parseArgs({
  options: { rounds: { type: 'string', default: '40' }, cost: { type: 'string', default: '12' } },
});
const rounds = Number(values.rounds);
const cost = Number(values.cost);

const db = await openDatabase({ dataDir: 'memory://' });
await migrate(db);
const settings = { bcryptCost: cost, loginFailuresPerEmail: 1e6, loginFailuresPerClient: 1e6 };
const app = createApp({ db, log: createLogger('silent'), settings });
const gql = async (query: string, variables: Record<string, unknown>) => {
  const started = performance.now();
  const response = await app.fetch('http://yoga/graphql', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query, variables }),
  });
  const body = await response.text();
  return { ms: performance.now() - started, body };
};
const LOGIN =
  'mutation($e: String!, $p: String!) { login(email: $e, password: $p) { __typename ... on Error { message } } }';
await gql('mutation($e: String!) { register(input: { email: $e, password: "right-password" }) { __typename } }', {
  e: 'known@example.com',
});

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const unknown: number[] = [];
const wrong: number[] = [];
const bodies = new Set<string>();
for (let i = 0; i < rounds + 2; i++) {
  const a = await gql(LOGIN, { e: `nobody${i}@example.com`, p: 'wrong-password' });
  const b = await gql(LOGIN, { e: 'known@example.com', p: 'wrong-password' });
  bodies.add(a.body).add(b.body);
  // the first rounds warm up
  if (i >= 2) {
    unknown.push(a.ms);
    wrong.push(b.ms);
  }
}
const hashes: number[] = [];
for (let i = 0; i < 10; i++) {
  const started = performance.now();
  await bcrypt.hash('right-password', cost);
  hashes.push(performance.now() - started);
}
console.log(`bcrypt cost ${cost}: ${median(hashes).toFixed(1)} ms per hash (median of 10)`);
console.log(`login, unknown email:  median ${median(unknown).toFixed(1)} ms over ${rounds}`);
console.log(`login, wrong password: median ${median(wrong).toFixed(1)} ms over ${rounds}`);
console.log(
  `ratio unknown/wrong: ${(median(unknown) / median(wrong)).toFixed(3)}; distinct response bodies: ${bodies.size}`,
);
await db.close();
