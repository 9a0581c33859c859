-- The buyer's Telegram username (without `@`), from the launch data the
-- order was made with: the operator finds and names buyers by it. NULL when
-- the buyer has none, and on orders from before.
ALTER TABLE orders ADD COLUMN username TEXT;
