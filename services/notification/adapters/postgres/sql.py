"""Every SQL statement of the notification service, explicit and `$n`-parameterised (style rule 8)."""

ADD_ORDER = """
INSERT INTO orders (order_id, shop_id, event_id, correlation_id, snapshot)
VALUES ($1, $2, $3, $4, $5::jsonb)
ON CONFLICT (order_id) DO NOTHING
"""

ORDER_SNAPSHOT = "SELECT snapshot FROM orders WHERE order_id = $1"

# The unique index (order_id, kind) WHERE resend_of IS NULL makes a repeated original a no-op. Several mails in one
# statement (an order's mails): one row per array element, in their order; how many were new.
ADD_MAILS = """
WITH added AS (
    INSERT INTO mails (
        mail_id, order_id, shop_id, kind, resend_of, status, message_id, recipient, sender_address, sender_name,
        reply_to, subject, body_text, body_html, attempts, recoveries, next_attempt_at, lease_until, last_error,
        smtp_response, permanent_failure, created_at, sent_at, trace_parent
    )
    SELECT mail_id, order_id, shop_id, kind, resend_of, status, message_id, recipient, sender_address, sender_name,
           reply_to, subject, body_text, body_html, attempts, recoveries, next_attempt_at, lease_until, last_error,
           smtp_response, permanent_failure, created_at, sent_at, trace_parent
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::uuid[], $6::text[], $7::text[], $8::text[],
                $9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::integer[],
                $16::integer[], $17::timestamptz[], $18::timestamptz[], $19::text[], $20::text[], $21::boolean[],
                $22::timestamptz[], $23::timestamptz[], $24::text[])
         WITH ORDINALITY AS m(mail_id, order_id, shop_id, kind, resend_of, status, message_id, recipient,
                              sender_address, sender_name, reply_to, subject, body_text, body_html, attempts,
                              recoveries, next_attempt_at, lease_until, last_error, smtp_response, permanent_failure,
                              created_at, sent_at, trace_parent, n)
    ORDER BY n
    ON CONFLICT DO NOTHING
    RETURNING 1
)
SELECT count(*) FROM added
"""

GET_MAIL = """
SELECT mail_id, order_id, shop_id, kind, resend_of, status, message_id, recipient, sender_address, sender_name,
       reply_to, subject, body_text, body_html, attempts, recoveries, next_attempt_at, lease_until, last_error,
       smtp_response, permanent_failure, created_at, sent_at
FROM mails WHERE mail_id = $1
"""

LIST_MAILS = """
SELECT mail_id, order_id, shop_id, kind, resend_of, status, message_id, recipient, sender_address, sender_name,
       reply_to, subject, body_text, body_html, attempts, recoveries, next_attempt_at, lease_until, last_error,
       smtp_response, permanent_failure, created_at, sent_at
FROM mails
WHERE shop_id = $1 AND ($2::text IS NULL OR order_id = $2) AND ($3::text IS NULL OR status = $3)
ORDER BY created_at DESC, kind
LIMIT $4
"""

# Due: pending and its time has come, or `sending` whose worker's lease ran out (it died mid-send); never one of
# $3, the mails this worker still holds (its own result is coming, however late). The mails are taken in
# next_attempt_at order from one index (`mails_claimable`; a `sending` mail's next_attempt_at is never later than
# its lease), stopping at the first $2 it can lock. A mail not composed yet comes with its order's snapshot and its
# shop's settings (what composing reads), saving two round trips per mail: joined to the claimed mails only.
CLAIM_DUE = """
SELECT m.mail_id, m.order_id, m.shop_id, m.kind, m.resend_of, m.status, m.message_id, m.recipient,
       m.sender_address, m.sender_name, m.reply_to, m.subject, m.body_text, m.body_html, m.attempts, m.recoveries,
       m.next_attempt_at, m.lease_until, m.last_error, m.smtp_response, m.permanent_failure, m.created_at,
       m.sent_at, m.trace_parent,
       o.snapshot AS order_snapshot,
       s.shop_id AS shop_shop_id, s.shop_name AS shop_shop_name, s.sender_address AS shop_sender_address,
       s.sender_name AS shop_sender_name, s.shop_copy_address AS shop_shop_copy_address,
       s.payment_method_name AS shop_payment_method_name, s.note_text AS shop_note_text,
       s.note_in_thanks_mail AS shop_note_in_thanks_mail, s.notify_buyer_on_failure AS shop_notify_buyer_on_failure,
       s.notify_card_changes AS shop_notify_card_changes
FROM (
    SELECT mail_id, order_id, shop_id, kind, resend_of, status, message_id, recipient, sender_address, sender_name,
           reply_to, subject, body_text, body_html, attempts, recoveries, next_attempt_at, lease_until, last_error,
           smtp_response, permanent_failure, created_at, sent_at, trace_parent
    FROM mails
    WHERE status IN ('pending', 'sending') AND next_attempt_at <= $1 AND (status = 'pending' OR lease_until <= $1)
      AND mail_id <> ALL($3::uuid[])
    ORDER BY next_attempt_at
    LIMIT $2
    FOR UPDATE SKIP LOCKED
) m
LEFT JOIN orders o ON m.subject IS NULL AND o.order_id = m.order_id
LEFT JOIN shops s ON m.subject IS NULL AND s.shop_id = m.shop_id
ORDER BY m.next_attempt_at
"""

