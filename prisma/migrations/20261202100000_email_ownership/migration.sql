-- AlterTable
ALTER TABLE "customer" ADD COLUMN     "email_verified_at" TIMESTAMPTZ(3),
ADD COLUMN     "merged_into_id" TEXT,
ADD COLUMN     "phone_e164" TEXT;

-- CreateTable
CREATE TABLE "customer_email_verification" (
    "customer_id" TEXT NOT NULL,
    "token_hash" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "created_at" TIMESTAMPTZ(3) NOT NULL,
    "expires_at" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "customer_email_verification_pkey" PRIMARY KEY ("customer_id")
);

-- CreateIndex
CREATE UNIQUE INDEX "customer_email_verification_token_hash_key" ON "customer_email_verification"("token_hash");

-- CreateIndex
CREATE INDEX "customer_phone_e164_idx" ON "customer"("phone_e164");

-- CreateIndex
CREATE INDEX "customer_merged_into_id_idx" ON "customer"("merged_into_id");

-- AddForeignKey
ALTER TABLE "customer" ADD CONSTRAINT "customer_merged_into_id_fkey" FOREIGN KEY ("merged_into_id") REFERENCES "customer"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "customer_email_verification" ADD CONSTRAINT "customer_email_verification_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "customer"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Not from schema.prisma (Prisma has no triggers): an order written for a customer that has been
-- merged is written for the customer it was merged into. FOR KEY SHARE waits for a merge in flight
-- to commit and then reads its result, so a guest checkout racing a claim loses no order.
CREATE FUNCTION "order_follow_customer_merge"() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  target TEXT;
BEGIN
  IF NEW."customer_id" IS NOT NULL THEN
    SELECT "merged_into_id" INTO target FROM "customer" WHERE "id" = NEW."customer_id" FOR KEY SHARE;
    IF target IS NOT NULL THEN
      NEW."customer_id" := target;
    END IF;
  END IF;
  RETURN NEW;
END;
$$;

CREATE TRIGGER "order_follow_customer_merge" BEFORE INSERT OR UPDATE OF "customer_id" ON "order"
  FOR EACH ROW EXECUTE FUNCTION "order_follow_customer_merge"();

-- Numbers already stored in international form get their E.164 form here; the service writes it
-- for every new or changed number.
UPDATE "customer" SET "phone_e164" = '+' || regexp_replace("phone", '[^0-9]', '', 'g')
  WHERE "phone" ~ '^\s*\+[0-9 ().-]{6,}$';
