import { GraphQLDeferDirective, GraphQLStreamDirective } from '@graphql-tools/utils';
import { lexicographicSortSchema, specifiedDirectives } from 'graphql';
import { builder } from './builder.js';
import './inputs.js';
import './money.js';
import './count.js';
import './customer.js';
import './customer-group.js';
import './membership.js';
import './address.js';
import './order.js';
import './errors.js';
import './account.js';
import './admin-customers.js';
import './admin-groups.js';
import './record.js';
import './data-rights.js';
import './federation.js';
import './subscriptions.js';

builder.queryType({});
builder.mutationType({});

// @defer and @stream are declared here, so that schema.graphql shows them to client tools and the
// yoga plugin that executes them (src/pipeline) finds them and keeps this very schema object.
export const schema = builder.toSchema({
  directives: [...specifiedDirectives, GraphQLDeferDirective, GraphQLStreamDirective],
});
export const sortedSchema = () => lexicographicSortSchema(schema);
