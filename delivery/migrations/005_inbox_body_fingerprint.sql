-- Issue 14: what an applied event or idempotency key carried (delivery.idempotency), so a different body under a
-- seen event id or key is told apart (a dead letter with the reason, or a 409) instead of silently dropped. Events
-- keep one hash of their data; HTTP idempotency keys one hash per field. Null for rows claimed before.
ALTER TABLE inbox ADD COLUMN IF NOT EXISTS body_fingerprint jsonb;
