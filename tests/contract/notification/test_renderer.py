"""The `Renderer` port against the fake and the Jinja2 templates: a one-line subject and a text for both kinds
of mail, and `RenderError` (never a half-rendered mail) for what cannot be rendered."""

from __future__ import annotations

import pytest

from services.notification import translate
from services.notification.adapters.templates import JinjaRenderer
from services.notification.domain.compose import template_context
from services.notification.ports import RenderError
from tests.fakes.notification import FakeRenderer
from tests.unit.contracts import samples

CONTEXT = template_context(translate.order_from_contract(samples.order_completed()),
                           translate.shop_from_contract(samples.shop_settings_changed()))


@pytest.fixture(params=["fake", "real"])
def renderer(request):
    return FakeRenderer() if request.param == "fake" else JinjaRenderer()


@pytest.mark.parametrize("kind", ["thanks", "shop_copy"])
def test_both_mails_have_a_one_line_subject_and_a_text_naming_the_order(renderer, kind):
    rendered = renderer.render(kind, shop_id="demo-shop", context=CONTEXT)
    assert "\n" not in rendered.subject and CONTEXT["shop_name"] in rendered.subject
    assert CONTEXT["order_id"] in rendered.subject and CONTEXT["order_id"] in rendered.text
    assert rendered.html is not None and CONTEXT["order_id"] in rendered.html


def test_an_unknown_kind_of_mail_is_a_render_error(renderer):
    with pytest.raises(RenderError, match="template error in reminder mail"):
        renderer.render("reminder", shop_id="demo-shop", context=CONTEXT)


def test_a_missing_variable_is_a_render_error_not_a_blank(renderer):
    context = {name: value for name, value in CONTEXT.items() if name != "order_id"}
    with pytest.raises(RenderError, match="order_id"):
        renderer.render("thanks", shop_id="demo-shop", context=context)
