-- The dispatcher's claim (CLAIM_DUE) walks one index in its own order, next_attempt_at, and stops at the first
-- `limit` mails it can lock: pending mails, and `sending` ones whose lease ran out. Claiming never moves
-- next_attempt_at and sets lease_until after it, so a `sending` mail's next_attempt_at is never later than its
-- lease: the one index holds both. With `mails_due` and `mails_leased` the claim read and sorted every due mail
-- (a backlog under load) to keep the first few; and each mail update wrote both indexes.
CREATE INDEX mails_claimable ON mails (next_attempt_at) WHERE status IN ('pending', 'sending');
DROP INDEX mails_due;
DROP INDEX mails_leased;
