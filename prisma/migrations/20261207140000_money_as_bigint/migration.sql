-- Money in 64-bit minor units: a 32-bit integer ends at 21,474,836.47 of a two-decimal currency.
-- Widening int to bigint rewrites both tables under an ACCESS EXCLUSIVE lock, for as long as the
-- rewrite takes: on a large shop, run it in a quiet hour.
ALTER TABLE "order"
  ALTER COLUMN "subtotal" SET DATA TYPE BIGINT,
  ALTER COLUMN "tax_total" SET DATA TYPE BIGINT,
  ALTER COLUMN "shipping_total" SET DATA TYPE BIGINT,
  ALTER COLUMN "discount_total" SET DATA TYPE BIGINT,
  ALTER COLUMN "total" SET DATA TYPE BIGINT,
  ALTER COLUMN "paid_total" SET DATA TYPE BIGINT,
  ALTER COLUMN "refunded_total" SET DATA TYPE BIGINT;

ALTER TABLE "order_line_item" ALTER COLUMN "unit_price" SET DATA TYPE BIGINT;
