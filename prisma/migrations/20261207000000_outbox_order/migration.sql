-- AlterTable
-- (Nullable first: rows already in the outbox get their key and sequence below.)
ALTER TABLE "outbox_event" ADD COLUMN     "key" TEXT,
ADD COLUMN     "seq" INTEGER;

-- Backfill (by hand): the key each event name's payload names, as src/events/outbox.ts derives it
-- today; a row whose payload names none keys itself. Sequence numbers in the order the rows were
-- written (by the writer's clock: the best there is for rows written before numbers existed).
UPDATE "outbox_event" SET "key" = coalesce(
  CASE
    WHEN "name" LIKE 'customer\_group.%' THEN 'customer_group:' || ("payload" ->> 'id')
    WHEN "name" LIKE 'customer\_address.%' THEN 'customer:' || ("payload" ->> 'customer_id')
    WHEN "name" = 'customer.email_verification_requested' THEN 'customer:' || ("payload" ->> 'customerId')
    ELSE 'customer:' || ("payload" ->> 'id')
  END,
  'event:' || "id");
UPDATE "outbox_event" e SET "seq" = n.seq
FROM (SELECT "id", row_number() OVER (PARTITION BY "key" ORDER BY "created_at", "id")::int AS seq FROM "outbox_event") n
WHERE e."id" = n."id";
ALTER TABLE "outbox_event" ALTER COLUMN "key" SET NOT NULL,
ALTER COLUMN "seq" SET NOT NULL;

-- CreateTable
CREATE TABLE "outbox_key" (
    "key" TEXT NOT NULL,
    "last_seq" INTEGER NOT NULL,

    CONSTRAINT "outbox_key_pkey" PRIMARY KEY ("key")
);

-- Backfill (by hand): the next event of a key continues its numbering.
INSERT INTO "outbox_key" ("key", "last_seq") SELECT "key", max("seq") FROM "outbox_event" GROUP BY "key";

-- CreateIndex
CREATE UNIQUE INDEX "outbox_event_key_seq_key" ON "outbox_event"("key", "seq");

-- CreateIndex
CREATE INDEX "outbox_event_pending_key_idx" ON "outbox_event"("key", "seq") WHERE delivered_at IS NULL;
