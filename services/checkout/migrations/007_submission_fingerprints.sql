-- Issue 14: the first body of each checkout id, as one hash per field (delivery.idempotency), so a repeat with a
-- different body is told apart (409 idempotency_key_reused over HTTP, a dead letter on Kafka). Null for checkouts
-- recorded before: their repeats keep the first outcome, as before. Kafka checkouts are recorded here too now.
ALTER TABLE checkout_submissions ADD COLUMN fingerprint jsonb;
