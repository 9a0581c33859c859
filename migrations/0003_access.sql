-- Access to private chats sold as goods: each paid order's personal invite
-- link, who is in each access chat, and what the bot learned at setup.

-- The join request query a buyer opened the page from (Bot API 10.1),
-- answered `approve` once the order is paid.
ALTER TABLE orders ADD COLUMN join_request_query_id TEXT;

-- One personal invite link per order that grants access (created with
-- creates_join_request, so only its buyer is let in); revoked on removal.
CREATE TABLE IF NOT EXISTS access_links (
  order_id TEXT PRIMARY KEY,
  chat_id INTEGER NOT NULL,
  user_id INTEGER NOT NULL,
  invite_link TEXT NOT NULL,
  -- The page, for the "buy again" button when access ends.
  app_url TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  revoked_at INTEGER
);
CREATE INDEX IF NOT EXISTS access_links_by_user ON access_links (user_id);
CREATE INDEX IF NOT EXISTS access_links_open ON access_links (revoked_at, chat_id);

-- Members of access chats, from chat_member updates (the latest by date wins).
-- status: creator, administrator, member, restricted, left, kicked.
CREATE TABLE IF NOT EXISTS chat_members (
  chat_id INTEGER NOT NULL,
  user_id INTEGER NOT NULL,
  status TEXT NOT NULL,
  -- Set for members who joined through a subscription link (and for bans).
  until_date INTEGER,
  updated_at INTEGER NOT NULL,
  PRIMARY KEY (chat_id, user_id)
);

-- What setup learned from Telegram: each access chat's title, the product's
-- subscription invite link (`sublink:<product>`), as JSON by key.
CREATE TABLE IF NOT EXISTS facts (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  updated_at INTEGER NOT NULL
);
