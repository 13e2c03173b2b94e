import { actorOf, requireAdmin } from '../auth.js';
import type { Context } from '../context.js';
import { transaction } from '../db/transaction.js';
import { recordEvents } from '../events/outbox.js';
import type { CustomerNote } from '../generated/prisma/client.js';
import { newId } from '../lib/ids.js';
import { NotFoundError } from './errors.js';
import { noteBody } from './validation.js';

/** A staff note on a live customer, by the admin key's name; a timeline entry and an event. */
export async function addNote(ctx: Context, customerId: string, body: string): Promise<CustomerNote> {
  const author = requireAdmin(ctx);
  const text = noteBody(body);
  return transaction(ctx, async (tx) => {
    // FOR SHARE: a concurrent delete of the customer waits for the note, or the note for it.
    const live = await tx.$queryRaw<{ id: string }[]>`
      SELECT id FROM customer WHERE id = ${customerId} AND deleted_at IS NULL FOR SHARE`;
    if (live.length === 0) throw new NotFoundError([customerId], 'customerId');
    const now = ctx.services.now();
    const note = await tx.customerNote.create({
      data: { id: newId('CustomerNote'), customerId, body: text, author, createdAt: now, updatedAt: now },
    });
    await recordEvents(tx, actorOf(ctx), [
      { name: 'customer.note_added', payload: { id: customerId, note_id: note.id } },
    ]);
    return note;
  });
}

/** The body changes; the author stays who wrote it, and the timeline names who edited. */
export async function updateNote(ctx: Context, id: string, body: string): Promise<CustomerNote> {
  requireAdmin(ctx);
  const text = noteBody(body);
  return transaction(ctx, async (tx) => {
    const [note] = await tx.customerNote.updateManyAndReturn({
      where: { id, customer: { deletedAt: null } },
      data: { body: text, updatedAt: ctx.services.now() },
    });
    if (!note) throw new NotFoundError([id], 'id');
    await recordEvents(tx, actorOf(ctx), [
      { name: 'customer.note_updated', payload: { id: note.customerId, note_id: note.id } },
    ]);
    return note;
  });
}

export async function deleteNote(ctx: Context, id: string): Promise<string> {
  requireAdmin(ctx);
  return transaction(ctx, async (tx) => {
    const [note] = await tx.$queryRaw<{ id: string; customer_id: string }[]>`
      DELETE FROM customer_note WHERE id = ${id} RETURNING id, customer_id`;
    if (!note) throw new NotFoundError([id], 'id');
    await recordEvents(tx, actorOf(ctx), [
      { name: 'customer.note_deleted', payload: { id: note.customer_id, note_id: note.id } },
    ]);
    return note.id;
  });
}
