import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { test } from 'node:test';
import { sql } from 'pg-sql2';
import { createLogger } from '../src/logger.js';
import { DataModel } from '../src/planner/datamodel.js';
import { type AppSettings, createApp } from '../src/yoga.js';
import { ADMIN, ADMIN_KEY, createTestApp, makeCustomer } from './helpers.js';

// What the read planner decided is visible: a metric per decision (planned, or fallback by kind) and
// a debug line with the exact reason and the request's ID; a defect of the compiler fails the
// request outside production and falls back (logged as an error) in it.

const t = await createTestApp();
for (let i = 0; i < 3; i++) await makeCustomer(t.prisma);

function appWith(settings: Partial<AppSettings> = {}) {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      for (const line of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(line));
      done();
    },
  });
  const app = createApp({
    db: t.db,
    log: createLogger('debug', stream),
    metrics: true,
    settings: { adminKeys: [{ name: 'tests', key: ADMIN_KEY }], bcryptCost: 4, ...settings },
  });
  const gql = async (query: string, requestId = 'req-1') => {
    const response = await app.fetch('http://yoga/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': requestId, ...ADMIN },
      body: JSON.stringify({ query }),
    });
    return { status: response.status, text: await response.text() };
  };
  const decisions = async () => {
    const text = await (await app.fetch('http://yoga/metrics')).text();
    return text
      .split('\n')
      .filter((line) => line.startsWith('graphql_read_planner_decisions_total{'))
      .map((line) => line.replace(/^graphql_read_planner_decisions_total/, ''))
      .sort();
  };
  return { app, gql, lines, decisions };
}

test('each admin query counts as planned or as a fallback by kind, and a debug line says why', async () => {
  const { gql, lines, decisions } = appWith();
  assert.equal((await gql('{ customers(first: 2) { edges { node { id } } } }', 'planned-1')).status, 200);
  await gql('{ customers(first: 2) { totalCount } }', 'planned-2');
  await gql('{ orders(first: 1) { edges { node { shippingAddress { city } } } } }', 'unsupported-1');
  await gql('{ customers(after: "not-a-cursor") { totalCount } }', 'argument-1');
  assert.deepEqual(await decisions(), [
    '{decision="fallback",kind="argument"} 1',
    '{decision="fallback",kind="unsupported"} 1',
    '{decision="planned",kind=""} 2',
  ]);
  const fallbacks = lines.filter((line) => line.msg === 'read planner: fallback');
  assert.deepEqual(
    fallbacks.map((line) => [line.requestId, line.kind]),
    [
      ['unsupported-1', 'unsupported'],
      ['argument-1', 'argument'],
    ],
  );
  assert.match(String(fallbacks[0]!.reason), /shippingAddress/);
  assert.match(String(fallbacks[1]!.reason), /after/);
  assert.equal(lines.filter((line) => line.msg === 'read planner: planned').length, 2);
});

test('a defect of the compiler fails the request outside production, and falls back with an error line in production', async () => {
  const column = DataModel.prototype.column;
  DataModel.prototype.column = () => {
    throw new TypeError('planner defect (injected by the test)');
  };
  try {
    const query = '{ customers(first: 2) { edges { node { id email } } } }';
    const strict = appWith();
    const failed = JSON.parse((await strict.gql(query)).text) as { data?: unknown; errors?: { message: string }[] };
    assert.equal(failed.data, undefined);
    assert.equal(failed.errors?.length, 1, JSON.stringify(failed));

    const production = appWith({ production: true });
    const answered = JSON.parse((await production.gql(query, 'prod-1')).text) as {
      data?: { customers: { edges: unknown[] } };
      errors?: unknown;
    };
    assert.equal(answered.errors, undefined);
    assert.equal(answered.data?.customers.edges.length, 2);
    assert.deepEqual(await production.decisions(), ['{decision="fallback",kind="compile_error"} 1']);
    const logged = production.lines.find((line) => line.msg === 'read planner: compile error; the Pothos path answers');
    assert.equal(logged?.requestId, 'prod-1');
    assert.match(String(logged?.reason), /planner defect/);
  } finally {
    DataModel.prototype.column = column;
  }
});

test('a planned statement that PostgreSQL refuses as SQL is a defect too: an error outside production, a logged fallback in it', async () => {
  const column = DataModel.prototype.column;
  DataModel.prototype.column = function (this: DataModel, ...args: Parameters<typeof column>) {
    const found = column.apply(this, args);
    return args[1] === 'email' ? { ...found, sql: sql.identifier('no_such_column') } : found;
  };
  try {
    const query = '{ customers(first: 2) { edges { node { id email } } } }';
    const strict = appWith();
    const failed = JSON.parse((await strict.gql(query)).text) as { data?: unknown; errors?: unknown[] };
    assert.equal(failed.data, undefined);
    assert.equal(failed.errors?.length, 1);
    const production = appWith({ production: true });
    const answered = JSON.parse((await production.gql(query, 'prod-2')).text) as {
      data?: { customers: { edges: unknown[] } };
      errors?: unknown;
    };
    assert.equal(answered.errors, undefined);
    assert.equal(answered.data?.customers.edges.length, 2);
    assert.deepEqual(
      await production.decisions(),
      ['{decision="fallback",kind="compile_error"} 1'],
      'counted once, as a fallback',
    );
    assert.match(
      String(
        production.lines.find((line) => line.msg === 'read planner: compile error; the Pothos path answers')?.reason,
      ),
      /no_such_column/,
    );
  } finally {
    DataModel.prototype.column = column;
  }
});
