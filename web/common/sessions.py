"""Server-side sessions: the browser holds only a random id (HttpOnly, SameSite=Strict cookie); what a session
knows (an operator key, a cart) stays in this process. Every session carries its CSRF token, checked on every
form post (`check_csrf`). Sessions live in memory: a restart of the front end logs everybody out, nothing else.
"""

from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException, Request, Response

COOKIE = "sid"


@dataclass(kw_only=True)
class Session:
    session_id: str
    csrf: str
    data: dict[str, Any] = field(default_factory=dict)
    touched: float = field(default_factory=time.monotonic)


class SessionStore:
    """In-memory sessions with an idle timeout; `max_sessions` bounds memory (the oldest go first)."""

    def __init__(self, *, idle_s: float = 8 * 3600, max_sessions: int = 10_000, secure_cookie: bool = False):
        self._sessions: dict[str, Session] = {}
        self.idle_s, self.max_sessions, self.secure_cookie = idle_s, max_sessions, secure_cookie

    def load(self, request: Request) -> Session | None:
        session = self._sessions.get(request.cookies.get(COOKIE, ""))
        if session is None:
            return None
        now = time.monotonic()
        if now - session.touched > self.idle_s:
            del self._sessions[session.session_id]
            return None
        session.touched = now
        return session

    def ensure(self, request: Request, response: Response) -> Session:
        """The request's session, or a new one whose cookie `response` sets."""
        return self.load(request) or self.start(response)

    def start(self, response: Response) -> Session:
        """A fresh session (a login starts one: the id before it is never reused, no session fixation)."""
        if len(self._sessions) >= self.max_sessions:
            oldest = min(self._sessions.values(), key=lambda s: s.touched)
            del self._sessions[oldest.session_id]
        session = Session(session_id=secrets.token_urlsafe(32), csrf=secrets.token_urlsafe(32))
        self._sessions[session.session_id] = session
        self.set_cookie(response, session)
        return session

    def set_cookie(self, response: Response, session: Session) -> None:
        response.set_cookie(COOKIE, session.session_id, httponly=True, samesite="strict", secure=self.secure_cookie,
                            path="/")

    def end(self, request: Request, response: Response) -> None:
        self._sessions.pop(request.cookies.get(COOKIE, ""), None)
        response.delete_cookie(COOKIE, path="/")


def check_csrf(session: Session | None, form: dict[str, str]) -> None:
    """403 unless the form carries the session's CSRF token (compared in constant time)."""
    sent = form.get("csrf", "")
    if session is None or not sent or not hmac.compare_digest(sent.encode(), session.csrf.encode()):
        raise HTTPException(403, "セッションの有効期限が切れたか、不正なフォーム送信です。もう一度お試しください。")
