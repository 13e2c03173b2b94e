-- The customer record a shop runs on (issue 29): account states, tags, marketing consent, staff
-- notes, one-time tokens for the new flows, and the timeline, written from the outbox's events.

-- Tags are kept as given (trimmed) and compared by fold_case; the folded copy serves the filters.
CREATE FUNCTION fold_case_array(text[]) RETURNS text[] LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  SELECT coalesce(array_agg(fold_case(t) ORDER BY n), '{}') FROM unnest($1) WITH ORDINALITY AS u(t, n)
$$;

-- One ALTER, so that a large table is rewritten once (the generated columns rewrite it).
--
-- Account states: who acted on an account is kept in the columns that decide its state, and the
-- state itself is generated from them, so no write can leave the two disagreeing: a guest has
-- none; an account without a password is INVITED; a disabled one DISABLED.
--
-- Marketing consent, per channel (Shopify's emailMarketingConsent / smsMarketingConsent).
ALTER TABLE "customer"
  ADD COLUMN "disabled_at" TIMESTAMPTZ(3),
  ADD COLUMN "account_state" TEXT GENERATED ALWAYS AS (
    CASE WHEN NOT "has_account" THEN NULL
         WHEN "disabled_at" IS NOT NULL THEN 'DISABLED'
         WHEN "password_hash" IS NULL THEN 'INVITED'
         ELSE 'ENABLED' END) STORED,
  ADD COLUMN "tags" TEXT[] NOT NULL DEFAULT '{}',
  ADD COLUMN "tags_folded" TEXT[] GENERATED ALWAYS AS (fold_case_array("tags")) STORED,
  ADD COLUMN "email_marketing_state" TEXT NOT NULL DEFAULT 'NOT_SUBSCRIBED'
    CHECK ("email_marketing_state" IN ('NOT_SUBSCRIBED', 'PENDING', 'SUBSCRIBED', 'UNSUBSCRIBED')),
  ADD COLUMN "email_marketing_opt_in_level" TEXT
    CHECK ("email_marketing_opt_in_level" IN ('SINGLE_OPT_IN', 'CONFIRMED_OPT_IN', 'UNKNOWN')),
  ADD COLUMN "email_marketing_updated_at" TIMESTAMPTZ(3),
  ADD COLUMN "email_marketing_source" TEXT,
  ADD COLUMN "sms_marketing_state" TEXT NOT NULL DEFAULT 'NOT_SUBSCRIBED'
    CHECK ("sms_marketing_state" IN ('NOT_SUBSCRIBED', 'PENDING', 'SUBSCRIBED', 'UNSUBSCRIBED')),
  ADD COLUMN "sms_marketing_opt_in_level" TEXT
    CHECK ("sms_marketing_opt_in_level" IN ('SINGLE_OPT_IN', 'CONFIRMED_OPT_IN', 'UNKNOWN')),
  ADD COLUMN "sms_marketing_updated_at" TIMESTAMPTZ(3),
  ADD COLUMN "sms_marketing_source" TEXT,
  -- When the customer's personal data was erased (eraseCustomers): the row stays, for its orders.
  ADD COLUMN "erased_at" TIMESTAMPTZ(3);
CREATE INDEX "customer_tags_folded_idx" ON "customer" USING GIN ("tags_folded");
CREATE INDEX "customer_email_marketing_state_idx" ON "customer" ("email_marketing_state", "created_at", "id")
  WHERE "email_marketing_state" <> 'NOT_SUBSCRIBED';
CREATE INDEX "customer_sms_marketing_state_idx" ON "customer" ("sms_marketing_state", "created_at", "id")
  WHERE "sms_marketing_state" <> 'NOT_SUBSCRIBED';

-- Staff notes.
CREATE TABLE "customer_note" (
  "id" TEXT NOT NULL PRIMARY KEY,
  "customer_id" TEXT NOT NULL REFERENCES "customer"("id") ON DELETE CASCADE ON UPDATE CASCADE,
  "body" TEXT NOT NULL,
  "author" TEXT NOT NULL,
  "created_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updated_at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP
);
CREATE INDEX "customer_note_customer_id_created_at_id_idx" ON "customer_note" ("customer_id", "created_at", "id");

-- One live token per customer and purpose (a new one replaces it); only its SHA-256 is kept.
CREATE TABLE "customer_token" (
  "customer_id" TEXT NOT NULL REFERENCES "customer"("id") ON DELETE CASCADE ON UPDATE CASCADE,
  "purpose" TEXT NOT NULL CHECK ("purpose" IN ('email_change', 'invitation', 'marketing_confirmation')),
  "token_hash" TEXT NOT NULL,
  "email" TEXT,
  "created_at" TIMESTAMPTZ(3) NOT NULL,
  "expires_at" TIMESTAMPTZ(3) NOT NULL,
  PRIMARY KEY ("customer_id", "purpose")
);
CREATE UNIQUE INDEX "customer_token_token_hash_key" ON "customer_token" ("token_hash");

-- Who caused each event: an admin key's name, a customer (null name: the customer the event is
-- about, proven by a token), or a job of the service.
ALTER TABLE "outbox_event" ADD COLUMN "actor_kind" TEXT NOT NULL DEFAULT 'SYSTEM'
  CHECK ("actor_kind" IN ('ADMIN', 'CUSTOMER', 'SYSTEM'));
