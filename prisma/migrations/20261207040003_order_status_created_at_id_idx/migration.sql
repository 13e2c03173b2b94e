-- One statement, outside a transaction (src/db/migrate.ts): CONCURRENTLY builds the index while
-- the table takes writes. A rare status read every order through the created_at index.
CREATE INDEX CONCURRENTLY IF NOT EXISTS "order_status_created_at_id_idx" ON "order" ("status", "created_at", "id");
