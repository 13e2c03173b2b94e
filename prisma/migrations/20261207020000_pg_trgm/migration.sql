-- Trigram indexes make a substring search (q: ILIKE '%term%') read an index instead of every row.
-- pg_trgm is a trusted extension (PostgreSQL 13+): a database owner may create it. PGlite loads it
-- at start (src/db/index.ts).
CREATE EXTENSION IF NOT EXISTS pg_trgm;