ALTER TABLE "outbox_event" ADD COLUMN "actor_name" TEXT;

-- The timeline: one entry for every change to a customer and what hangs off it. Durable (the
-- outbox is trimmed); kept unless TIMELINE_RETENTION_DAYS says otherwise.
CREATE TABLE "customer_timeline_entry" (
  "id" TEXT NOT NULL PRIMARY KEY,
  "customer_id" TEXT NOT NULL REFERENCES "customer"("id") ON DELETE CASCADE ON UPDATE CASCADE,
  "type" TEXT NOT NULL,
  "occurred_at" TIMESTAMPTZ(3) NOT NULL,
  "actor_kind" TEXT NOT NULL,
  "actor_name" TEXT,
  "details" JSONB NOT NULL DEFAULT '{}',
  -- Set on the entries a merge brought over: the customer they were first written for.
  "merged_from_id" TEXT,
  -- The note of a note's entry, while it exists.
  "note_id" TEXT REFERENCES "customer_note"("id") ON DELETE SET NULL ON UPDATE CASCADE
);
CREATE INDEX "customer_timeline_entry_note_id_idx" ON "customer_timeline_entry" ("note_id") WHERE "note_id" IS NOT NULL;
CREATE INDEX "customer_timeline_entry_customer_id_occurred_at_id_idx"
  ON "customer_timeline_entry" ("customer_id", "occurred_at", "id");
-- Retention deletes by time; entries arrive in time order, so a BRIN index serves it at a fraction
-- of a B-tree's cost per insert (a membership batch writes one entry per customer).
CREATE INDEX "customer_timeline_entry_occurred_at_idx" ON "customer_timeline_entry" USING BRIN ("occurred_at");

