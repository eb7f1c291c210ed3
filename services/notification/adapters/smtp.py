"""`MailTransport` over SMTP with aiosmtplib, and the MIME message it sends.

MIME: UTF-8 throughout. Headers with Japanese text (Subject, the sender's display name) are RFC 2047
encoded-words (`=?utf-8?b?...?=`) by the standard library's SMTP policy; bodies are base64 (7-bit safe,
no reliance on 8BITMIME). The plain-text part is always there; an HTML alternative when the template has one.
`Date` is the mail's creation time, `Message-ID` its stored id and the MIME boundary derived from it, so a
retry sends the same bytes.

Classification: a reply the server gave decides (4xx temporary, 5xx permanent); connection trouble and
timeouts are temporary. A timeout after DATA leaves the outcome unknown: it is retried (same Message-ID).
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import socket
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime

import aiosmtplib

from services.notification.ports import OutgoingMail, SendResult
from services.notification.settings import SmtpSettings


def build_message(mail: OutgoingMail) -> bytes:
    """The exact bytes sent: headers RFC 2047-encoded by the SMTP policy, CRLF line ends."""
    content = mail.content
    message = EmailMessage(policy=SMTP_POLICY)
    message["From"] = Address(display_name=content.sender_name, addr_spec=content.sender_address)
    message["To"] = Address(addr_spec=content.recipient)
    if content.reply_to:
        message["Reply-To"] = Address(addr_spec=content.reply_to)
    message["Subject"] = content.subject
    message["Date"] = format_datetime(mail.date)
    message["Message-ID"] = mail.message_id
    for name, value in mail.headers.items():
        message[name] = value
    message.set_content(content.text, charset="utf-8", cte="base64")
    if content.html:
        message.add_alternative(content.html, subtype="html", charset="utf-8", cte="base64")
        message.set_boundary("=_" + hashlib.sha256(mail.message_id.encode()).hexdigest()[:32])
    return message.as_bytes()


class SmtpTransport:
    """One SMTP connection per mail: simple, and no shared connection state to poison other mails.

    `send` returns as soon as the server accepted DATA; the polite QUIT runs afterwards in the background,
    so its round trip is not part of the duplicate window (acceptance -> log commit).
    """

    def __init__(self, settings: SmtpSettings):
        self._settings = settings
        self._goodbyes: set[asyncio.Task[None]] = set()

    async def send(self, mail: OutgoingMail) -> SendResult:
        try:
            raw = build_message(mail)
        except (ValueError, TypeError, UnicodeError) as exc:  # content no server could take: retrying won't help
            return SendResult("permanent", f"cannot build the message: {type(exc).__name__}: {exc}")
        client = self._client()
        try:
            async with asyncio.timeout(self._settings.send_timeout_s):
                await client.connect()
                _, reply = await client.sendmail(mail.content.sender_address, [mail.content.recipient], raw)
        except Exception as exc:
            client.close()
            return classify(exc)
        self._quit_later(client)
        return SendResult("accepted", f"250 {reply}".strip())

    def _client(self) -> aiosmtplib.SMTP:
        s = self._settings
        return aiosmtplib.SMTP(
            hostname=s.host, port=s.port, username=s.username,
            password=s.password.get_secret_value() if s.password else None,
            use_tls=s.security == "tls", start_tls=s.security == "starttls", validate_certs=s.validate_certs,
            cert_bundle=str(s.ca_file) if s.ca_file else None,
            timeout=s.timeout_s, local_hostname=s.local_hostname or this_host(),
        )

    def _quit_later(self, client: aiosmtplib.SMTP) -> None:
        task = asyncio.create_task(self._quit(client))
        self._goodbyes.add(task)
        task.add_done_callback(self._goodbyes.discard)

    async def _quit(self, client: aiosmtplib.SMTP) -> None:
        try:
            async with asyncio.timeout(self._settings.timeout_s):
                await client.quit()
        except Exception:
            client.close()


@functools.cache
def this_host() -> str:
    """The EHLO name when none is set: this host's FQDN, looked up once per process (aiosmtplib would look it up
    in a thread for every connection)."""
    return socket.getfqdn()


def classify(exc: BaseException) -> SendResult:
    """Which failures are worth retrying. Never includes the message or credentials, only the reply."""
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused) and exc.recipients:
        first = exc.recipients[0]
        return _by_code(first.code, f"recipient refused: {first.code} {first.message}")
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return SendResult("temporary", f"our SMTP login was refused: {exc.code} {exc.message}")
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return _by_code(exc.code, f"{type(exc).__name__}: {exc.code} {exc.message}")
    if isinstance(exc, TimeoutError):
        return SendResult("temporary", f"timeout: {type(exc).__name__} {exc}".strip())
    if isinstance(exc, aiosmtplib.SMTPException | OSError):
        return SendResult("temporary", f"{type(exc).__name__}: {exc}")
    return SendResult("temporary", f"unexpected {type(exc).__name__}: {exc}")


def _by_code(code: int, detail: str) -> SendResult:
    return SendResult("permanent" if 500 <= code < 600 else "temporary", detail)
