"""The `Renderer` port against the fake and the Jinja2 templates: a one-line subject and a text for every kind
of mail (the card notices' too), and `RenderError` (never a half-rendered mail) for what cannot be rendered."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime

import pytest

from services.notification import translate
from services.notification.adapters.templates import JinjaRenderer
from services.notification.domain.compose import context_for, template_context
from services.notification.domain.kinds import CARD_KINDS, FAILED_RENEWAL_KINDS, SKIPPED_RENEWAL_KINDS
from services.notification.domain.notices import CardNotice
from services.notification.ports import RenderError
from tests.fakes.notification import FakeRenderer
from tests.unit.contracts import samples

SHOP = translate.shop_from_contract(samples.shop_settings_changed())
CONTEXT = template_context(translate.order_from_contract(samples.order_completed()), SHOP)
SKIPPED_CONTEXT = template_context(translate.order_from_contract(samples.order_completed().model_copy(
    update={"origin": "renewal", "payment_status": "skipped", "payment_skip_reason": "契約期間外"})), SHOP)
FAILED_CONTEXT = context_for(translate.failed_renewal_from_contract(samples.renewal_payment_failed()), SHOP)
NOTICE = CardNotice(notice_id="card-1", kind="card_replaced", shop_id="demo-shop", member_id="m-1001",
                    occurred_at=datetime(2025, 6, 1, 3, 0, tzinfo=UTC), source="my_page", card_expiry="2030-12",
                    cycle_no=3, subscription_id="sub-0001", next_cycle_on=date(2025, 3, 1),
                    buyer_name="山田 太郎", buyer_email="taro@example.jp")


@pytest.fixture(params=["fake", "real"])
def renderer(request):
    return FakeRenderer() if request.param == "fake" else JinjaRenderer()


@pytest.mark.parametrize("kind", ["thanks", "shop_copy"])
def test_both_mails_have_a_one_line_subject_and_a_text_naming_the_order(renderer, kind):
    rendered = renderer.render(kind, shop_id="demo-shop", context=CONTEXT)
    assert "\n" not in rendered.subject and CONTEXT["shop_name"] in rendered.subject
    assert CONTEXT["order_id"] in rendered.subject and CONTEXT["order_id"] in rendered.text
    assert rendered.html is not None and CONTEXT["order_id"] in rendered.html


@pytest.mark.parametrize(("kind", "context"), [
    *((kind, SKIPPED_CONTEXT) for kind in SKIPPED_RENEWAL_KINDS),
    *((kind, FAILED_CONTEXT) for kind in FAILED_RENEWAL_KINDS),
])
def test_every_renewal_notice_has_a_one_line_subject_and_a_text_naming_the_order(renderer, kind, context):
    rendered = renderer.render(kind, shop_id="demo-shop", context=context)
    assert "\n" not in rendered.subject and context["shop_name"] in rendered.subject
    assert context["order_id"] in rendered.subject and context["order_id"] in rendered.text
    assert rendered.html is not None and context["order_id"] in rendered.html


@pytest.mark.parametrize("kind", CARD_KINDS)
def test_every_card_notice_has_a_one_line_subject_and_a_text_for_the_buyer(renderer, kind):
    context = context_for(replace(NOTICE, kind=kind), SHOP)
    rendered = renderer.render(kind, shop_id="demo-shop", context=context)
    assert "\n" not in rendered.subject and context["shop_name"] in rendered.subject
    assert "山田 太郎 様" in rendered.text and rendered.html is not None and "山田 太郎 様" in rendered.html


def test_an_unknown_kind_of_mail_is_a_render_error(renderer):
    with pytest.raises(RenderError, match="template error in reminder mail"):
        renderer.render("reminder", shop_id="demo-shop", context=CONTEXT)


def test_a_missing_variable_is_a_render_error_not_a_blank(renderer):
    context = {name: value for name, value in CONTEXT.items() if name != "order_id"}
    with pytest.raises(RenderError, match="order_id"):
        renderer.render("thanks", shop_id="demo-shop", context=context)
