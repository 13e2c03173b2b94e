-- One statement, outside a transaction (src/db/migrate.ts): CONCURRENTLY builds the index while
-- the table takes writes.
CREATE INDEX CONCURRENTLY IF NOT EXISTS "customer_address_search_text_trgm_idx" ON "customer_address" USING gin ("search_text" gin_trgm_ops);
