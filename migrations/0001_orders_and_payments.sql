-- Orders, payments and processed updates. Telegram ids are INTEGER columns
-- bound from f64 (they fit in 52 bits), so D1 never sees a JS BigInt.

CREATE TABLE IF NOT EXISTS orders (
  id TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL,
  product_id TEXT NOT NULL,
  status TEXT NOT NULL,
  currency TEXT NOT NULL,
  amount INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  paid_at INTEGER,
  telegram_payment_charge_id TEXT,
  subscription_expiration_date INTEGER
);
CREATE INDEX IF NOT EXISTS orders_by_user ON orders (user_id, created_at DESC);

-- One row per charge: the primary key is what makes a payment count once.
CREATE TABLE IF NOT EXISTS payments (
  telegram_payment_charge_id TEXT PRIMARY KEY,
  provider_payment_charge_id TEXT NOT NULL,
  order_id TEXT NOT NULL,
  user_id INTEGER NOT NULL,
  currency TEXT NOT NULL,
  amount INTEGER NOT NULL,
  paid_at INTEGER NOT NULL,
  subscription_expiration_date INTEGER,
  is_recurring INTEGER NOT NULL DEFAULT 0,
  is_first_recurring INTEGER NOT NULL DEFAULT 0,
  refunded_at INTEGER,
  -- 0 until the payment has been applied to its order, in the same batch.
  applied INTEGER NOT NULL DEFAULT 0,
  raw_update TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS payments_by_order ON payments (order_id);
CREATE INDEX IF NOT EXISTS payments_by_time ON payments (paid_at DESC);

-- Updates already handled, so a redelivery has no second effect.
CREATE TABLE IF NOT EXISTS processed_updates (
  update_id INTEGER PRIMARY KEY,
  processed_at INTEGER NOT NULL
);
