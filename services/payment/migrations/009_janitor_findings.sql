-- The janitor's findings (design §6.9, issue 17): one row per payment it settled, written in the same transaction
-- as the settlement, so `payment_janitor_settled_total` is read from here and survives restarts (a process's own
-- counter started again at 0 after every restart, and each replica counted only its own).
CREATE TABLE janitor_findings (
    order_id   text        NOT NULL REFERENCES payments (order_id),
    state      text        NOT NULL,
    settled_at timestamptz NOT NULL DEFAULT now()
);
