-- One statement, outside a transaction (src/db/migrate.ts): CONCURRENTLY builds the index while
-- the table takes writes.
CREATE INDEX CONCURRENTLY IF NOT EXISTS "order_payment_status_created_at_id_idx" ON "order" ("payment_status", "created_at", "id");
