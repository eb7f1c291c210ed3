"""The `MailTransport` port against the fake and the real SMTP client talking to a real aiosmtpd server (the
local sink): what the server answers decides accepted, temporary (4xx) or permanent (5xx)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from deploy.local.smtp_sink import smtp_sink
from services.notification.adapters.smtp import SmtpTransport
from services.notification.domain.model import MailContent
from services.notification.ports import MailTransport, OutgoingMail
from services.notification.settings import SmtpSettings
from tests.fakes.notification import FakeMailTransport


@dataclass(frozen=True)
class Server:
    """A transport, a way to make its server refuse, and what the server stored (Message-ID, To, order id)."""

    transport: MailTransport
    refuse: Callable[..., None]
    delivered: Callable[[], list[tuple[str, str, str]]]


@pytest.fixture(params=["fake", "real"])
async def server(request, tmp_path) -> AsyncIterator[Server]:
    if request.param == "fake":
        fake = FakeMailTransport()
        yield Server(fake, fake.refuse,
                     lambda: [(m.message_id, m.content.recipient, m.headers["X-Order-Id"]) for m in fake.sent])
        return
    async with smtp_sink(tmp_path / "Maildir") as sink:
        real = SmtpTransport(SmtpSettings(host=sink.host, port=sink.smtp_port, timeout_s=10.0, send_timeout_s=20.0))
        yield Server(real, sink.faults.set,
                     lambda: [(m["Message-ID"], m["To"], m["X-Order-Id"]) for _, m in sink.messages()])


def mail(n: int = 1, *, to: str = "taro@example.jp") -> OutgoingMail:
    content = MailContent(sender_address="shop@example.jp", sender_name="デモ茶舗", recipient=to,
                          subject=f"【デモ茶舗】ご注文 {n}", text="ご注文ありがとうございます。", html=None)
    return OutgoingMail(content=content, message_id=f"<m-{n}@test.invalid>", date=datetime(2025, 1, 1, tzinfo=UTC),
                        headers={"X-Order-Id": f"ord-{n}", "X-Mail-Kind": "thanks"})


async def test_an_accepted_mail_is_delivered_once_with_its_message_id(server):
    result = await server.transport.send(mail(1))
    assert result.status == "accepted" and result.detail.startswith("250")
    assert server.delivered() == [("<m-1@test.invalid>", "taro@example.jp", "ord-1")]


async def test_a_temporary_refusal_is_temporary_and_delivers_nothing_until_it_ends(server):
    server.refuse("temporary", count=1)
    refused = await server.transport.send(mail(1))
    assert (refused.status, "451" in refused.detail, server.delivered()) == ("temporary", True, [])
    assert (await server.transport.send(mail(2))).status == "accepted"
    assert [order_id for _, _, order_id in server.delivered()] == ["ord-2"]


async def test_a_permanent_refusal_is_permanent(server):
    server.refuse("permanent")
    refused = await server.transport.send(mail(1))
    assert (refused.status, "554" in refused.detail, server.delivered()) == ("permanent", True, [])


async def test_a_recipient_the_server_does_not_know_is_refused_permanently(server):
    refused = await server.transport.send(mail(1, to="buyer@typo.invalid"))
    assert (refused.status, "550" in refused.detail, server.delivered()) == ("permanent", True, [])
