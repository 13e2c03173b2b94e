import type { Prisma } from '../generated/prisma/client.js';
import { FulfillmentStatus, OrderStatus, PaymentStatus } from '../generated/prisma/enums.js';
import { foldCase } from '../lib/fold-case.js';
import type { AddressInput } from '../services/addresses.js';
import { builder } from './builder.js';
import { Customer } from './customer.js';
import { DateTimeFilter, dateRange, ilike, parseIds, SEARCH_RULE, searchTerm } from './inputs.js';
import { type ListSpec, type Ordering, relationConnection, rootList, rootLookup } from './keyset.js';
import { Money, type MoneyPlan } from './money.js';
import { ownedBy } from './owner.js';
import { idArg, lookupById } from './root-args.js';

const newestFirst: Ordering = { model: 'Order', field: 'createdAt', direction: 'desc' };

/** GraphQL enum values are UPPER_CASE; the database keeps Medusa's lower-case values. */
function upperCased<T extends Record<string, string>>(values: T) {
  const upper = Object.fromEntries(Object.values(values).map((v) => [v.toUpperCase(), { value: v }]));
  return upper as { [K in keyof T as Uppercase<K & string>]: { value: T[K] } };
}

export const OrderStatusEnum = builder.enumType('OrderStatus', { values: upperCased(OrderStatus) });
export const FulfillmentStatusEnum = builder.enumType('FulfillmentStatus', { values: upperCased(FulfillmentStatus) });
export const PaymentStatusEnum = builder.enumType('PaymentStatus', { values: upperCased(PaymentStatus) });

export const OrderFilter = builder.inputType('OrderFilter', {
  description: "Medusa's order filters. Every field given must hold.",
  fields: (t) => ({
    q: t.string({
      description: `Search: the email (${SEARCH_RULE.replace(/\.$/, '')}), an exact order ID, or (when a number) the display ID.`,
    }),
    ids: t.idList(),
    status: t.field({ type: [OrderStatusEnum] }),
    fulfillmentStatus: t.field({ type: [FulfillmentStatusEnum] }),
    paymentStatus: t.field({ type: [PaymentStatusEnum] }),
    displayId: t.int(),
    cartId: t.string(),
    email: t.string({ description: 'Exact email, case-insensitive.' }),
    regionId: t.string(),
    currencyCode: t.string({ description: 'ISO 4217, either case.' }),
    createdAt: t.field({ type: DateTimeFilter }),
    updatedAt: t.field({ type: DateTimeFilter }),
    canceledAt: t.field({ type: DateTimeFilter }),
  }),
});

export function orderWhere(
  filter: typeof OrderFilter.$inferInput | null | undefined,
  argumentName: string,
): Prisma.OrderWhereInput {
  if (!filter) return {};
  const q = searchTerm(filter.q);
  const email = filter.email?.trim();
  return {
    ...(filter.ids ? { id: { in: parseIds(filter.ids, 'Order', `${argumentName}.ids`) } } : {}),
    ...(filter.status ? { status: { in: filter.status } } : {}),
    ...(filter.fulfillmentStatus ? { fulfillmentStatus: { in: filter.fulfillmentStatus } } : {}),
    ...(filter.paymentStatus ? { paymentStatus: { in: filter.paymentStatus } } : {}),
    ...(filter.displayId != null ? { displayId: filter.displayId } : {}),
    ...(filter.cartId ? { cartId: filter.cartId } : {}),
    ...(email ? { emailFolded: foldCase(email) } : {}),
    ...(filter.regionId ? { regionId: filter.regionId } : {}),
    ...(filter.currencyCode ? { currencyCode: filter.currencyCode.trim().toLowerCase() } : {}),
    ...(filter.createdAt ? { createdAt: dateRange(filter.createdAt) } : {}),
    ...(filter.updatedAt ? { updatedAt: dateRange(filter.updatedAt) } : {}),
    ...(filter.canceledAt ? { canceledAt: dateRange(filter.canceledAt) } : {}),
    ...(q
      ? {
          OR: [{ email: ilike(q) }, { id: q }, ...(/^\d{1,9}$/.test(q) ? [{ displayId: Number(q) }] : [])],
        }
      : {}),
  };
}

