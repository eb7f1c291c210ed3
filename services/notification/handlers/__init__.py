"""The notification use cases, as module functions `verb_noun(deps, ..., *, inbound=None)`. Each is a short
unit of work; the SMTP conversation happens between two units, never inside one (design §6.3):

1. `orders.record_completed_order` (with the consumer's inbox claim): the order snapshot and its two mail rows,
   `pending`. A redelivered event is caught by the inbox, a re-emitted one by the log (one original mail per
   order and kind): either adds nothing.
2. `sending.claim_due_mails` (unit 1 of a send): due mails become `sending` with a lease; the first time, their
   content is composed and stored (`composing`), or they wait for the shop's settings, or fail with a reason.
3. `sending.deliver_mail` (SMTP, then unit 2): `sent` + `MailSent`, or back to `pending` with backoff, or
   `failed` + `MailFailed`. A crash between the server's acceptance and unit 2 leaves the row `sending`; after
   its lease it is sent again with the same Message-ID: that is the only duplicate window.

`shops.update_shop` keeps the shop projection; `operator` serves the mail log and resends.
"""
