"""Bodies with text PostgreSQL cannot store (NUL, unpaired surrogates) get a 422 naming the field, before any
handler runs; ordinary Japanese text passes."""

from __future__ import annotations

import httpx
from fastapi import Depends, FastAPI
from pydantic import BaseModel

from delivery.problems import install_problem_handlers
from delivery.storable_text import reject_unstorable_text


class Body(BaseModel):
    name: str
    tags: list[str] = []


def _app(reached: list[Body]) -> FastAPI:
    app = FastAPI(dependencies=[Depends(reject_unstorable_text)])
    install_problem_handlers(app, service="test")

    @app.post("/things")
    async def things(body: Body) -> dict[str, str]:
        reached.append(body)
        return {"ok": "yes"}

    return app


async def _post(raw: str) -> tuple[httpx.Response, list[Body]]:
    reached: list[Body] = []
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=_app(reached)), base_url="http://t") as client:
        response = await client.post("/things", content=raw.encode(), headers={"Content-Type": "application/json"})
    return response, reached


async def test_nul_and_lone_surrogates_are_refused_with_the_field_and_nothing_reaches_the_handler():
    for raw, loc in (('{"name": "a\\u0000b"}', ["body", "name"]), ('{"name": "x", "tags": ["ok", "\\ud800"]}',
                                                                     ["body", "tags", "1"])):
        response, reached = await _post(raw)
        assert response.status_code == 422 and reached == [], response.text
        [error] = response.json()["errors"]
        assert error["loc"] == loc and "NUL" in error["msg"]


async def test_ordinary_text_including_japanese_and_emoji_passes():
    response, reached = await _post('{"name": "山田 太郎 🍵", "tags": ["煎茶"]}')
    assert response.status_code == 200 and reached[0].name == "山田 太郎 🍵"
