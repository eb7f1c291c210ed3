"""The invariants of design §7 (and the operational promises beside them) decided over `Facts`.

Each rule returns a `Verdict`: one line with its counts, the number of violations, and up to a few examples.
Pure: no I/O, so tests plant each kind of violation in facts and see it reported.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from deploy.invariants.facts import Facts, Mail, Order

FINAL = {"completed", "rejected", "needs_review", "payment_failed"}
FLAGGED_PAYMENT_STATES = {"unknown"}
CHARGE_KINDS = {"1Auth", "1Gathering"}
LIVE = {"authorized", "captured"}
ORDER_MAILS = ("thanks", "shop_copy")
EXAMPLES = 5


@dataclass(frozen=True, kw_only=True)
class Verdict:
    name: str
    summary: str
    violations: int
    examples: list[str] = field(default_factory=list)
    figures: dict[str, float] = field(default_factory=dict)  # the numbers a report quotes beside the line

    def line(self) -> str:
        status = "ok" if self.violations == 0 else f"VIOLATED ({self.violations})"
        shown = f"  e.g. {'; '.join(self.examples[:EXAMPLES])}" if self.examples else ""
        return f"{self.name:<22} {status:<16} {self.summary}{shown}"


def _seconds(delta) -> float:
    return round(delta.total_seconds(), 1)


def final_states(facts: Facts) -> Verdict:
    """I1: every accepted checkout has an order, and every order reached a final state."""
    placed = {(o.shop_id, o.checkout_id) for o in facts.orders if o.checkout_id is not None}
    lost = sorted(f"{shop}/{cid}" for shop, cid in facts.accepted - placed)
    open_orders = [o for o in facts.orders if o.status not in FINAL]
    states = Counter(o.status for o in facts.orders)
    summary = (f"{len(facts.accepted)} checkouts accepted, {len(facts.orders)} orders "
               f"({', '.join(f'{k} {v}' for k, v in sorted(states.items()))}); {len(lost)} lost, "
               f"{len(open_orders)} not final")
    examples = [f"lost {c}" for c in lost] + [f"{o.order_id} {o.status} {_seconds(facts.now - o.placed_at)}s"
                                              for o in open_orders]
    return Verdict(name="I1 one final state", summary=summary, violations=len(lost) + len(open_orders),
                   examples=examples)


def single_authorization(facts: Facts) -> Verdict:
    """I2: no order charged twice; every live hold belongs to one completed or flagged order (no orphans)."""
    orders = {o.payment_number: o for o in facts.orders if o.payment_number}
    payments = {p.payment_number: p for p in facts.payments}
    charges = defaultdict(list)
    for charge in facts.charges:
        if charge.kind in CHARGE_KINDS and charge.reauth_of is None:
            charges[(charge.merchant_id, charge.merchant_free1)].append(charge)
    doubled = sorted(number for (_, number), found in charges.items() if len(found) > 1)
    live = defaultdict(list)
    for charge in facts.charges:
        if charge.state in LIVE:
            live[charge.merchant_free1].append(charge)
    orphans, extra = [], []
    for number, holds in sorted(live.items()):
        order, payment = orders.get(number), payments.get(number)
        flagged = (order is not None and order.status == "needs_review") or (
            payment is not None and (payment.two_live_holds or payment.unknown_operation))
        if order is None or (order.status != "completed" and not flagged):
            orphans.append(f"{number} ({order.status if order else 'no order'}: "
                           f"{', '.join(h.process_id for h in holds)})")
        elif len(holds) > 1 and not flagged:
            extra.append(f"{number} has {len(holds)} live holds")
    summary = (f"{sum(len(h) for h in live.values())} live holds, {len(charges)} charged payment numbers; "
               f"{len(doubled)} charged twice, {len(orphans)} orphan holds, {len(extra)} unflagged extra holds")
    return Verdict(name="I2 one authorization", summary=summary, violations=len(doubled) + len(orphans) + len(extra),
                   examples=[f"charged twice {n}" for n in doubled] + [f"orphan {o}" for o in orphans] + extra)


def _by_order_and_kind(mails: Iterable[Mail]) -> dict[tuple[str, str], list[Mail]]:
    found: dict[tuple[str, str], list[Mail]] = defaultdict(list)
    for mail in mails:
        if mail.kind in ORDER_MAILS and not mail.resend:
            found[(mail.order_id, mail.kind)].append(mail)
    return found


def mails_once(facts: Facts) -> Verdict:
    """I3: one thanks mail and one shop copy per completed order, none for others; a duplicate is allowed only
    as a byte-identical resend (same Message-ID: the crash window between SMTP acceptance and recording it)."""
    completed = {o.order_id for o in facts.orders if o.status == "completed"}
    delivered = _by_order_and_kind(facts.sink)
    missing = sorted(f"{order} {kind}" for order in completed for kind in ORDER_MAILS
                     if not delivered.get((order, kind)))
    uninvited = sorted(f"{order} {kind}" for (order, kind) in delivered if order not in completed)
    window = sum(len(m) - 1 for m in delivered.values() if len({x.message_id for x in m}) == 1)
    doubled = sorted(f"{order} {kind}" for (order, kind), m in delivered.items()
                     if len({x.message_id for x in m}) > 1)
    unsent = sorted(f"{m.order_id} {m.kind} {m.status}" for m in facts.mail_log
                    if m.kind in ORDER_MAILS and not m.resend and m.status != "sent")
    summary = (f"{len(completed)} completed orders, {len(facts.sink)} mails in the sink; {len(missing)} missing, "
               f"{len(doubled)} duplicated with another Message-ID, {len(uninvited)} for orders not completed, "
               f"{len(unsent)} not sent in the mail log; {window} same-Message-ID duplicates (crash window)")
    return Verdict(name="I3 mails once", summary=summary,
                   violations=len(missing) + len(doubled) + len(uninvited) + len(unsent),
                   figures={"crash_window_duplicates": window},
                   examples=[f"missing {m}" for m in missing] + [f"duplicate {d}" for d in doubled]
                   + [f"uninvited {u}" for u in uninvited] + [f"unsent {u}" for u in unsent])


def one_order_per_cycle(facts: Facts) -> Verdict:
    """I4: one order per subscription cycle, and each cycle's order exists with that cycle."""
    per_cycle = Counter((o.subscription_id, o.cycle_no) for o in facts.orders if o.subscription_id)
    doubled = sorted(f"{s}#{c}" for (s, c), n in per_cycle.items() if n > 1)
    orders: dict[str, Order] = {o.order_id: o for o in facts.orders}
    unmatched = []
    for cycle in facts.cycles:
        order = orders.get(cycle.order_id or "")
        if cycle.cycle_no > 1 and (order is None or (order.subscription_id, order.cycle_no)
                                   != (cycle.subscription_id, cycle.cycle_no)):
            unmatched.append(f"{cycle.subscription_id}#{cycle.cycle_no} {cycle.status} order {cycle.order_id}")
    renewals = sum(1 for o in facts.orders if o.subscription_id)
    summary = (f"{len(facts.cycles)} cycles, {renewals} renewal orders; {len(doubled)} cycles with two orders, "
               f"{len(unmatched)} cycles without their order")
    return Verdict(name="I4 one order per cycle", summary=summary, violations=len(doubled) + len(unmatched),
                   examples=[f"two orders {d}" for d in doubled] + unmatched)


