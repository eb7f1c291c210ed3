"""HTTP adapter of the emulator (aiohttp): the real e-SCOTT paths, the token script, fault injection.

Thin by design: parse the form, draw a fault, call ``Engine.handle``, frame the reply. aiohttp is used
because it gives direct access to the TCP transport (a reset *after* processing is an ``abort()`` with
SO_LINGER 0) and cancels a handler whose client went away (a held "no answer" request ends with its
client), while serving thousands of 1Auth per second on one core.
"""

from __future__ import annotations

import asyncio
import socket
import struct
from collections.abc import Awaitable, Callable

from aiohttp import web

from emulator import admin
from emulator.engine import Engine
from emulator.faults import Action
from emulator.runtime import Runtime
from emulator.tds_pages import TdsRoutes
from emulator.tokenjs import TOKEN_PATH, token_script
from emulator.wire import encode_reply, parse_params

RUNTIME = web.AppKey("runtime", Runtime)
GARBAGE = b"<html><body>\r\n\r\nProxy Error\x00\xff"
PLAIN = "text/plain"


def reset_connection(request: web.Request) -> None:
    """Drop the connection with a TCP RST and no HTTP answer."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def _gateway(endpoint: str) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    async def handle(request: web.Request) -> web.StreamResponse:
        """One server-to-server message; faults are applied around ``Engine.handle``."""
        runtime = request.app[RUNTIME]
        runtime.enter()
        try:
            params = parse_params(request.query_string, await request.read())
            return await _answer(request, runtime, endpoint=endpoint, params=params)
        finally:
            runtime.leave()

    return handle


async def _answer(request: web.Request, runtime: Runtime, *, endpoint: str,
                  params: dict[str, str]) -> web.StreamResponse:
    operate_id = params.get("OperateId", "")
    decision = runtime.faults.decide(operate_id)
    if decision.delay:
        await asyncio.sleep(decision.delay)
    if decision.action is not Action.NONE:
        runtime.record_fault(operate_id, decision.action.value)
    if decision.action is Action.HTTP_5XX:
        return web.Response(status=decision.status, text="Service Unavailable", content_type=PLAIN)
    reply = None if decision.action is Action.NO_ANSWER else runtime.engine.handle(endpoint, params)
    if reply is None or reply.stall:
        await runtime.hold()
        reset_connection(request)
        return web.Response(status=504)
    if decision.action is Action.RESET_AFTER:
        reset_connection(request)
        return web.Response(status=500)
    if decision.action is Action.GARBAGE:
        return web.Response(body=GARBAGE, content_type=PLAIN)
    return web.Response(body=encode_reply(reply.fields), content_type=PLAIN)


async def token_js(request: web.Request) -> web.Response:
    """The browser token script for the merchant named by ``k_TokenNinsyoCode``."""
    code = request.query.get("k_TokenNinsyoCode", "")
    script = token_script(str(request.url.origin()), code)
    return web.Response(text=script, content_type="application/javascript",
                        headers={"Access-Control-Allow-Origin": "*", "Cache-Control": "no-store"})


async def create_token(request: web.Request) -> web.Response:
    """Issue a token: ``token=…`` on success, HTTP 400 ``ResponseCd=<codes>`` otherwise (CORS open)."""
    runtime = request.app[RUNTIME]
    params = parse_params(request.query_string, await request.read())
    token, codes = runtime.engine.mint_token(params)
    cors = {"Access-Control-Allow-Origin": "*"}
    if token is None:
        return web.Response(status=400, body=encode_reply({"ResponseCd": "|".join(codes)}),
                            content_type=PLAIN, headers=cors)
    return web.Response(body=encode_reply({"token": token}), content_type=PLAIN, headers=cors)


def create_app(engine: Engine, runtime: Runtime | None = None) -> web.Application:
    """Build the aiohttp application around ``engine`` (the only composition point of the HTTP layer)."""
    app = web.Application(client_max_size=64 * 1024)
    runtime = runtime or Runtime(engine=engine)
    app[RUNTIME] = runtime
    app.router.add_post("/online/aut/OAUT002.do", _gateway("aut"))
    app.router.add_post("/online/crp/OCRP005.do", _gateway("crp"))
    app.router.add_post("/online/atn/OATN005.do", _gateway("atn"))
    app.router.add_get("/euser/stn/CdGetJavaScript.do", token_js)
    app.router.add_post(TOKEN_PATH, create_token)
    app.router.add_post("/_emulator/tokens", create_token)
    admin.AdminApi(runtime).register(app.router)
    TdsRoutes(runtime).register(app.router)

    async def release_holds(_: web.Application) -> None:
        runtime.release_held()

    app.on_shutdown.append(release_holds)
    return app
