-- One statement, outside a transaction (src/db/migrate.ts): CONCURRENTLY builds the index while
-- the table takes writes. Subscriptions read the events after a delivery number through it.
CREATE UNIQUE INDEX CONCURRENTLY IF NOT EXISTS "outbox_event_delivery_seq_key" ON "outbox_event" ("delivery_seq");
