-- One statement, outside a transaction (src/db/migrate.ts): CONCURRENTLY builds the index while
-- the table takes writes, and prisma migrate deploy runs a one-statement file the same way.
CREATE INDEX CONCURRENTLY IF NOT EXISTS "customer_email_trgm_idx" ON "customer" USING gin ("email" gin_trgm_ops);
