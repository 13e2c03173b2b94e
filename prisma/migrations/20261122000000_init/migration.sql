-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "order_status" AS ENUM ('pending', 'completed', 'archived', 'canceled', 'requires_action');

-- CreateEnum
CREATE TYPE "order_fulfillment_status" AS ENUM ('not_fulfilled', 'partially_fulfilled', 'fulfilled', 'partially_shipped', 'shipped', 'partially_returned', 'returned', 'canceled', 'requires_action');

-- CreateEnum
CREATE TYPE "order_payment_status" AS ENUM ('not_paid', 'awaiting', 'captured', 'partially_refunded', 'refunded', 'canceled', 'requires_action');

-- CreateTable
CREATE TABLE "customer" (
    "id" TEXT NOT NULL,
    "email" TEXT NOT NULL,
    "first_name" TEXT,
    "last_name" TEXT,
    "company_name" TEXT,
    "phone" TEXT,
    "has_account" BOOLEAN NOT NULL DEFAULT false,
    "password_hash" TEXT,
    "metadata" JSONB,
    "created_by" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deleted_at" TIMESTAMPTZ(3),

    CONSTRAINT "customer_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "customer_group" (
    "id" TEXT NOT NULL,
    "name" TEXT NOT NULL,
    "metadata" JSONB,
    "created_by" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deleted_at" TIMESTAMPTZ(3),

    CONSTRAINT "customer_group_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "customer_group_customer" (
    "id" TEXT NOT NULL,
    "customer_id" TEXT NOT NULL,
    "customer_group_id" TEXT NOT NULL,
    "created_by" TEXT,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deleted_at" TIMESTAMPTZ(3),

    CONSTRAINT "customer_group_customer_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "customer_address" (
    "id" TEXT NOT NULL,
    "customer_id" TEXT NOT NULL,
    "address_name" TEXT,
    "is_default_shipping" BOOLEAN NOT NULL DEFAULT false,
    "is_default_billing" BOOLEAN NOT NULL DEFAULT false,
    "company" TEXT,
    "first_name" TEXT,
    "last_name" TEXT,
    "address_1" TEXT,
    "address_2" TEXT,
    "city" TEXT,
    "country_code" TEXT,
    "province" TEXT,
    "postal_code" TEXT,
    "phone" TEXT,
    "metadata" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "deleted_at" TIMESTAMPTZ(3),

    CONSTRAINT "customer_address_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "order" (
    "id" TEXT NOT NULL,
    "display_id" SERIAL NOT NULL,
    "customer_id" TEXT,
    "email" TEXT NOT NULL,
    "status" "order_status" NOT NULL DEFAULT 'pending',
    "fulfillment_status" "order_fulfillment_status" NOT NULL DEFAULT 'not_fulfilled',
    "payment_status" "order_payment_status" NOT NULL DEFAULT 'not_paid',
    "currency_code" TEXT NOT NULL,
    "region_id" TEXT,
    "cart_id" TEXT,
    "sales_channel_id" TEXT,
    "subtotal" INTEGER NOT NULL DEFAULT 0,
    "tax_total" INTEGER NOT NULL DEFAULT 0,
    "shipping_total" INTEGER NOT NULL DEFAULT 0,
    "discount_total" INTEGER NOT NULL DEFAULT 0,
    "total" INTEGER NOT NULL DEFAULT 0,
    "paid_total" INTEGER NOT NULL DEFAULT 0,
    "refunded_total" INTEGER NOT NULL DEFAULT 0,
    "shipping_address" JSONB,
    "billing_address" JSONB,
    "canceled_at" TIMESTAMPTZ(3),
    "metadata" JSONB,
    "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "order_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "order_line_item" (
    "id" TEXT NOT NULL,
    "order_id" TEXT NOT NULL,
    "title" TEXT NOT NULL,
    "quantity" INTEGER NOT NULL,
    "unit_price" INTEGER NOT NULL,

    CONSTRAINT "order_line_item_pkey" PRIMARY KEY ("id")
);

-- CreateIndex
CREATE INDEX "customer_email_idx" ON "customer"("email");

-- CreateIndex
CREATE INDEX "customer_created_at_id_idx" ON "customer"("created_at", "id");

-- CreateIndex
CREATE INDEX "customer_updated_at_id_idx" ON "customer"("updated_at", "id");

-- CreateIndex
CREATE INDEX "customer_group_created_at_id_idx" ON "customer_group"("created_at", "id");

-- CreateIndex
CREATE INDEX "customer_group_customer_customer_group_id_customer_id_idx" ON "customer_group_customer"("customer_group_id", "customer_id");

-- CreateIndex
CREATE INDEX "customer_group_customer_customer_id_created_at_idx" ON "customer_group_customer"("customer_id", "created_at");

-- CreateIndex
CREATE INDEX "customer_address_customer_id_created_at_idx" ON "customer_address"("customer_id", "created_at");

-- CreateIndex
CREATE INDEX "customer_address_created_at_id_idx" ON "customer_address"("created_at", "id");

-- CreateIndex
CREATE UNIQUE INDEX "order_display_id_key" ON "order"("display_id");

-- CreateIndex
CREATE INDEX "order_customer_id_created_at_idx" ON "order"("customer_id", "created_at");

-- CreateIndex
CREATE INDEX "order_created_at_id_idx" ON "order"("created_at", "id");

-- CreateIndex
CREATE INDEX "order_email_idx" ON "order"("email");

-- CreateIndex
CREATE INDEX "order_line_item_order_id_idx" ON "order_line_item"("order_id");

-- AddForeignKey
ALTER TABLE "customer_group_customer" ADD CONSTRAINT "customer_group_customer_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "customer"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "customer_group_customer" ADD CONSTRAINT "customer_group_customer_customer_group_id_fkey" FOREIGN KEY ("customer_group_id") REFERENCES "customer_group"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "customer_address" ADD CONSTRAINT "customer_address_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "customer"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "order" ADD CONSTRAINT "order_customer_id_fkey" FOREIGN KEY ("customer_id") REFERENCES "customer"("id") ON DELETE SET NULL ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "order_line_item" ADD CONSTRAINT "order_line_item_order_id_fkey" FOREIGN KEY ("order_id") REFERENCES "order"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- CreateIndex
CREATE UNIQUE INDEX "customer_email_account_unique" ON "customer"("email") WHERE has_account AND deleted_at IS NULL;


-- CreateIndex
CREATE UNIQUE INDEX "customer_group_name_unique" ON "customer_group"("name") WHERE deleted_at IS NULL;


-- CreateIndex
CREATE UNIQUE INDEX "customer_group_customer_unique" ON "customer_group_customer"("customer_id", "customer_group_id") WHERE deleted_at IS NULL;


-- CreateIndex
CREATE UNIQUE INDEX "customer_address_default_shipping_unique" ON "customer_address"("customer_id") WHERE is_default_shipping AND deleted_at IS NULL;


-- CreateIndex
CREATE UNIQUE INDEX "customer_address_default_billing_unique" ON "customer_address"("customer_id") WHERE is_default_billing AND deleted_at IS NULL;