-- The timeline entries of newly written events: (customer, type, details, place among the event's
-- entries). Details are the payload without the customer's ID, secrets and personal data (the email
-- is the customer's own row's business). Set-based over the statement's events (a function called
-- per event cost 5,000 createCustomers about a second).
CREATE FUNCTION customer_timeline_of_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO "customer_timeline_entry" ("id", "customer_id", "type", "occurred_at", "actor_kind", "actor_name", "details", "note_id")
  SELECT 'cutl_' || substr(t.event_id, 5) || lpad(t.n::text, 4, '0'), t.customer_id, t.type, t.occurred_at,
    t.actor_kind, CASE WHEN t.actor_kind = 'CUSTOMER' THEN coalesce(t.actor_name, t.customer_id) ELSE t.actor_name END,
    t.details, t.note_id
  FROM (
    SELECT e."id" AS event_id, e."created_at" AS occurred_at, e."actor_kind", e."actor_name", x.customer_id, x.type,
      x.details, x.n, CASE WHEN e."name" IN ('customer.note_added', 'customer.note_updated') THEN e."payload"->>'note_id' END AS note_id
    FROM written e
    CROSS JOIN LATERAL (
      SELECT e."payload" - ARRAY['id', 'customerId', 'customer_id', 'token', 'unsubscribe_token', 'email',
        'new_email', 'first_name', 'last_name'] AS own) d
    CROSS JOIN LATERAL (
      SELECT e."payload"->>'id' AS customer_id,
        CASE WHEN e."payload"->'fields' = '["password"]' AND e."payload"->>'via' = 'password_reset' THEN 'PASSWORD_RESET'
             WHEN e."payload"->'fields' = '["password"]' THEN 'PASSWORD_CHANGED'
             WHEN e."payload"->'fields' = '["email_verified_at"]' THEN 'EMAIL_VERIFIED'
             WHEN e."payload"->'fields' = '["deleted_at"]' THEN 'RESTORED'
             WHEN e."payload"->'fields' ? 'email' THEN 'EMAIL_CHANGED'
             ELSE 'PROFILE_UPDATED' END AS type,
        d.own AS details, 1::bigint AS n
      WHERE e."name" = 'customer.updated'
      UNION ALL
      SELECT coalesce(e."payload"->>'id', e."payload"->>'customerId'),
        CASE e."name"
          WHEN 'customer.created' THEN 'CUSTOMER_CREATED'
          WHEN 'customer.deleted' THEN 'DELETED'
          WHEN 'customer.password_reset' THEN 'PASSWORD_RESET_REQUESTED'
          WHEN 'customer.email_verification_requested' THEN 'EMAIL_VERIFICATION_REQUESTED'
          WHEN 'customer.email_change_requested' THEN 'EMAIL_CHANGE_REQUESTED'
          WHEN 'customer.merged' THEN 'MERGED_INTO'
          WHEN 'customer.note_added' THEN 'NOTE_ADDED'
          WHEN 'customer.note_updated' THEN 'NOTE_UPDATED'
          WHEN 'customer.note_deleted' THEN 'NOTE_DELETED'
          WHEN 'customer.tags_added' THEN 'TAGS_ADDED'
          WHEN 'customer.tags_removed' THEN 'TAGS_REMOVED'
          WHEN 'customer.marketing_consent_updated' THEN 'MARKETING_CONSENT_UPDATED'
          WHEN 'customer.marketing_confirmation_requested' THEN 'MARKETING_CONFIRMATION_REQUESTED'
          WHEN 'customer.account_disabled' THEN 'ACCOUNT_DISABLED'
          WHEN 'customer.account_enabled' THEN 'ACCOUNT_ENABLED'
          WHEN 'customer.invited' THEN 'ACCOUNT_INVITED'
          WHEN 'customer.invitation_accepted' THEN 'INVITATION_ACCEPTED'
          WHEN 'customer.erased' THEN 'ERASED'
        END,
        d.own || CASE WHEN e."name" = 'customer.merged'
          THEN jsonb_build_object('merged_into_id', e."payload"->>'merged_into_id') ELSE '{}' END,
        1
      WHERE e."name" IN ('customer.created', 'customer.deleted', 'customer.password_reset',
        'customer.email_verification_requested', 'customer.email_change_requested', 'customer.merged',
        'customer.note_added', 'customer.note_updated', 'customer.note_deleted', 'customer.tags_added',
        'customer.tags_removed', 'customer.marketing_consent_updated', 'customer.marketing_confirmation_requested',
        'customer.account_disabled', 'customer.account_enabled', 'customer.invited', 'customer.invitation_accepted',
        'customer.erased')
      UNION ALL
      SELECT e."payload"->>'merged_into_id', 'MERGED_FROM',
        jsonb_build_object('source_id', e."payload"->>'id', 'cause', e."payload"->>'cause',
          'order_ids', e."payload"->'order_ids', 'address_ids', e."payload"->'address_ids'),
        2
      WHERE e."name" = 'customer.merged'
      UNION ALL
      SELECT e."payload"->>'customer_id',
        CASE e."name" WHEN 'customer_address.created' THEN 'ADDRESS_ADDED'
                      WHEN 'customer_address.updated' THEN 'ADDRESS_UPDATED'
                      ELSE 'ADDRESS_DELETED' END,
        jsonb_build_object('address_id', e."payload"->>'id'),
        1
      WHERE e."name" IN ('customer_address.created', 'customer_address.updated', 'customer_address.deleted')
      UNION ALL
      SELECT a.customer_id, 'ADDED_TO_GROUP', jsonb_build_object('group_id', e."payload"->>'id'), a.n
      FROM jsonb_array_elements_text(CASE WHEN e."name" IN ('customer_group.created', 'customer_group.updated')
        THEN e."payload"->'added' END) WITH ORDINALITY AS a(customer_id, n)
      UNION ALL
      SELECT r.customer_id, 'REMOVED_FROM_GROUP', jsonb_build_object('group_id', e."payload"->>'id'),
        r.n + coalesce(jsonb_array_length(e."payload"->'added'), 0)
      FROM jsonb_array_elements_text(CASE WHEN e."name" = 'customer_group.updated' THEN e."payload"->'removed' END)
        WITH ORDINALITY AS r(customer_id, n)
    ) x
  ) t
  -- Only of customers that exist: a hard delete's event (or any event of a customer gone) makes
  -- none, rather than failing the write that records it.
  WHERE t.customer_id IS NOT NULL AND EXISTS (SELECT 1 FROM "customer" c WHERE c."id" = t.customer_id);
  RETURN NULL;
END $$;
CREATE TRIGGER "outbox_event_customer_timeline" AFTER INSERT ON "outbox_event"
  REFERENCING NEW TABLE AS written FOR EACH STATEMENT EXECUTE FUNCTION customer_timeline_of_events();

-- Every new timestamp holds years 1 to 9999 only, as every other does (migration 20261207010000).
DO $$
DECLARE
  col record;
BEGIN
  FOR col IN
    SELECT * FROM (VALUES ('customer', 'disabled_at'), ('customer', 'email_marketing_updated_at'),
      ('customer', 'sms_marketing_updated_at'), ('customer', 'erased_at'), ('customer_note', 'created_at'), ('customer_note', 'updated_at'),
      ('customer_token', 'created_at'), ('customer_token', 'expires_at'), ('customer_timeline_entry', 'occurred_at'))
      AS c(table_name, column_name)
  LOOP
    EXECUTE format(
      'ALTER TABLE %1$I ADD CONSTRAINT %3$I CHECK (%2$I BETWEEN %5$L::timestamptz AND %4$L::timestamptz)',
      col.table_name, col.column_name, col.table_name || '_' || col.column_name || '_in_range',
      '9999-12-31 23:59:59.999+00', '0001-01-01 00:00:00+00');
  END LOOP;
END $$;
