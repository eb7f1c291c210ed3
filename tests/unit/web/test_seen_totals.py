"""The console sends payment the order total the operator's page showed (`order_total`) with 売上確定, 取引更新 and
一括売上確定 (each row's own), so payment refuses them while an amount edit has not reached it (R12); キャンセル
and a page without a total send none."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.web.test_web_forms import CSRF, WEB, _client
from web.common.api import Answer, Api


@pytest.fixture
def posted(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """The body of the console's last call to a service (every call answers 200 with an empty object)."""
    last: dict[str, Any] = {}

    async def call(self: Api, service: str, method: str, path: str, **kwargs: Any) -> Answer:
        last.update(path=path, json=kwargs.get("json"))
        return Answer(status=200, body={})

    monkeypatch.setattr(Api, "call", call)
    return last


@pytest.mark.parametrize(("action", "sent"), [("capture", {"order_total": 7100}),
                                              ("update-amount", {"order_total": 7100}), ("cancel", {})])
def test_an_action_on_the_order_page_sends_the_total_the_page_showed(posted, action, sent) -> None:
    client = _client("console")
    answer = client.post(f"/orders/o-1/payment/{action}", data={"csrf": CSRF, "order_total": "7100"})
    assert answer.status_code == 303
    assert posted["path"].endswith(f"/payments/o-1/{action}")
    assert posted["json"] == {"requested_by": "console:tea", **sent}


def test_bulk_capture_sends_each_rows_total_and_none_for_a_row_without_one(posted) -> None:
    client = _client("console")
    form = {"csrf": CSRF, "order_id": ["o-1", "o-2"], "order_total:o-1": "1,000", "order_total:o-3": "300"}
    client.post("/orders/bulk-capture", data=form)  # (the result page needs more than the recorder's empty answer)
    assert posted["json"]["orders"] == [{"order_id": "o-1", "order_total": 1000}, {"order_id": "o-2"}]


def test_every_action_and_bulk_form_carries_the_total_its_page_showed() -> None:
    order = (WEB / "console/templates/order.html").read_text()
    orders = (WEB / "console/templates/orders.html").read_text()
    total = '<input type="hidden" name="order_total" value="{{ order.amount }}">'
    assert order.count(total) == 2  # the capture/cancel loop and 取引更新
    assert '<input type="hidden" name="order_total:{{ o.order_id }}" value="{{ o.amount }}">' in orders
