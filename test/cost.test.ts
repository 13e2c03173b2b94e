import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { newId } from '../src/lib/ids.js';
import { createTestApp, type GraphQLResponse } from './helpers.js';

// The cost model of docs/operations.md ("Cost"), restated here from the text alone, against what the
// pipeline reports for generated nested selections: aliases, inline and named fragments, page sizes
// as literals or variables, connections nested three deep. The depth, alias and token limits are
// raised so that only the cost decides; MAX_COST stays at 5000, so some operations are refused.

const MAX_COST = 5000;
const t = await createTestApp({ settings: { maxDepth: 100, maxAliases: 10_000, maxTokens: 1_000_000 } });

/** What a generated piece renders into: the operation's variables and fragment definitions. */
class Doc {
  variableDefinitions: string[] = [];
  variables: Record<string, unknown> = {};
  fragments: string[] = [];
  private n = 0;
  name(prefix: string) {
    return `${prefix}${++this.n}`;
  }
  value(type: string, value: unknown) {
    const name = this.name('v');
    this.variableDefinitions.push(`$${name}: ${type}`);
    this.variables[name] = value;
    return `$${name}`;
  }
}

/** A selection and its cost under the documented model. */
interface Piece {
  key: string;
  cost: number;
  render(doc: Doc): string;
}

const leaf = (name: string): Piece => ({ key: name, cost: 0, render: () => name });

/** A selection set, as it is or through an inline or named fragment; a repeated field gets an alias. */
function selectionSet(type: string, pieces: fc.Arbitrary<Piece[]>) {
  return fc
    .record({ pieces, aliased: fc.array(fc.boolean(), { minLength: 4, maxLength: 4 }), wrap: fc.nat(2) })
    .map(({ pieces, aliased, wrap }) => ({
      cost: pieces.reduce((sum, p) => sum + p.cost, 0),
      render(doc: Doc) {
        const keys = new Set<string>();
        const inner = pieces
          .map((p, i) => {
            const alias = aliased[i] || keys.has(p.key) ? `${doc.name('a')}: ` : '';
            keys.add(p.key);
            return alias + p.render(doc);
          })
          .join(' ');
        if (wrap === 0) return `{ ${inner} }`;
        if (wrap === 1) return `{ ... on ${type} { ${inner} } }`;
        const fragment = doc.name('F');
        doc.fragments.push(`fragment ${fragment} on ${type} { ${inner} }`);
        return `{ ...${fragment} }`;
      },
    }));
}

/** An object field: 1 plus its fields. */
function object(name: string, set: fc.Arbitrary<{ cost: number; render(doc: Doc): string }>) {
  return set.map((s): Piece => ({ key: name, cost: 1 + s.cost, render: (doc) => `${name} ${s.render(doc)}` }));
}

const pageArgument = fc.option(fc.record({ value: fc.integer({ min: 0, max: 120 }), asVariable: fc.boolean() }), {
  nil: undefined,
});

/** A connection: 1, plus 1 for pageInfo and count, plus edge and node (1 each) and the node's fields per item. */
function connection(name: string, type: string, node: string, nodeFields: fc.Arbitrary<Piece[]>) {
  return fc
    .record({
      first: pageArgument,
      last: pageArgument,
      totalCount: fc.boolean(),
      pageInfo: fc.boolean(),
      count: fc.boolean(),
      edges: fc.option(selectionSet(node, nodeFields), { nil: undefined }),
      wrap: fc.boolean(),
    })
    .map(({ first, last, totalCount, pageInfo, count, edges, wrap }): Piece => {
      const given = [first, last].filter((a) => a !== undefined).map((a) => a.value);
      const items = given.length ? Math.min(Math.max(...given), 100) : 15;
      const cost = 1 + (pageInfo ? 1 : 0) + (count ? 1 : 0) + (edges ? items * (2 + edges.cost) : 0);
      return {
        key: name,
        cost,
        render(doc) {
          const args = Object.entries({ first, last })
            .filter(([, a]) => a !== undefined)
            .map(([arg, a]) => `${arg}: ${a!.asVariable ? doc.value('Int', a!.value) : a!.value}`);
          const fields = [
            totalCount || (!pageInfo && !count && !edges) ? 'totalCount' : '',
            pageInfo ? 'pageInfo { hasNextPage endCursor }' : '',
            count ? 'count { count precision }' : '',
            edges ? `edges { cursor node ${edges.render(doc)} }` : '',
          ].join(' ');
          let set = `{ ${fields} }`;
          if (wrap) {
            const fragment = doc.name('F');
            doc.fragments.push(`fragment ${fragment} on ${type} ${set}`);
            set = `{ ...${fragment} }`;
          }
          return `${name}${args.length ? `(${args.join(', ')})` : ''} ${set}`;
        },
      };
    });
}

const fields = (...arbitraries: fc.Arbitrary<Piece>[]) =>
  fc.array(fc.oneof(...arbitraries), { minLength: 1, maxLength: 4 });

