-- One statement, outside a transaction (src/db/migrate.ts): CONCURRENTLY builds the index while
-- the table takes writes, and prisma migrate deploy runs a one-statement file the same way.
CREATE INDEX CONCURRENTLY IF NOT EXISTS "customer_first_name_id_idx" ON "customer" ("first_name", "id");