type OrderAmount =
  | 'subtotal'
  | 'taxTotal'
  | 'shippingTotal'
  | 'discountTotal'
  | 'total'
  | 'paidTotal'
  | 'refundedTotal';

/** An order amount in the order's currency, for both read paths (money.ts). */
const orderMoney = <Amount extends OrderAmount>(amount: Amount) => ({
  type: Money,
  select: { [amount]: true, currencyCode: true } as { [K in Amount | 'currencyCode']: true },
  resolve: (order: Record<Amount, bigint> & { currencyCode: string }) => ({
    minor: order[amount],
    currency: order.currencyCode,
  }),
  extensions: {
    readPlan: { kind: 'money', amount: [amount], currency: { field: 'currencyCode' } } satisfies MoneyPlan,
  },
});

/** A line item's amount, in its order's currency. */
const lineItemMoney = (amount: string[]): MoneyPlan => ({
  kind: 'money',
  amount,
  currency: { relation: 'order', field: 'currencyCode' },
});

/** The address fields an order keeps, as they were when it was placed. */
type AddressSnapshot = Omit<AddressInput, 'addressName' | 'metadata' | 'isDefaultShipping' | 'isDefaultBilling'>;

const OrderAddress = builder.objectRef<AddressSnapshot>('OrderAddress').implement({
  // Reached only through an Order, whose own rule decides.
  authScopes: { $any: { admin: true, customer: true } },
  description: 'The address as it was when the order was placed.',
  fields: (t) => ({
    firstName: t.exposeString('firstName', { nullable: true }),
    lastName: t.exposeString('lastName', { nullable: true }),
    company: t.exposeString('company', { nullable: true }),
    address1: t.exposeString('address1', { nullable: true }),
    address2: t.exposeString('address2', { nullable: true }),
    city: t.exposeString('city', { nullable: true }),
    countryCode: t.expose('countryCode', { type: 'CountryCode', nullable: true }),
    province: t.exposeString('province', { nullable: true }),
    postalCode: t.exposeString('postalCode', { nullable: true }),
    phone: t.exposeString('phone', { nullable: true }),
  }),
});

function snapshot(value: Prisma.JsonValue | null): AddressSnapshot | null {
  return value && typeof value === 'object' && !Array.isArray(value) ? (value as AddressSnapshot) : null;
}

// Admins' reads of these fields are planned (src/planner/, docs/planner.md): the planner answers
// them from the same declarations, and test/read-paths.test.ts holds both paths to one answer.
export const OrderLineItem = builder.prismaNode('OrderLineItem', {
  id: { field: 'id' },
  select: { id: true },
  authScopes: { $any: { admin: true, customer: true } },
  fields: (t) => ({
    title: t.exposeString('title'),
    quantity: t.exposeInt('quantity'),
    unitPrice: t.field({
      type: Money,
      select: { unitPrice: true, order: { select: { currencyCode: true } } },
      resolve: (item) => ({ minor: item.unitPrice, currency: item.order.currencyCode }),
      extensions: { readPlan: lineItemMoney(['unitPrice']) },
    }),
    total: t.field({
      type: Money,
      description: 'unitPrice × quantity.',
      select: { unitPrice: true, quantity: true, order: { select: { currencyCode: true } } },
      resolve: (item) => ({ minor: item.unitPrice * BigInt(item.quantity), currency: item.order.currencyCode }),
      extensions: { readPlan: lineItemMoney(['unitPrice', 'quantity']) },
    }),
  }),
});

