"""Sessions kept in the browser's cookie, encrypted and signed with the front end's session key (Fernet:
AES-128-CBC + HMAC-SHA256, `cryptography`). What a session knows (an operator key, a cart) can be neither read nor
changed without the key; it survives a restart of the front end and is shared by every replica given the same key.
The cookie is HttpOnly and SameSite; it expires after `idle_s` without a request (the time is inside the signed
token, so an old cookie cannot be replayed past it). Every session carries its CSRF token, checked on every form
post (`check_csrf`).

Each request's session is read once (`load`) and written back by the middleware `install` adds, after the page
ran: pages just change `session.data`. `start` begins a new session (a login: a new id and CSRF token, no session
fixation); `end` clears the cookie. Logging out cannot revoke a copy of the cookie taken before: it stays valid
until its idle time runs out, like a stolen server-side session id would until it expired.
"""

from __future__ import annotations

import base64
import hmac
import json
import logging
import secrets
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from fastapi import FastAPI, HTTPException, Request, Response

MAX_COOKIE_BYTES = 4000  # browsers keep cookies up to 4096 bytes (name and value)
MAX_SESSION_BYTES = 64 * 1024  # a decompressed session larger than this is refused (no zip bomb)
_UNSET = object()
log = logging.getLogger(__name__)


def dev_only_key(purpose: str) -> str:
    """The local default session key of one front end: public, so every cookie it seals is readable by anyone
    with this repository. Deployments set their own (`CONSOLE_SESSION_KEYS`, `STOREFRONT_SESSION_KEYS`)."""
    return base64.urlsafe_b64encode(f"DEV-ONLY {purpose} session key".ljust(32, ".")[:32].encode()).decode()


@dataclass(kw_only=True)
class Session:
    session_id: str
    csrf: str
    data: dict[str, Any] = field(default_factory=dict)


class SessionStore:
    """Sessions sealed into the cookie `cookie`. `keys`: Fernet keys, the first seals, all open (rotation)."""

    def __init__(self, *, keys: Sequence[str], cookie: str, idle_s: int = 8 * 3600, secure_cookie: bool = False,
                 same_site: Literal["strict", "lax"] = "strict"):
        if not keys:
            raise ValueError("at least one session key")
        self._fernet = MultiFernet([Fernet(key.strip().encode()) for key in keys])
        self.cookie, self.idle_s, self.secure_cookie, self.same_site = cookie, idle_s, secure_cookie, same_site

    def load(self, request: Request) -> Session | None:
        """The request's session (read from its cookie once), or None."""
        found = getattr(request.state, "session", _UNSET)
        if found is _UNSET:
            found = self._open(request.cookies.get(self.cookie, ""))
            request.state.session = found
        return found  # type: ignore[return-value]

    def ensure(self, request: Request) -> Session:
        """The request's session, or a new one (its cookie goes with the response)."""
        return self.load(request) or self.start(request)

    def start(self, request: Request) -> Session:
        """A fresh session: a new id and CSRF token (a login starts one: no session fixation)."""
        session = Session(session_id=secrets.token_urlsafe(16), csrf=secrets.token_urlsafe(32))
        request.state.session = session
        return session

    def end(self, request: Request) -> None:
        """No session any more: the response clears the cookie."""
        request.state.session = None

    def write(self, request: Request, response: Response) -> None:
        """Seal the request's session into the response's cookie (refreshing its idle time), or clear a cookie whose
        session ended, expired or could not be opened. A request that never looked at its session changes nothing."""
        session = getattr(request.state, "session", _UNSET)
        if session is _UNSET:
            return
        if not isinstance(session, Session):
            if self.cookie in request.cookies:
                response.delete_cookie(self.cookie, path="/", httponly=True, samesite=self.same_site,
                                       secure=self.secure_cookie)
            return
        value = self.seal(session)
        if len(self.cookie) + len(value) > MAX_COOKIE_BYTES:
            log.warning("session too large for a cookie (%d bytes): its changes in this request are dropped",
                        len(value))
            return
        response.set_cookie(self.cookie, value, max_age=self.idle_s, httponly=True, samesite=self.same_site,
                            secure=self.secure_cookie, path="/")

    def seal(self, session: Session) -> str:
        text = json.dumps({"app": self.cookie, "id": session.session_id, "csrf": session.csrf, "data": session.data},
                          ensure_ascii=False, separators=(",", ":"))
        return self._fernet.encrypt(zlib.compress(text.encode(), 9)).decode()

    def _open(self, value: str) -> Session | None:
        if not value:
            return None
        try:
            packed = self._fernet.decrypt(value.encode(), ttl=self.idle_s)
            inflater = zlib.decompressobj()
            raw = inflater.decompress(packed, MAX_SESSION_BYTES)
            if inflater.unconsumed_tail:
                return None
            body = json.loads(raw)
        except (InvalidToken, zlib.error, ValueError):
            return None
        if not isinstance(body, dict) or body.get("app") != self.cookie or not isinstance(body.get("data"), dict):
            return None  # another front end's cookie sealed with the same key is not this one's session
        return Session(session_id=str(body.get("id", "")), csrf=str(body.get("csrf", "")), data=body["data"])


def store_from(*, keys: str, purpose: str, idle_s: int, secure_cookie: bool,
               same_site: Literal["strict", "lax"] = "strict") -> SessionStore:
    """A front end's store from its settings (comma-separated keys); a warning while the public dev key seals."""
    found = [key for key in keys.split(",") if key.strip()]
    if found and found[0].strip() == dev_only_key(purpose):
        log.warning("%s sessions are sealed with the public dev-only key: set %s_SESSION_KEYS outside this machine",
                    purpose, purpose.upper())
    return SessionStore(keys=found, cookie=f"{purpose}_session", idle_s=idle_s, secure_cookie=secure_cookie,
                        same_site=same_site)


def install(app: FastAPI, store: SessionStore) -> None:
    """Write every request's session back into its response (added last: it wraps the app's other middleware)."""

    @app.middleware("http")
    async def sessions(request: Request, call_next):  # type: ignore[no-untyped-def]
        response: Response = await call_next(request)
        store.write(request, response)
        return response


def check_csrf(session: Session | None, form: dict[str, str]) -> None:
    """403 unless the form carries the session's CSRF token (compared in constant time)."""
    sent = form.get("csrf", "")
    if session is None or not sent or not hmac.compare_digest(sent.encode(), session.csrf.encode()):
        raise HTTPException(403, "セッションの有効期限が切れたか、不正なフォーム送信です。もう一度お試しください。")
