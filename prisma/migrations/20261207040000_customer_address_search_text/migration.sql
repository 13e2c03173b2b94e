-- Addresses' `q` searches nine fields; one generated column holds them all, each after a U+001F
-- separator (a search term cannot hold control characters), so one trigram index serves it: a
-- substring is a substring of this text, a 1-2 character prefix of a field follows a separator.
-- Adding a stored generated column rewrites the table (seconds per million addresses).
ALTER TABLE "customer_address" ADD COLUMN "search_text" TEXT GENERATED ALWAYS AS (
  E'\x1F' || coalesce("address_name", '') || E'\x1F' || coalesce("company", '') || E'\x1F' || coalesce("first_name", '')
  || E'\x1F' || coalesce("last_name", '') || E'\x1F' || coalesce("address_1", '') || E'\x1F' || coalesce("address_2", '')
  || E'\x1F' || coalesce("city", '') || E'\x1F' || coalesce("postal_code", '') || E'\x1F' || coalesce("phone", '')
) STORED;
