-- The W3C traceparent of the work that recorded a mail (the handling of its order event, an operator's resend),
-- so the dispatcher's SMTP conversation continues that trace (delivery/tracing.py). NULL when tracing is off.
ALTER TABLE mails ADD COLUMN trace_parent text;
