-- One statement, outside a transaction (src/db/migrate.ts): CONCURRENTLY builds the index while
-- the table takes writes, and prisma migrate deploy runs a one-statement file the same way.
CREATE INDEX CONCURRENTLY IF NOT EXISTS "customer_last_name_id_idx" ON "customer" ("last_name", "id");
