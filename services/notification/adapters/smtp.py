"""`MailTransport` over SMTP with aiosmtplib, and the MIME message it sends.

MIME: UTF-8 throughout. Headers with Japanese text (Subject, the sender's display name) are RFC 2047
encoded-words (`=?utf-8?b?...?=`); bodies are base64 (7-bit safe,
no reliance on 8BITMIME). The plain-text part is always there; an HTML alternative when the template has one.
`Date` is the mail's creation time, `Message-ID` its stored id and the MIME boundary derived from it, so a
retry sends the same bytes.

Classification: a reply the server gave decides (4xx temporary, 5xx permanent); connection trouble and
timeouts are temporary. A timeout after DATA leaves the outcome unknown: it is retried (same Message-ID).
"""

from __future__ import annotations

import asyncio
import base64
import functools
import hashlib
import re
import socket
import time
from email.utils import format_datetime, formataddr

import aiosmtplib

from services.notification.ports import OutgoingMail, SendResult
from services.notification.settings import SmtpSettings


def build_message(mail: OutgoingMail) -> bytes:
    """The exact bytes sent: headers RFC 2047-encoded where they are not ASCII, bodies base64, CRLF line ends.

    Written out from a template of the fixed parts (issue 18): the standard library's `EmailMessage` with the SMTP
    policy cost ~1 ms per mail, half of the service's CPU, for the same message. The same mail always gives the
    same bytes. A header value with a line break or an address that is not a plain ASCII addr-spec is refused
    (`ValueError`), as the standard library refuses them."""
    content = mail.content
    head = [
        f"From: {_mailbox(content.sender_name, content.sender_address)}",
        f"To: {_mailbox(None, content.recipient)}",
    ]
    if content.reply_to:
        head.append(f"Reply-To: {_mailbox(None, content.reply_to)}")
    head += [f"Subject: {_text('Subject', content.subject)}", f"Date: {format_datetime(mail.date)}",
             f"Message-ID: {_text('Message-ID', mail.message_id)}"]
    head += [f"{_name(name)}: {_text(name, value)}" for name, value in mail.headers.items()]
    head.append("MIME-Version: 1.0")
    if not content.html:
        return _join([*head, *_part("plain", content.text)])
    boundary = "=_" + hashlib.sha256(mail.message_id.encode()).hexdigest()[:32]
    return _join([*head, f'Content-Type: multipart/alternative; boundary="{boundary}"', "",
                  f"--{boundary}", *_part("plain", content.text), f"--{boundary}", *_part("html", content.html),
                  f"--{boundary}--"])


def _join(lines: list[str]) -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode("ascii")


def _part(subtype: str, text: str) -> list[str]:
    """A UTF-8 text part, base64 in 76-character lines, of the text with CRLF line ends (canonical MIME text)."""
    canonical = text.replace("\r\n", "\n").replace("\r", "\n").replace("\n", "\r\n")
    if not canonical.endswith("\r\n"):
        canonical += "\r\n"
    body = base64.encodebytes(canonical.encode("utf-8")).decode("ascii").rstrip("\n").split("\n")
    return [f'Content-Type: text/{subtype}; charset="utf-8"', "Content-Transfer-Encoding: base64", "", *body]


def _text(name: str, value: str) -> str:
    """An unstructured header's value: as is when ASCII, else RFC 2047 encoded words (folded, CRLF)."""
    if "\r" in value or "\n" in value:
        raise ValueError(f"header {name} contains a line break")
    return value if value.isascii() else _encoded_words(value)


def _encoded_words(value: str) -> str:
    """RFC 2047 `=?utf-8?b?...?=` words of at most 39 UTF-8 bytes each (never splitting a character; 64 characters
    per word), one per folded line."""
    words: list[str] = []
    chunk: list[str] = []
    size = 0
    for char in value:
        width = len(char.encode("utf-8"))
        if size + width > _WORD_BYTES and chunk:
            words.append("".join(chunk))
            chunk, size = [], 0
        chunk.append(char)
        size += width
    words.append("".join(chunk))
    return "\r\n ".join(f"=?utf-8?b?{base64.b64encode(w.encode('utf-8')).decode('ascii')}?=" for w in words)


def _mailbox(display_name: str | None, address: str) -> str:
    if not _ADDR_SPEC.fullmatch(address):
        raise ValueError(f"not a plain ASCII mail address: {address!r}")
    if not display_name:
        return address
    if "\r" in display_name or "\n" in display_name:
        raise ValueError("display name contains a line break")
    if display_name.isascii():
        return formataddr((display_name, address))
    return f"{_encoded_words(display_name)} <{address}>"


def _name(name: str) -> str:
    if not _HEADER_NAME.fullmatch(name):
        raise ValueError(f"not a header name: {name!r}")
    return name


_WORD_BYTES = 39
_ADDR_SPEC = re.compile(r"[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+@[A-Za-z0-9.-]+")
_HEADER_NAME = re.compile(r"[!-9;-~]+")


class SmtpTransport:
    """A few SMTP connections kept open and reused, one mail at a time each (issue 18: a connection per mail was
    a TCP handshake, a greeting and an EHLO per mail). A connection that failed in any way is closed, never
    reused; one idle longer than `idle_s` is closed politely (QUIT in the background) instead of reused.

    `send` returns as soon as the server accepted DATA, so nothing after acceptance is part of the duplicate
    window (acceptance -> log commit). A reused connection the server dropped while it was idle is replaced by a
    new one at once, within the same send timeout (the same Message-ID, as any retry)."""

    def __init__(self, settings: SmtpSettings):
        self._settings = settings
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []
        self._goodbyes: set[asyncio.Task[None]] = set()

    async def send(self, mail: OutgoingMail) -> SendResult:
        try:
            raw = build_message(mail)
        except (ValueError, TypeError, UnicodeError) as exc:  # content no server could take: retrying won't help
            return SendResult("permanent", f"cannot build the message: {type(exc).__name__}: {exc}")
        reused = self._take()
        client = reused
        try:
            async with asyncio.timeout(self._settings.send_timeout_s):
                if client is not None:
                    try:
                        _, reply = await client.sendmail(mail.content.sender_address, [mail.content.recipient], raw)
                    except (aiosmtplib.SMTPServerDisconnected, ConnectionError):
                        client.close()  # dropped while idle: once more on a new connection
                        client = None
                if client is None:
                    client = self._client()
                    await client.connect()
                    _, reply = await client.sendmail(mail.content.sender_address, [mail.content.recipient], raw)
        except Exception as exc:
            if client is not None:
                client.close()
            return classify(exc)
        self._give_back(client)
        return SendResult("accepted", f"250 {reply}".strip())

    def _take(self) -> aiosmtplib.SMTP | None:
        now = time.monotonic()
        while self._idle:
            client, since = self._idle.pop()
            if client.is_connected and now - since < self._settings.idle_s:
                return client
            self._quit_later(client)
        return None

    def _give_back(self, client: aiosmtplib.SMTP) -> None:
        if len(self._idle) < self._settings.pool_size:
            self._idle.append((client, time.monotonic()))
        else:
            self._quit_later(client)

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
