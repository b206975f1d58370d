"""What every page of the web layer shares: its words, the page renderer, the visit of a
request, the anti-forgery check and ``Refused`` (a request answered with a message page)."""

from __future__ import annotations

import hmac
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from starlette.datastructures import FormData

from cli.web.state import State, Visit
from engine.errors import GiamngheoError
from engine.text import format_number, words_file

HERE = Path(__file__).parent
VISIT_COOKIE, TOKEN_COOKIE = "gn_visit", "gn_token"


def words(lang: str) -> dict[str, str]:
    return {k: v[lang] for k, v in words_file("words.yaml", "cli.web").items()}


class Refused(GiamngheoError):  # noqa: N818 - a page, not a failure of the server
    """A request answered with a message page of the web's words (forbidden, too large,
    unknown): the page's own refusals, beside the library's errors."""

    def __init__(self, status: int, key: str, **fields: Any) -> None:  # noqa: D107
        Exception.__init__(self, key)  # its words are the page's (words.yaml), not the catalogue
        self.code, self.problems, self.vi, self.en = key, [], key, key
        self.status, self.key, self.fields = status, key, fields


def templates() -> Jinja2Templates:
    found = Jinja2Templates(directory=str(HERE / "templates"))
    found.env.filters["n"] = lambda v, lang="vi": "" if v is None else format_number(v, lang)
    return found


def visit_of(request: Request) -> Visit:
    return request.state.visit  # type: ignore[no-any-return]


def message(request: Request, status: int, key: str, *, text: list[str] | None = None,
            **fields: Any) -> HTMLResponse:  # fmt: skip
    """A page with one message: ``key`` of the words, or the lines ``text`` (a library
    error's Vietnamese, English and problems), in the visit's language first."""
    visit = getattr(request.state, "visit", None)
    lang = visit.lang if visit is not None else "vi"
    w = words(lang)
    if text is not None and lang == "en" and len(text) > 1:
        text = [text[1], text[0], *text[2:]]
    lines = text if text is not None else [w[key].format(**fields)]
    body = request.app.state.templates.get_template("message.html").render(
        w=w, lang=lang, lines=lines)  # fmt: skip
    return HTMLResponse(body, status_code=status)


def page(request: Request, name: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page of ``templates/`` in the visit's language, with the visit's token and messages."""
    visit = visit_of(request)
    messages, visit.messages = visit.messages, []
    state: State = request.app.state.web
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request, name, {"w": words(visit.lang), "lang": visit.lang, "csrf": visit.csrf,
                        "visit": visit, "messages": messages, "path": request.url.path,
                        "registry": state.settings.registry, **context},
        status_code=status)  # fmt: skip
    return response


async def check_csrf(request: Request) -> FormData:
    """The POSTed form, once its anti-forgery token (field ``csrf`` or header
    ``X-CSRF-Token``) is the visit's; a ``Refused`` page otherwise."""
    form = await request.form(max_files=20, max_fields=200)
    given = str(form.get("csrf") or request.headers.get("x-csrf-token") or "")
    if not hmac.compare_digest(given.encode(), visit_of(request).csrf.encode()):
        raise Refused(403, "forbidden")
    return form


