"""Deciding what a mail says and to whom, before any template or SMTP library is involved.

- ids: an order's original mails get deterministic ids (uuid5 of order id + kind), and every mail a
  deterministic Message-ID derived from its id, so a duplicate from the crash window carries the same
  Message-ID as the first copy and receivers can collapse it;
- addresses: checked before sending, so an impossible address fails with a reason instead of a retry loop;
- the template context: every value the thanks mail and the shop copy show (R23), with the shop's note
  only when "include in thanks mail" is switched on; for a renewal, its subscription, cycle and, when the payment
  was skipped or failed, the reason (never card data) and the R16 buyer message;
- whether a mail goes out at all: the buyer's notices of a failed or skipped renewal follow the shop's switch,
  the card notices its `notify_card_changes`;
- card notices (R18): their reference in the mail log, and what they show (no card data, the expiry month at most).
"""

from __future__ import annotations

import re
import uuid
from datetime import date, timedelta, timezone
from typing import Any

from services.notification.domain.errors import InvalidAddress
from services.notification.domain.kinds import CARD_SWITCHABLE_KINDS, SWITCHABLE_KINDS, to_buyer
from services.notification.domain.model import CompletedOrder, FailedRenewal, Mail, MailedOrder, ShopProfile
from services.notification.domain.notices import CardNotice, MailSubject

_MAIL_ID_NAMESPACE = uuid.UUID("5b3e0c52-8d0e-4d36-9a55-6f1f3a2c7e10")
_LOCAL = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_LABEL = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$")
_UNITS = {"day": "日", "week": "週間", "month": "ヶ月"}
_JST = timezone(timedelta(hours=9), name="JST")


def original_mail_id(order_id: str, kind: str) -> str:
    """The id of an order's first `kind` mail: the same whoever computes it, however often."""
    return str(uuid.uuid5(_MAIL_ID_NAMESPACE, f"{order_id}\x00{kind}"))


def card_notice_id(event_id: uuid.UUID) -> str:
    """The reference of the notice of one card change (replaced, removed): one notice per event, however often
    it is delivered."""
    return f"card-{event_id}"


def card_expiring_notice_id(subscription_id: str, cycle_no: int) -> str:
    """The reference of the warning about one renewal cycle: one per cycle, even if the warning were emitted
    again (and short enough for any subscription id: the log's order ids are at most 128 characters)."""
    name = f"expiring\x00{subscription_id}\x00{cycle_no}"
    return f"card-expiring-{uuid.uuid5(_MAIL_ID_NAMESPACE, name)}"


def resend_mail_id(original_id: str, idempotency_key: str | None) -> str:
    """A resend's id: random, or derived from the operator's idempotency key, so a repeated request (a double
    click, a retried call) names the same mail and sends nothing twice."""
    if idempotency_key is None:
        return str(uuid.uuid4())
    return str(uuid.uuid5(_MAIL_ID_NAMESPACE, f"resend\x00{original_id}\x00{idempotency_key}"))


def message_id_for(mail_id: str, domain: str) -> str:
    """RFC 5322 Message-ID of a mail: stable across its retries; a resend (new mail id) gets a new one."""
    return f"<{mail_id}@{domain}>"


def check_address(address: str) -> str:
    """The address, stripped, if an SMTP server could take it; `InvalidAddress` with the reason if not.

    Deliberately plain: dot-atom local part, ASCII domain with at least two labels. Internationalised
    addresses (SMTPUTF8) are refused with a reason rather than sent where they cannot be delivered.
    """
    value = address.strip()
    if not value.isascii():
        raise InvalidAddress(f"non-ASCII address not supported: {value!r}")
    local, at, domain = value.rpartition("@")
    if not at or not local or not domain or len(value) > 254 or len(local) > 64:
        raise InvalidAddress(f"not an e-mail address: {value!r}")
    if not _LOCAL.match(local):
        raise InvalidAddress(f"invalid local part in {value!r}")
    labels = domain.split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        raise InvalidAddress(f"invalid domain in {value!r}")
    return value


def installments_label(pay_type: str) -> str:
    """支払回数 as a buyer reads it: 01 lump sum, 02-24 installments, 80 bonus, 88 revolving."""
    if pay_type == "01":
        return "一括払い"
    if pay_type == "80":
        return "ボーナス一括払い"
    if pay_type == "88":
        return "リボルビング払い"
    if pay_type.isdigit() and 2 <= int(pay_type) <= 24:
        return f"分割払い（{int(pay_type)}回）"
    return f"支払区分 {pay_type}"


def yen(amount: int) -> str:
    """Integer yen as mails show it: 12,345円."""
    return f"{amount:,}円"


