-- TON Connect: the proof payloads the worker issues (each used once), the
-- wallet each user proved, and the rule that an order is paid in TON or USDT
-- at most once (a transaction's hash, the payment's key, settles at most one).

CREATE TABLE IF NOT EXISTS ton_proof_payloads (
  payload TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  -- Set when a proof used it: a payload is good for one proof.
  used_at INTEGER
);
CREATE INDEX IF NOT EXISTS ton_proof_payloads_by_time ON ton_proof_payloads (created_at);

CREATE TABLE IF NOT EXISTS ton_wallets (
  user_id INTEGER PRIMARY KEY,
  -- Raw form `0:hex`; the user-friendly form as shown.
  address TEXT NOT NULL,
  friendly TEXT NOT NULL,
  network TEXT NOT NULL,
  public_key TEXT NOT NULL,
  version TEXT NOT NULL,
  linked_at INTEGER NOT NULL
);

CREATE UNIQUE INDEX IF NOT EXISTS payments_ton_once ON payments (order_id)
  WHERE currency IN ('TON', 'USDT');
CREATE INDEX IF NOT EXISTS orders_pending_by_currency ON orders (status, currency, created_at);