def no_secrets(facts: Facts) -> Verdict:
    """I5: no card number, token, password, KaiinPass or ProcessPass in any log line or topic record."""
    kinds = Counter(hit.kind for hit in facts.secrets)
    scanned = ", ".join(f"{n} {what}" for what, n in sorted(facts.scanned.items()))
    summary = f"scanned {scanned or 'nothing'}; {len(facts.secrets)} secrets" + (
        f" ({', '.join(f'{k} {v}' for k, v in sorted(kinds.items()))})" if kinds else "")
    return Verdict(name="I5 no secrets", summary=summary, violations=len(facts.secrets),
                   examples=[f"{hit.kind} at {hit.where}" for hit in facts.secrets])


def unknowns_surfaced(facts: Facts) -> Verdict:
    """§6.2: every unknown outcome is in front of an operator (its order in needs_review), with its age."""
    orders = {o.order_id: o for o in facts.orders}
    unknown = [p for p in facts.payments if p.state in FLAGGED_PAYMENT_STATES or p.unknown_operation]
    hidden = [p for p in unknown if p.state in FLAGGED_PAYMENT_STATES
              and (orders.get(p.order_id) is None or orders[p.order_id].status != "needs_review")]
    ages = [facts.now - p.updated_at for p in unknown]
    review = [o for o in facts.orders if o.status == "needs_review"]
    to_operator = [o.updated_at - o.placed_at for o in review]
    by_operator = sum(1 for p in facts.payments if p.resolution == "operator")
    probed = f"{len(facts.probe_settled)} calls on {len(set(facts.probe_settled))} orders"
    by_member = sum(1 for p in unknown if p.by_member)
    oldest = max(ages).total_seconds() if ages else 0.0
    longest = max(to_operator).total_seconds() if to_operator else 0.0
    summary = (f"{len(unknown)} unknown now ({by_member} by member), oldest {oldest:.0f}s; {len(review)} orders in "
               f"review, longest checkout-to-review {longest:.1f}s; resolved without operator (token probe found "
               f"the token unspent: not sent): {probed}; resolved by an operator: {by_operator}; "
               f"{len(hidden)} not surfaced")
    shown = [f"{p.order_id} {p.state} order {orders[p.order_id].status if p.order_id in orders else '-'}"
             for p in hidden]
    figures = {"longest_to_operator_s": round(longest, 1), "probe_resolved_orders": len(set(facts.probe_settled)),
               "probe_calls": len(facts.probe_settled), "left_for_operators": len(review),
               "resolved_by_operator": by_operator}
    return Verdict(name="unknowns surfaced", summary=summary, violations=len(hidden), examples=shown, figures=figures)


