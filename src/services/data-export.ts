import { requireAdmin } from '../auth.js';
import type { Context } from '../context.js';
import { type EventName, SECRET_PAYLOAD_KEYS } from '../events/outbox.js';
import { getDatamodel } from '../generated/pothos-types.js';

interface DmmfField {
  name: string;
  kind: string;
  type: string;
  isList: boolean;
  relationFromFields?: readonly string[];
}

const MODELS = getDatamodel().datamodel.models as unknown as Record<string, { fields: DmmfField[] }>;

/** Columns no export shows: a password's hash and tokens' digests (their existence is shown instead). */
const SECRET_FIELDS = new Set(['passwordHash', 'tokenHash']);

/**
 * Prisma's `include` of everything that hangs off a row of `model`, read from the data model, so a
 * new table is exported without being listed: every relation whose foreign key points at the row
 * (addresses, orders and their items, memberships, sessions, tokens, notes, the timeline, customers
 * merged into it, …), down to their own children; a row's other parents by ID (and name, where they
 * have one: a membership's group).
 */
function includeOf(model: string, path: readonly string[]): Record<string, unknown> {
  const include: Record<string, unknown> = {};
  for (const field of MODELS[model]!.fields) {
    if (field.kind !== 'object') continue;
    const parent = Boolean(field.relationFromFields?.length);
    const visits = path.filter((type) => type === field.type).length;
    if (parent && visits > 0) continue; // the way back
    // A child of a model already on the path is followed once more (the customers merged into
    // this one, with what they left), then by ID only.
    if (parent || visits > 1) {
      const hasName = MODELS[field.type]!.fields.some((f) => f.name === 'name' && f.kind === 'scalar');
      include[field.name] = { select: { id: true, ...(hasName ? { name: true } : {}) } };
      continue;
    }
    const children = includeOf(field.type, [...path, field.type]);
    include[field.name] = Object.keys(children).length ? { include: children } : true;
  }
  return include;
}

const CUSTOMER_INCLUDE = includeOf('Customer', ['Customer']);

/** Plain JSON: 64-bit amounts as decimal strings, secrets replaced by whether they are set. */
function plain(value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      if (SECRET_FIELDS.has(key)) {
        if (key === 'passwordHash') out.hasPassword = item !== null;
        continue;
      }
      out[key] = plain(item);
    }
    return out;
  }
  return value;
}

export interface CustomerDataExport {
  exportedAt: string;
  customer: unknown;
  /** Events about the customer that the outbox still holds, delivered or not. */
  events: unknown[];
}

/**
 * Everything held about one customer (GDPR article 15), soft-deleted or merged customers included,
 * as one JSON document: the row with every row that hangs off it (by the data model), and the
 * events the outbox still holds that name them. Null for an unknown ID. Two statements.
 */
export async function exportCustomerData(ctx: Context, customerId: string): Promise<CustomerDataExport | null> {
  requireAdmin(ctx);
  const [customer, events] = await Promise.all([
    ctx.db.customer.findUnique({ where: { id: customerId }, include: CUSTOMER_INCLUDE }),
    ctx.db.$queryRaw<{ id: string; name: string; payload: unknown; created_at: Date; delivered_at: Date | null }[]>`
      SELECT id, name, payload, created_at, delivered_at FROM outbox_event
      WHERE key = ${`customer:${customerId}`} OR payload->'added' ? ${customerId} OR payload->'removed' ? ${customerId}
        OR payload->>'merged_into_id' = ${customerId}
      ORDER BY created_at, id`,
  ]);
  if (!customer) return null;
  return {
    exportedAt: ctx.services.now().toISOString(),
    customer: plain(customer),
    events: events.map((e) => {
      // A token not yet delivered is live: the export says it was sent, not what it is.
      const payload = { ...(e.payload as Record<string, unknown>) };
      for (const key of SECRET_PAYLOAD_KEYS[e.name as EventName] ?? []) if (key in payload) payload[key] = '[secret]';
      return plain({ id: e.id, name: e.name, payload, createdAt: e.created_at, deliveredAt: e.delivered_at });
    }),
  };
}
