-- A subscription order that links a card reads it once (4MemRefM) before announcing CardLinked, so the event
-- carries the card's expiry (the subscription service's expiring-card warning). True while that read is due.
ALTER TABLE payments ADD COLUMN card_read_due boolean NOT NULL DEFAULT false;