def partitions_flow(facts: Facts) -> Verdict:
    """No partition blocked: every consumer group caught up with every partition it reads."""
    behind = [lag for lag in facts.lags if lag.lag > 0]
    summary = f"{len(facts.lags)} group partitions; {len(behind)} behind ({sum(x.lag for x in behind)} records)"
    return Verdict(name="no blocked partition", summary=summary, violations=len(behind),
                   examples=[f"{x.group} {x.topic}[{x.partition}] lag {x.lag}" for x in behind])


def dead_letters_explained(facts: Facts) -> Verdict:
    """Every dead letter says why; the reasons are counted."""
    silent = [d for d in facts.dead_letters if not d.reason]
    reasons = Counter((d.reason or "").split(":")[0][:60] for d in facts.dead_letters if d.reason)
    top = "; ".join(f"{n}x {r}" for r, n in reasons.most_common(6))
    summary = f"{len(facts.dead_letters)} dead letters, {len(silent)} without a reason" + (f" [{top}]" if top else "")
    return Verdict(name="dead letters", summary=summary, violations=len(silent),
                   examples=[f"{d.topic} without reason" for d in silent])


def janitor_findings(facts: Facts) -> Verdict:
    """What payment's janitor moved (read from its /metrics): information, never a violation by itself."""
    found = ", ".join(f"{k} {v:.0f}" for k, v in sorted(facts.janitor.items())) or "no janitor metrics"
    return Verdict(name="janitor, token probes", summary=found, violations=0)


RULES: tuple[Callable[[Facts], Verdict], ...] = (
    final_states, single_authorization, mails_once, one_order_per_cycle, no_secrets, unknowns_surfaced,
    partitions_flow, dead_letters_explained, janitor_findings,
)


def judge(facts: Facts) -> list[Verdict]:
    return [rule(facts) for rule in RULES]
