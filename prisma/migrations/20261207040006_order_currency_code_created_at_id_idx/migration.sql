-- One statement, outside a transaction (src/db/migrate.ts): CONCURRENTLY builds the index while
-- the table takes writes.
CREATE INDEX CONCURRENTLY IF NOT EXISTS "order_currency_code_created_at_id_idx" ON "order" ("currency_code", "created_at", "id");
