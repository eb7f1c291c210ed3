"""A local SMTP sink (aiosmtpd) for `make run`, tests and benchmarks: real SMTP in, a Maildir out, HTTP to look.

    python -m deploy.local.smtp_sink --host 127.0.0.1 --smtp-port 8025 --http-port 8026 \
        [--maildir .cache/smtp-sink/Maildir]

Every accepted message is stored in the Maildir (`new/`, one file per SMTP transaction, readable with any
mail client: `mutt -f DIR`) with three trace headers in front: `X-Sink-Mail-From`, `X-Sink-Rcpt-To`
(the SMTP envelope) and `X-Sink-Received-At`. HTTP API (JSON unless said):

    GET    /messages               summaries, oldest first: key, received_at, envelope, From/To/Subject decoded,
                                   Message-ID, X-Order-Id, X-Mail-Kind
    GET    /messages/{key}         one message: all headers decoded, text and html parts decoded
    GET    /messages/{key}/raw     the stored bytes (text/plain)
    DELETE /messages               empty the Maildir
    GET    /faults                 the current fault mode;   GET /stats: accepted/refused counts;   GET /health
    POST   /faults                 {"mode": "normal"}                        accept everything again
                                   {"mode": "temporary", "count": N}         451 for the next N transactions
                                   {"mode": "temporary", "seconds": S}       451 for S seconds
                                   {"mode": "temporary"} / {"mode": "permanent"}   451 / 554 until changed
                                   optional "code" and "message" replace the reply
Recipients in the reserved `.invalid` TLD are always refused with 550 5.1.1 (an address that cannot exist).
Faults answer MAIL FROM, so a refused transaction never reaches DATA.

In-process (tests, bench): `async with smtp_sink(maildir) as sink:` gives `sink.host`, `sink.smtp_port`,
`sink.http_url`, `sink.maildir`, `sink.messages()` and `sink.faults`; ports default to free ones.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import email
import email.policy
import logging
import mailbox
import signal
import socket
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiohttp import web
from aiosmtpd.smtp import SMTP, Envelope, Session

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MAILDIR = ROOT / ".cache" / "smtp-sink" / "Maildir"
TEMPORARY = (451, "4.3.0 smtp-sink: temporarily refusing mail (fault injection)")
PERMANENT = (554, "5.7.1 smtp-sink: refusing mail permanently (fault injection)")
log = logging.getLogger("smtp_sink")


@dataclass(kw_only=True)
class Faults:
    """What the next MAIL FROM is answered with. Counts and deadlines end a fault on their own."""

    mode: str = "normal"
    remaining: int | None = None
    until: float | None = None
    code: int | None = None
    message: str | None = None

    def set(self, mode: str = "normal", count: int | None = None, seconds: float | None = None,
            code: int | None = None, message: str | None = None) -> None:
        if mode not in ("normal", "temporary", "permanent"):
            raise ValueError(f"mode must be normal, temporary or permanent, not {mode!r}")
        self.mode, self.remaining, self.code, self.message = mode, count, code, message
        self.until = time.monotonic() + seconds if seconds is not None else None

    def decide(self) -> str | None:
        """The refusal for this transaction, or None to accept it."""
        if self.mode == "normal" or (self.until is not None and time.monotonic() >= self.until):
            self.set("normal")
            return None
        if self.remaining is not None:
            if self.remaining <= 0:
                self.set("normal")
                return None
            self.remaining -= 1
        code, text = TEMPORARY if self.mode == "temporary" else PERMANENT
        return f"{self.code or code} {self.message or text}"

    def describe(self) -> dict[str, Any]:
        left = max(self.until - time.monotonic(), 0.0) if self.until is not None else None
        return {"mode": self.mode, "remaining": self.remaining, "seconds_left": left, "code": self.code}


@dataclass
class SinkHandler:
    """aiosmtpd handler: faults at MAIL, `.invalid` recipients refused at RCPT, the Maildir at DATA."""

    store: mailbox.Maildir
    faults: Faults
    stats: dict[str, int] = field(default_factory=lambda: {"accepted": 0, "refused": 0})

    async def handle_MAIL(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          mail_options: list[str]) -> str:
        refusal = self.faults.decide()
        if refusal is not None:
            self.stats["refused"] += 1
            return refusal
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if address.lower().rstrip(".").endswith(".invalid"):
            return "550 5.1.1 smtp-sink: no such domain (.invalid)"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        trace = (f"X-Sink-Mail-From: <{envelope.mail_from}>\r\nX-Sink-Rcpt-To: {', '.join(envelope.rcpt_tos)}\r\n"
                 f"X-Sink-Received-At: {datetime.now(UTC).isoformat()}\r\n").encode()
        key = self.store.add(trace + (envelope.original_content or b""))
        self.stats["accepted"] += 1
        log.info("smtp-sink: stored %s for %s", key, ", ".join(envelope.rcpt_tos))
        return f"250 2.0.0 OK: queued as {key}"


def parse(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def summary(key: str, message: EmailMessage) -> dict[str, Any]:
    def get(name: str) -> str | None:
        return str(message[name]) if message[name] is not None else None

    return {
        "key": key, "received_at": get("X-Sink-Received-At"), "mail_from": get("X-Sink-Mail-From"),
        "rcpt_to": [a.strip() for a in (get("X-Sink-Rcpt-To") or "").split(",") if a.strip()],
        "from": get("From"), "to": get("To"), "subject": get("Subject"), "message_id": get("Message-ID"),
        "date": get("Date"), "order_id": get("X-Order-Id"), "kind": get("X-Mail-Kind"),
    }


def detail(key: str, message: EmailMessage) -> dict[str, Any]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    return {
        **summary(key, message),
        "headers": [[name, str(value)] for name, value in message.items()],
        "text": text.get_content() if isinstance(text, EmailMessage) else None,
        "html": html.get_content() if isinstance(html, EmailMessage) else None,
    }


@dataclass(kw_only=True)
class RunningSink:
    host: str
    smtp_port: int
    http_port: int
    maildir: Path
    store: mailbox.Maildir
    faults: Faults
    stats: dict[str, int]

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.http_port}"

    def messages(self) -> list[tuple[str, EmailMessage]]:
        """Every stored message, oldest first, parsed (tests read the sink without HTTP)."""
        found = [(key, parse(self.store.get_bytes(key))) for key in self.store.iterkeys()]
        return sorted(found, key=lambda item: str(item[1]["X-Sink-Received-At"]))


def http_app(sink: RunningSink) -> web.Application:
    def known(request: web.Request) -> str:
        key = request.match_info["key"]
        if key not in sink.store:
            raise web.HTTPNotFound(text=f"no message {key}")
        return key

    async def list_messages(_: web.Request) -> web.Response:
        # parsed in a thread: thousands of stored mails take a while, and /health must keep answering meanwhile
        # (a supervisor's liveness probe killed the sink while a chaos run's checker listed ~8000 mails)
        listing = await asyncio.to_thread(lambda: [summary(k, m) for k, m in sink.messages()])
        return web.json_response(listing)

    async def one(request: web.Request) -> web.Response:
        key = known(request)
        return web.json_response(detail(key, parse(sink.store.get_bytes(key))))

    async def raw(request: web.Request) -> web.Response:
        return web.Response(body=sink.store.get_bytes(known(request)), content_type="text/plain", charset="utf-8")

    async def clear(_: web.Request) -> web.Response:
        sink.store.clear()
        return web.json_response({"cleared": True})

    async def faults(request: web.Request) -> web.Response:
        if request.method == "POST":
            try:
                sink.faults.set(**await request.json())
            except (TypeError, ValueError) as exc:
                raise web.HTTPBadRequest(text=str(exc)) from None
        return web.json_response(sink.faults.describe())

    async def stats(_: web.Request) -> web.Response:
        return web.json_response({**sink.stats, "stored": len(sink.store)})

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok", "smtp": f"{sink.host}:{sink.smtp_port}"})

    app = web.Application()
    app.router.add_routes([
        web.get("/messages", list_messages), web.delete("/messages", clear), web.get("/messages/{key}", one),
        web.get("/messages/{key}/raw", raw), web.get("/faults", faults), web.post("/faults", faults),
        web.get("/stats", stats), web.get("/health", health),
    ])
    return app


def _bind(host: str, port: int) -> socket.socket:
    """A bound TCP socket. `IPPROTO_TCP` explicitly: only then does asyncio set TCP_NODELAY on accepted
    connections; without it aiosmtpd's line-by-line EHLO reply meets delayed ACKs (40 ms per mail)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


