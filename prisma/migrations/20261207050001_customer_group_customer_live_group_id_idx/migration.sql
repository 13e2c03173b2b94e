-- One statement, outside a transaction (src/db/migrate.ts): CONCURRENTLY builds the index while
-- the table takes writes. A group's live members in membership order (its member list's keyset)
-- and their count, from the index alone.
CREATE INDEX CONCURRENTLY IF NOT EXISTS "customer_group_customer_live_group_id_idx" ON "customer_group_customer" ("customer_group_id", "id") WHERE "deleted_at" IS NULL;