def recipient_for(mail: Mail, order: MailSubject, shop: ShopProfile) -> str:
    """A preset recipient (operator resend) wins; else the buyer (thanks, the buyer's renewal and card notices) or
    the shop's copy address (the shop copy and the shop's renewal notices)."""
    if mail.recipient:
        return mail.recipient
    return order.buyer_email if to_buyer(mail.kind) else shop.shop_copy_address


def suppression(mail: Mail, shop: ShopProfile) -> str | None:
    """Why an original mail is not to be sent, or None. The buyer's notices of a failed or skipped renewal follow
    the shop's `renewal.notify_buyer_on_failure`, as it stands when the mail is composed (the shop's settings may
    arrive after the order); an operator's resend is an explicit choice and always goes."""
    if mail.is_resend:
        return None
    if mail.kind in SWITCHABLE_KINDS and not shop.notify_buyer_on_failure:
        return "not sent: the shop's renewal setting notify_buyer_on_failure is off"
    if mail.kind in CARD_SWITCHABLE_KINDS and not shop.notify_card_changes:
        return "not sent: the shop's card setting notify_card_changes is off"
    return None


def sender_name(shop: ShopProfile) -> str:
    return shop.sender_name or shop.shop_name


def context_for(order: MailSubject, shop: ShopProfile) -> dict[str, Any]:
    """The template context of any of the order's (or the card notice's) mails."""
    if isinstance(order, CardNotice):
        return card_notice_context(order, shop)
    if isinstance(order, FailedRenewal):
        return failed_renewal_context(order, shop)
    return template_context(order, shop)


def template_context(order: CompletedOrder, shop: ShopProfile) -> dict[str, Any]:
    """Everything a template may show. Amounts stay integers (templates format them with `yen`)."""
    subscription = None
    if order.subscription_every and order.subscription_unit:
        subscription = f"{order.subscription_every}{_UNITS.get(order.subscription_unit, order.subscription_unit)}ごと"
    return {
        **_common(order, shop),
        "order": order,
        "shipping": order.shipping,
        "lines": order.lines,
        "items_total": sum(line.subtotal for line in order.lines),
        "fees": order.fees,
        "total": order.total,
        "payment_method_name": order.payment_method_name,
        "installments": installments_label(order.pay_type),
        "note": shop.thanks_note,
        "subscription": subscription,
        "payment_skipped": order.payment_skipped,
        "skip_reason": order.payment_skip_reason or "（理由の記載なし）",
    }


def failed_renewal_context(failure: FailedRenewal, shop: ShopProfile) -> dict[str, Any]:
    """What the notices of a declined renewal show: the order, its subscription and cycle, the reason (the
    shop's notice) and the R16 message (the buyer's); no lines or shipping (the event does not carry them)."""
    return {
        **_common(failure, shop),
        "total": failure.total,
        "reason_code": failure.reason_code,
        "reason": failure.reason,
        "buyer_message": failure.buyer_message or "ショップ様にお問い合わせください",
    }


def card_notice_context(notice: CardNotice, shop: ShopProfile) -> dict[str, Any]:
    """What a card notice shows: who, when and by whom (the member's page or the shop), the expiry month (never a
    card number), and for a warning the cycle and the date its renewal would charge the card."""
    expiry = _month(notice.card_expiry) if notice.card_expiry else None
    return {
        "shop_name": shop.shop_name,
        "shop_address": shop.sender_address,
        "notice_id": notice.notice_id,
        "buyer_name": notice.buyer_name,
        "buyer_email": notice.buyer_email,
        "changed_on": _japanese_date(notice.occurred_at.astimezone(_JST).date()),
        "by_operator": notice.source == "operator",
        "card_expiry": expiry,
        "subscription_id": notice.subscription_id,
        "cycle_no": notice.cycle_no,
        "next_cycle_on": _japanese_date(notice.next_cycle_on) if notice.next_cycle_on else None,
        "buyer_notified": shop.notify_card_changes,
    }


def _month(year_month: str) -> str:
    """`2030-12` as 2030年12月."""
    year, month = year_month.split("-")
    return f"{int(year)}年{int(month)}月"


def _japanese_date(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _common(order: MailedOrder, shop: ShopProfile) -> dict[str, Any]:
    return {
        "shop_name": shop.shop_name,
        "shop_address": shop.sender_address,
        "order_id": order.order_id,
        "order_date": _japanese_date(order.order_date),
        "payment_number": order.payment_number,
        "buyer_name": order.buyer_name,
        "buyer_email": order.buyer_email,
        "subscription_id": order.subscription_id,
        "cycle_no": order.cycle_no,
        "buyer_notified": shop.notify_buyer_on_failure,
    }
