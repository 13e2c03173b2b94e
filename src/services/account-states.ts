import { actorOf, requireAdmin } from '../auth.js';
import type { Context } from '../context.js';
import { UNIQUE, uniqueViolated } from '../db/errors.js';
import { transaction } from '../db/transaction.js';
import { recordEvents } from '../events/outbox.js';
import type { Customer, Prisma } from '../generated/prisma/client.js';
import { checkBatchSize, requireAll, type Selection } from './batch.js';
import { endTokens, issueTokens } from './customer-tokens.js';
import { selectCustomers } from './customers.js';
import { AccountExistsError, EmailTakenError } from './errors.js';

/**
 * Disables the selected accounts (guests have none and are left as they are): every session and
 * every reset, verification, email-change and invitation token ends in the same transaction, so
 * each fails on its next use. A login racing this cannot keep its session: sessions are written
 * only for an enabled account (`openSession`, under a share lock of the row), and requests check
 * the account on every session (auth.ts).
 */
export async function disableAccounts(
  ctx: Context,
  selection: Selection<Prisma.CustomerWhereInput>,
): Promise<Customer[]> {
  requireAdmin(ctx);
  return transaction(ctx, async (tx) => {
    const ids = await selectCustomers(tx, selection);
    const now = ctx.services.now();
    const changed = await tx.customer.updateManyAndReturn({
      where: { id: { in: ids }, hasAccount: true, disabledAt: null },
      data: { disabledAt: now, updatedAt: now },
      select: { id: true },
    });
    // Only accounts hold sessions and tokens: the selection's guests lose nothing.
    await tx.customerSession.deleteMany({ where: { customerId: { in: ids } } });
    await endTokens(tx, ids);
    await recordEvents(
      tx,
      actorOf(ctx),
      changed.map(({ id }) => ({ name: 'customer.account_disabled' as const, payload: { id } })),
    );
    return tx.customer.findMany({ where: { id: { in: ids } }, orderBy: { id: 'asc' } });
  });
}

export async function enableAccounts(
  ctx: Context,
  selection: Selection<Prisma.CustomerWhereInput>,
): Promise<Customer[]> {
  requireAdmin(ctx);
  return transaction(ctx, async (tx) => {
    const ids = await selectCustomers(tx, selection);
    const now = ctx.services.now();
    const changed = await tx.customer.updateManyAndReturn({
      where: { id: { in: ids }, disabledAt: { not: null } },
      data: { disabledAt: null, updatedAt: now },
      select: { id: true },
    });
    await recordEvents(
      tx,
      actorOf(ctx),
      changed.map(({ id }) => ({ name: 'customer.account_enabled' as const, payload: { id } })),
    );
    return tx.customer.findMany({ where: { id: { in: ids } }, orderBy: { id: 'asc' } });
  });
}

/**
 * Turns guests into INVITED accounts (an account without a password yet) and sends each an
 * invitation token (`customer.invited`); an INVITED customer is invited again with a new token.
 * Customers with an account (enabled or disabled) are an AccountExistsError, and an email that
 * another live account holds (or two invited guests share) an EmailTakenError: nothing is written.
 */
export async function inviteCustomers(ctx: Context, ids: string[]): Promise<Customer[]> {
  requireAdmin(ctx);
  checkBatchSize(ids, 'ids');
  try {
    return await transaction(ctx, async (tx) => {
      const found = await selectCustomers(tx, { ids });
      requireAll(ids, found, 'ids');
      const rows = await tx.customer.findMany({
        where: { id: { in: found } },
        select: {
          id: true,
          email: true,
          firstName: true,
          lastName: true,
          hasAccount: true,
          passwordHash: true,
          disabledAt: true,
        },
        orderBy: { id: 'asc' },
      });
      const registered = rows.filter((c) => c.hasAccount && (c.passwordHash !== null || c.disabledAt !== null));
      if (registered.length) throw new AccountExistsError(registered.map((c) => c.id));
      const now = ctx.services.now();
      await tx.customer.updateMany({
        where: { id: { in: found }, hasAccount: false },
        data: { hasAccount: true, passwordHash: null, updatedAt: now },
      });
      const tokens = await issueTokens(
        tx,
        'invitation',
        rows.map((c) => ({ customerId: c.id, email: c.email })),
        { now, ttlMs: ctx.services.invitationTtlMs },
      );
      await recordEvents(
        tx,
        actorOf(ctx),
        rows.map((c) => ({
          name: 'customer.invited' as const,
          payload: {
            id: c.id,
            email: c.email,
            first_name: c.firstName,
            last_name: c.lastName,
            token: tokens.get(c.id)!,
          },
        })),
      );
      return tx.customer.findMany({ where: { id: { in: found } }, orderBy: { id: 'asc' } });
    });
  } catch (error) {
    if (uniqueViolated(error) === UNIQUE.accountEmail) throw new EmailTakenError('ids');
    throw error;
  }
}