// Admins' reads of these fields are planned (src/planner/, docs/planner.md): the planner answers
// them from the same declarations, and test/read-paths.test.ts holds both paths to one answer.
export const Order = builder.prismaNode('Order', {
  id: { field: 'id' },
  select: { id: true, customerId: true },
  nullable: true,
  ...ownedBy('customerId'),
  fields: (t) => ({
    displayId: t.exposeInt('displayId'),
    email: t.exposeString('email'),
    status: t.expose('status', { type: OrderStatusEnum }),
    fulfillmentStatus: t.expose('fulfillmentStatus', { type: FulfillmentStatusEnum }),
    paymentStatus: t.expose('paymentStatus', { type: PaymentStatusEnum }),
    currencyCode: t.expose('currencyCode', { type: 'CurrencyCode' }),
    regionId: t.exposeString('regionId', { nullable: true }),
    cartId: t.exposeString('cartId', { nullable: true }),
    salesChannelId: t.exposeString('salesChannelId', { nullable: true }),
    subtotal: t.field(orderMoney('subtotal')),
    taxTotal: t.field(orderMoney('taxTotal')),
    shippingTotal: t.field(orderMoney('shippingTotal')),
    discountTotal: t.field(orderMoney('discountTotal')),
    total: t.field(orderMoney('total')),
    paidTotal: t.field(orderMoney('paidTotal')),
    refundedTotal: t.field(orderMoney('refundedTotal')),
    shippingAddress: t.field({
      type: OrderAddress,
      nullable: true,
      select: { shippingAddress: true },
      resolve: (order) => snapshot(order.shippingAddress),
    }),
    billingAddress: t.field({
      type: OrderAddress,
      nullable: true,
      select: { billingAddress: true },
      resolve: (order) => snapshot(order.billingAddress),
    }),
    items: t.relation('items', { query: { orderBy: { id: 'asc' } } }),
    canceledAt: t.expose('canceledAt', { type: 'DateTime', nullable: true }),
    metadata: t.expose('metadata', { type: 'JSONObject', nullable: true }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    updatedAt: t.expose('updatedAt', { type: 'DateTime' }),
    customer: t.field({
      type: Customer,
      nullable: true,
      select: (_args, _ctx, nestedSelection) => ({ customer: nestedSelection() }),
      // A soft-deleted customer is gone from every path, this one included.
      resolve: (order) => (order.customer && !order.customer.deletedAt ? order.customer : null),
    }),
  }),
});

const customerOrders = relationConnection<{ filter?: typeof OrderFilter.$inferInput | null }>({
  relation: 'orders',
  connection: 'Customer.orders',
  ordering: newestFirst,
  where: (args) => orderWhere(args.filter, 'filter'),
});

// Admins' reads of these fields are planned (src/planner/, docs/planner.md): the planner answers
// them from the same declarations, and test/read-paths.test.ts holds both paths to one answer.
builder.prismaObjectField('Customer', 'orders', (t) =>
  t.connection(
    { type: Order, args: { filter: t.arg({ type: OrderFilter }) }, ...customerOrders },
    { name: 'CustomerOrdersConnection' },
    { name: 'CustomerOrdersConnectionEdge' },
  ),
);

const ordersList: ListSpec<{ filter?: typeof OrderFilter.$inferInput | null }> = {
  model: 'Order',
  connection: 'orders',
  where: (args) => orderWhere(args.filter, 'filter'),
  ordering: () => newestFirst,
};

// Admins' reads of these fields are planned (src/planner/, docs/planner.md): the planner answers
// them from the same declarations, and test/read-paths.test.ts holds both paths to one answer.
builder.queryFields((t) => ({
  order: t.prismaField({
    type: 'Order',
    nullable: true,
    authScopes: { admin: true },
    args: idArg,
    ...rootLookup(lookupById('Order', 'never'), (db) => db.order),
  }),
  orders: t.connection(
    {
      type: Order,
      authScopes: { admin: true },
      args: { filter: t.arg({ type: OrderFilter }) },
      ...rootList(ordersList, 'Order', (db) => db.order),
    },
    { name: 'OrderConnection' },
    { name: 'OrderEdge' },
  ),
}));
