"""The local SMTP sink: a real SMTP conversation in, a Maildir and an HTTP listing out, faults on demand."""

from __future__ import annotations

import asyncio
import mailbox
import signal
import sys
from email.message import EmailMessage

import aiosmtplib
import httpx
import pytest

from deploy.local.kafka import free_port
from deploy.local.smtp_sink import ROOT
from tests.waiting import eventually


def _message(subject: str = "テスト件名", to: str = "taro@example.jp") -> EmailMessage:
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "shop@example.jp", to, subject
    message["Message-ID"] = "<m-1@example.jp>"
    message.set_content("日本語の本文です。")
    return message


async def test_a_mail_sent_over_smtp_is_stored_in_the_maildir_and_listed_over_http(sink):
    await aiosmtplib.send(_message(), hostname=sink.host, port=sink.smtp_port)
    async with httpx.AsyncClient(base_url=sink.http_url) as http:
        [listed] = (await http.get("/messages")).json()
        one = (await http.get(f"/messages/{listed['key']}")).json()
        raw = await http.get(f"/messages/{listed['key']}/raw")
        missing = await http.get("/messages/nope")
        await http.delete("/messages")
        after = (await http.get("/messages")).json()
    assert listed["subject"] == "テスト件名" and listed["rcpt_to"] == ["taro@example.jp"]
    assert listed["mail_from"] == "<shop@example.jp>" and listed["message_id"] == "<m-1@example.jp>"
    assert one["text"].strip() == "日本語の本文です。"
    assert raw.content.startswith(b"X-Sink-Mail-From: <shop@example.jp>")
    assert missing.status_code == 404 and after == []
    assert isinstance(mailbox.Maildir(sink.maildir, create=False), mailbox.Maildir)


async def test_the_sink_refuses_for_a_count_or_a_while_or_permanently_and_recovers_on_request(sink):
    async with httpx.AsyncClient(base_url=sink.http_url) as http:
        await http.post("/faults", json={"mode": "temporary", "count": 1})
        first = await _send_code(sink)
        second = await _send_code(sink)
        await http.post("/faults", json={"mode": "permanent"})
        permanent = [await _send_code(sink), await _send_code(sink)]
        # a window long enough that the next send starts inside it on a busy machine (it is decided at MAIL FROM)
        await http.post("/faults", json={"mode": "temporary", "seconds": 2.0})
        during = await _send_code(sink)
        after = await eventually(lambda: _accepted(sink), timeout=30, interval=0.2, message="window over")
        bad = await http.post("/faults", json={"mode": "sideways"})
        stats = (await http.get("/stats")).json()
    assert (first, second, permanent, during, after) == (451, 250, [554, 554], 451, True)
    assert bad.status_code == 400
    assert stats["accepted"] == stats["stored"] == 2 and stats["refused"] >= 4


async def test_recipients_in_the_invalid_tld_are_refused_with_550(sink):
    with pytest.raises(aiosmtplib.SMTPRecipientsRefused) as refused:
        await aiosmtplib.send(_message(to="nobody@nowhere.invalid"), hostname=sink.host, port=sink.smtp_port)
    assert refused.value.recipients[0].code == 550


async def test_the_command_line_sink_serves_smtp_and_http_until_terminated(tmp_path):
    smtp_port, http_port = free_port(), free_port()
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "deploy.local.smtp_sink", "--smtp-port", str(smtp_port), "--http-port",
        str(http_port), "--maildir", str(tmp_path / "Maildir"), cwd=str(ROOT), stdout=asyncio.subprocess.PIPE)
    try:
        assert process.stdout is not None
        async with asyncio.timeout(60):  # Python's start-up and imports take seconds on a busy machine
            banner = await process.stdout.readline()
        await aiosmtplib.send(_message(), hostname="127.0.0.1", port=smtp_port)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}") as http:
            listed = (await http.get("/messages")).json()
    finally:
        process.send_signal(signal.SIGTERM)
        async with asyncio.timeout(30):
            code = await process.wait()
    assert f"SMTP on 127.0.0.1:{smtp_port}" in banner.decode() and len(listed) == 1 and code == 0


async def _send_code(sink) -> int:
    try:
        await aiosmtplib.send(_message(), hostname=sink.host, port=sink.smtp_port)
    except aiosmtplib.SMTPResponseException as exc:
        return exc.code
    return 250


async def _accepted(sink) -> bool:
    return await _send_code(sink) == 250

