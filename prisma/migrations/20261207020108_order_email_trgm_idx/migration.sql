-- One statement, outside a transaction (src/db/migrate.ts): CONCURRENTLY builds the index while
-- the table takes writes, and prisma migrate deploy runs a one-statement file the same way.
CREATE INDEX CONCURRENTLY IF NOT EXISTS "order_email_trgm_idx" ON "order" USING gin ("email" gin_trgm_ops);
