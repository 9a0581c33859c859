-- The buyer's language (`en`, `zh`: a code of static/locales), from the
-- launch data the order was made with: what the bot tells the buyer later,
-- when no update of theirs carries it (a TON payment the scheduled job finds,
-- the removal when a subscription lapsed), is written in it. NULL on orders
-- from before: English.
ALTER TABLE orders ADD COLUMN language TEXT;