# $17: the attempts value the caller saw when it claimed the mail; a different value means another worker
# reclaimed it (lease expired), and the late result must not overwrite the newer attempt.
SAVE_MAIL = """
UPDATE mails SET status = $2, recipient = $3, sender_address = $4, sender_name = $5, reply_to = $6,
    subject = $7, body_text = $8, body_html = $9, attempts = $10, recoveries = $11, next_attempt_at = $12,
    lease_until = $13, last_error = $14, smtp_response = $15, permanent_failure = $16, sent_at = $18,
    updated_at = now()
WHERE mail_id = $1 AND ($17::integer IS NULL OR attempts = $17)
RETURNING true
"""

GET_SHOP = """
SELECT shop_id, shop_name, sender_address, sender_name, shop_copy_address, payment_method_name, note_text,
       note_in_thanks_mail, notify_buyer_on_failure, notify_card_changes
FROM shops WHERE shop_id = $1
"""

# Compacted topic, replays, two partitions' worth of consumers: keep the newest snapshot only.
SAVE_SHOP = """
INSERT INTO shops (shop_id, shop_name, sender_address, sender_name, shop_copy_address, payment_method_name,
                   note_text, note_in_thanks_mail, notify_buyer_on_failure, notify_card_changes, settings_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
ON CONFLICT (shop_id) DO UPDATE SET
    shop_name = excluded.shop_name, sender_address = excluded.sender_address,
    sender_name = excluded.sender_name, shop_copy_address = excluded.shop_copy_address,
    payment_method_name = excluded.payment_method_name, note_text = excluded.note_text,
    note_in_thanks_mail = excluded.note_in_thanks_mail, notify_buyer_on_failure = excluded.notify_buyer_on_failure,
    notify_card_changes = excluded.notify_card_changes, settings_at = excluded.settings_at, updated_at = now()
WHERE shops.settings_at <= excluded.settings_at
RETURNING true
"""

RETRY_WAITING_FOR_SHOP = """
UPDATE mails SET next_attempt_at = $2, updated_at = now()
WHERE shop_id = $1 AND status = 'pending' AND subject IS NULL AND next_attempt_at > $2
"""

NEXT_EVENT_VERSION = """
UPDATE orders SET events_emitted = events_emitted + 1 WHERE order_id = $1
RETURNING events_emitted - 1 AS version, event_id, correlation_id
"""

GET_MEMBER = """
SELECT shop_id, member_id, buyer_name, buyer_email, as_of FROM members WHERE shop_id = $1 AND member_id = $2
"""

# Orders of one member arrive on several partitions in any order: keep the newest order event's contact only.
SAVE_MEMBER = """
INSERT INTO members (shop_id, member_id, buyer_name, buyer_email, as_of) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (shop_id, member_id) DO UPDATE SET buyer_name = $3, buyer_email = $4, as_of = $5
    WHERE members.as_of <= $5
RETURNING true
"""

# The card notices waiting for the member's address: few rows (pending, never composed), found by
# `mails_claimable`, each joined to its kept event by primary key.
RETRY_WAITING_FOR_MEMBER = """
UPDATE mails m SET next_attempt_at = $3, updated_at = now()
FROM orders o
WHERE m.status = 'pending' AND m.subject IS NULL AND m.next_attempt_at > $3
  AND m.kind = ANY($4::text[])
  AND o.order_id = m.order_id AND o.shop_id = $1 AND o.snapshot ->> 'member_id' = $2
"""
