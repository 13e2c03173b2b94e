-- The order deliveries commit in, over all keys: the worker takes a transaction lock, then numbers
-- the events it marks delivered from this sequence, so a higher number is always committed later.
-- Subscriptions tail it (src/events/feed.ts). Adding a nullable column does not rewrite the table.
CREATE SEQUENCE IF NOT EXISTS "outbox_delivery_seq";
ALTER TABLE "outbox_event" ADD COLUMN IF NOT EXISTS "delivery_seq" BIGINT;
