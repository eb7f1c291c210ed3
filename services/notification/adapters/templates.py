"""`Renderer` over Jinja2: built-in Japanese templates, overridable per shop from a directory.

Each mail kind has three templates: `<kind>.subject.j2`, `<kind>.txt.j2` (always) and `<kind>.html.j2`
(optional; autoescaped). Lookup order for every file, includes too:

    <templates_dir>/<shop_id>/<name>    one shop's override
    <templates_dir>/<name>              an override for every shop
    services/notification/templates/<name>   built-in

Why a directory rather than database rows: templates are reviewed and versioned like code, deployed with the
service, and need no editing API yet. A shop id that is not a plain file name never reaches the file system.
The environment is sandboxed and undefined variables are errors, so a broken override fails the mail with a
reason instead of sending a half-empty one.

Templates are read once per process (deployed with the service, a change takes effect at its restart): which file
serves a shop's template, or that it has none, is looked up the first time and kept, so rendering a mail touches
no file and raises no TemplateNotFound for the lookups that miss.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from jinja2 import ChoiceLoader, FileSystemLoader, StrictUndefined, Template, TemplateError, TemplateNotFound
from jinja2.sandbox import SandboxedEnvironment

from services.notification.domain.compose import installments_label, yen
from services.notification.ports import RenderedMail, RenderError

BUILTIN = Path(__file__).resolve().parents[1] / "templates"
_SAFE_SHOP_DIR = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]*$")


class JinjaRenderer:
    def __init__(self, overrides: Path | None = None):
        loaders = [FileSystemLoader(str(overrides))] if overrides is not None else []
        self._env = SandboxedEnvironment(
            loader=ChoiceLoader([*loaders, FileSystemLoader(str(BUILTIN))]),
            autoescape=lambda name: bool(name and name.endswith(".html.j2")),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,
        )
        self._chosen: dict[tuple[str, str], Template | None] = {}
        self._env.filters["yen"] = yen
        self._env.filters["installments"] = installments_label

    def render(self, kind: str, *, shop_id: str, context: dict[str, Any]) -> RenderedMail:
        try:
            subject = self._render(shop_id, f"{kind}.subject.j2", context)
            text = self._render(shop_id, f"{kind}.txt.j2", context)
            html = self._render_optional(shop_id, f"{kind}.html.j2", context)
        except TemplateError as exc:
            raise RenderError(f"template error in {kind} mail: {type(exc).__name__}: {exc}") from None
        return RenderedMail(subject=" ".join(subject.split()), text=text, html=html)

    def _render(self, shop_id: str, name: str, context: dict[str, Any]) -> str:
        template = self._template(shop_id, name)
        if template is None:
            raise TemplateNotFound(name)
        return template.render(context)

    def _template(self, shop_id: str, name: str) -> Template | None:
        """The shop's override, the one for every shop or the built-in; None when there is none (kept too)."""
        key = (shop_id, name) if _SAFE_SHOP_DIR.match(shop_id) else ("", name)
        if key not in self._chosen:
            candidates = [f"{shop_id}/{name}", name] if key[0] else [name]
            try:
                self._chosen[key] = self._env.select_template(candidates)
            except TemplateNotFound:
                self._chosen[key] = None
        return self._chosen[key]

    def _render_optional(self, shop_id: str, name: str, context: dict[str, Any]) -> str | None:
        try:
            return self._render(shop_id, name, context)
        except TemplateNotFound:
            return None
