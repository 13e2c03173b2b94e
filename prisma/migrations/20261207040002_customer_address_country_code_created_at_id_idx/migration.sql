-- One statement, outside a transaction (src/db/migrate.ts): CONCURRENTLY builds the index while
-- the table takes writes. A country with few addresses read them all through the created_at index.
CREATE INDEX CONCURRENTLY IF NOT EXISTS "customer_address_country_code_created_at_id_idx" ON "customer_address" ("country_code", "created_at", "id");
