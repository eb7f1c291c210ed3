"""The `Renderer` port against the fake and the Jinja2 templates: a one-line subject and a text for every kind
of mail, and `RenderError` (never a half-rendered mail) for what cannot be rendered."""

from __future__ import annotations

import pytest

from services.notification import translate
from services.notification.adapters.templates import JinjaRenderer
from services.notification.domain.compose import context_for, template_context
from services.notification.domain.kinds import FAILED_RENEWAL_KINDS, SKIPPED_RENEWAL_KINDS
from services.notification.ports import RenderError
from tests.fakes.notification import FakeRenderer
from tests.unit.contracts import samples

SHOP = translate.shop_from_contract(samples.shop_settings_changed())
CONTEXT = template_context(translate.order_from_contract(samples.order_completed()), SHOP)
SKIPPED_CONTEXT = template_context(translate.order_from_contract(samples.order_completed().model_copy(
    update={"origin": "renewal", "payment_status": "skipped", "payment_skip_reason": "契約期間外"})), SHOP)
FAILED_CONTEXT = context_for(translate.failed_renewal_from_contract(samples.renewal_payment_failed()), SHOP)


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


def test_an_unknown_kind_of_mail_is_a_render_error(renderer):
    with pytest.raises(RenderError, match="template error in reminder mail"):
        renderer.render("reminder", shop_id="demo-shop", context=CONTEXT)


def test_a_missing_variable_is_a_render_error_not_a_blank(renderer):
    context = {name: value for name, value in CONTEXT.items() if name != "order_id"}
    with pytest.raises(RenderError, match="order_id"):
        renderer.render("thanks", shop_id="demo-shop", context=context)
