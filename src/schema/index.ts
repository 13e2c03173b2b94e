import { lexicographicSortSchema } from 'graphql';
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
import './federation.js';

builder.queryType({});
builder.mutationType({});

export const schema = builder.toSchema();
export const sortedSchema = () => lexicographicSortSchema(schema);
