-- Subscriptions kept in step with Telegram, expired orders, and the outbox of
-- messages the bot owes (goods to buyers, notices to the operator).

-- The first charge of a subscription, which editUserStarSubscription names.
ALTER TABLE orders ADD COLUMN subscription_charge_id TEXT;
-- 1 once renewal was turned off (from the Mini App); access lasts to the end date.
ALTER TABLE orders ADD COLUMN renewal_canceled INTEGER NOT NULL DEFAULT 0;
-- The scheduled job expires old pending orders and prunes old update ids.
CREATE INDEX IF NOT EXISTS orders_by_status ON orders (status, created_at);
CREATE INDEX IF NOT EXISTS processed_updates_by_time ON processed_updates (processed_at);

-- One row per message owed; the id is deterministic, so queueing twice is a no-op.
-- status: pending (to send at next_attempt_at), sent, or failed (given up).
CREATE TABLE IF NOT EXISTS outbox (
  id TEXT PRIMARY KEY,
  kind TEXT NOT NULL,
  order_id TEXT,
  chat_id INTEGER NOT NULL,
  method TEXT NOT NULL,
  params TEXT NOT NULL,
  status TEXT NOT NULL DEFAULT 'pending',
  attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  sent_at INTEGER,
  last_error TEXT
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (status, next_attempt_at);