@asynccontextmanager
async def smtp_sink(maildir: Path | str = DEFAULT_MAILDIR, *, host: str = "127.0.0.1", smtp_port: int = 0,
                    http_port: int = 0) -> AsyncIterator[RunningSink]:
    """Run the sink in the current event loop; both ports listen when the block is entered."""
    path = Path(maildir)
    path.parent.mkdir(parents=True, exist_ok=True)
    store, faults = mailbox.Maildir(path, create=True), Faults()
    handler = SinkHandler(store, faults)
    loop = asyncio.get_running_loop()
    smtp_sock, http_sock = _bind(host, smtp_port), _bind(host, http_port)
    server = await loop.create_server(lambda: SMTP(handler, hostname="smtp-sink", ident="smtp-sink", loop=loop),
                                      sock=smtp_sock, backlog=1024)
    sink = RunningSink(host=host, smtp_port=smtp_sock.getsockname()[1], http_port=http_sock.getsockname()[1],
                       maildir=path, store=store, faults=faults, stats=handler.stats)
    runner = web.AppRunner(http_app(sink), access_log=None)
    await runner.setup()
    await web.SockSite(runner, http_sock).start()
    try:
        yield sink
    finally:
        await runner.cleanup()
        server.close()
        await server.wait_closed()


async def serve(args: argparse.Namespace) -> None:
    async with smtp_sink(args.maildir, host=args.host, smtp_port=args.smtp_port, http_port=args.http_port) as sink:
        print(f"smtp-sink: SMTP on {sink.host}:{sink.smtp_port}, HTTP on {sink.http_url}, Maildir {sink.maildir}",
              flush=True)
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            asyncio.get_running_loop().add_signal_handler(sig, stop.set)
        await stop.wait()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m deploy.local.smtp_sink", description=__doc__.split("\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=8025)
    parser.add_argument("--http-port", type=int, default=8026)
    parser.add_argument("--maildir", type=Path, default=DEFAULT_MAILDIR)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve(args))


if __name__ == "__main__":
    main()
