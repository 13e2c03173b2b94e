-- One statement, outside a transaction (src/db/migrate.ts): CONCURRENTLY builds the index while
-- the table takes writes. The exact postalCode filter read every address (206 ms at 1,000,000 customers).
CREATE INDEX CONCURRENTLY IF NOT EXISTS "customer_address_postal_code_idx" ON "customer_address" ("postal_code");