// Each type's fields, `depth` object levels below it at most.
function customerFields(depth: number): fc.Arbitrary<Piece[]> {
  const scalars = [fc.constant(leaf('id')), fc.constant(leaf('email')), fc.constant(leaf('__typename'))];
  if (depth === 0) return fields(...scalars);
  return fields(
    ...scalars,
    object('defaultShippingAddress', selectionSet('Address', addressFields(depth - 1))),
    connection('orders', 'CustomerOrdersConnection', 'Order', orderFields(depth - 1)),
    connection('groups', 'CustomerGroupsConnection', 'CustomerGroup', groupFields(depth - 1)),
    connection('addresses', 'CustomerAddressesConnection', 'Address', addressFields(depth - 1)),
  );
}
function orderFields(depth: number): fc.Arbitrary<Piece[]> {
  const scalars = [fc.constant(leaf('id')), fc.constant(leaf('displayId')), fc.constant(leaf('__typename'))];
  if (depth === 0) return fields(...scalars);
  return fields(
    ...scalars,
    // A list without a list argument counts once.
    object('items', selectionSet('OrderLineItem', fields(fc.constant(leaf('title')), fc.constant(leaf('quantity'))))),
    object('shippingAddress', selectionSet('OrderAddress', fields(fc.constant(leaf('city'))))),
    object('customer', selectionSet('Customer', customerFields(depth - 1))),
  );
}
function groupFields(depth: number): fc.Arbitrary<Piece[]> {
  const scalars = [fc.constant(leaf('name')), fc.constant(leaf('__typename'))];
  if (depth === 0) return fields(...scalars);
  return fields(
    ...scalars,
    connection('customers', 'CustomerGroupCustomersConnection', 'Customer', customerFields(depth - 1)),
  );
}
function addressFields(depth: number): fc.Arbitrary<Piece[]> {
  const scalars = [fc.constant(leaf('city')), fc.constant(leaf('id'))];
  if (depth === 0) return fields(...scalars);
  return fields(...scalars, object('customer', selectionSet('Customer', customerFields(depth - 1))));
}

/** A list argument's field: once per item of the list, itself and its fields. */
function byList(name: string, argument: string, type: string, make: () => unknown, on: fc.Arbitrary<Piece[]>) {
  return fc.record({ length: fc.nat(120), set: selectionSet('Customer', on) }).map(
    ({ length, set }): Piece => ({
      key: name,
      cost: length * (1 + set.cost),
      render: (doc) =>
        `${name}(${argument}: ${doc.value(type, Array.from({ length }, make))}) { ... on Customer ${set.render(doc)} }`,
    }),
  );
}

const DEPTH = 3;
const operation = fields(
  connection('customers', 'CustomerConnection', 'Customer', customerFields(DEPTH)),
  connection('orders', 'OrderConnection', 'Order', orderFields(DEPTH)),
  connection('customerGroups', 'CustomerGroupConnection', 'CustomerGroup', groupFields(DEPTH)),
  byList('nodes', 'ids', '[ID!]!', () => newId('Customer'), customerFields(1)),
  byList(
    '_entities',
    'representations',
    '[_Any!]!',
    () => ({ __typename: 'Customer', id: newId('Customer') }),
    customerFields(1),
  ),
).map((pieces) => {
  // Rendered here, so that a counterexample shows the operation.
  const doc = new Doc();
  const keys = new Set<string>();
  const selections = pieces.map((p) => {
    const alias = keys.has(p.key) ? `${doc.name('a')}: ` : '';
    keys.add(p.key);
    return alias + p.render(doc);
  });
  const definitions = doc.variableDefinitions.length ? `(${doc.variableDefinitions.join(', ')})` : '';
  return {
    query: [`query${definitions} { ${selections.join(' ')} }`, ...doc.fragments].join('\n'),
    variables: doc.variables,
    cost: pieces.reduce((sum, p) => sum + p.cost, 0),
  };
});

test('the cost the pipeline reports is the documented model’s, and refused exactly above MAX_COST', async () => {
  let refused = 0;
  await fc.assert(
    fc.asyncProperty(operation, async ({ query, variables, cost }) => {
      const r: GraphQLResponse = await t.gql(query, variables);
      assert.deepEqual(r.extensions?.cost, { requested: cost, maximum: MAX_COST }, JSON.stringify(r));
      const codes = (r.errors ?? []).map((e) => e.extensions?.code);
      assert.equal(codes.includes('QUERY_TOO_COMPLEX'), cost > MAX_COST, JSON.stringify(r.errors));
      if (cost <= MAX_COST) return;
      assert.equal(r.data, undefined, 'refused before execution');
      refused++;
    }),
    { numRuns: Number(process.env.COST_RUNS ?? 150) },
  );
  assert.ok(refused > 0, 'some generated operations were above MAX_COST');
});
