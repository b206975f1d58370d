"""The web application: one FastAPI app over the library's public API, its pages rendered by
Jinja2 (every value escaped), htmx shipped in ``static/`` (no network). Every request passes
``guard``: the access token when the server listens beyond this machine, the upload limit,
and the visit cookie; every state-changing request is a POST carrying the visit's
anti-forgery token (``check_csrf``)."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from cli.web.common import HERE, TOKEN_COOKIE, VISIT_COOKIE, Refused, templates, words
from cli.web.state import Settings, State
from engine.errors import GiamngheoError


def create_app(settings: Settings) -> FastAPI:
    """The application of one ``giamngheo serve``."""
    from cli.web import views_batch, views_more

    state = State(settings)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        state.close()  # the uploads go when the server stops

    app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    app.state.web = state
    app.state.templates = templates()
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.middleware("http")
    async def guard(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        token = settings.token
        from_query = request.query_params.get("token")
        if token is not None:
            given = request.cookies.get(TOKEN_COOKIE) or from_query or \
                request.headers.get("authorization", "").removeprefix("Bearer ")  # fmt: skip
            if not hmac.compare_digest(str(given).encode(), token.encode()):
                return _message(request, state, 401, "token_needed")
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > settings.max_upload_mb * 1_000_000:
            return _message(request, state, 413, "too_large", limit=settings.max_upload_mb)
        visit = state.visit(request.cookies.get(VISIT_COOKIE))
        request.state.visit = visit
        try:
            response = await call_next(request)
        except Refused as refused:
            response = _message(request, state, refused.status, refused.key, **refused.fields)
        if request.cookies.get(VISIT_COOKIE) != visit.id:
            response.set_cookie(VISIT_COOKIE, visit.id, httponly=True, samesite="strict")
        if token is not None and from_query:
            response.set_cookie(TOKEN_COOKIE, token, httponly=True, samesite="strict")
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        return response

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        key = "not_found" if exc.status_code == 404 else "forbidden"
        return _message(request, state, exc.status_code, key)

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        return _message(request, state, exc.status, exc.key, **exc.fields)

    @app.exception_handler(GiamngheoError)
    async def user_error(request: Request, exc: GiamngheoError) -> Response:
        # the command line's message, in the visit's language first, with every problem
        lines = [line for p in exc.problems for line in p.lines()]
        return _message(request, state, 400, "", text=[exc.vi, exc.en, *lines])

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> Response:
        import traceback

        traceback.print_exception(exc)  # to the terminal only
        return _message(request, state, 500, "internal")

    views_batch.register(app)
    views_more.register(app)
    return app


def _message(request: Request, state: State, status: int, key: str, *,
             text: list[str] | None = None, **fields: Any) -> Response:  # fmt: skip
    """A page with one message (``key`` of the words, or the lines ``text``), escaped."""
    lang = "vi"
    visit = getattr(request.state, "visit", None)
    if visit is not None:
        lang = visit.lang
    w = words(lang)
    if text is not None and lang == "en" and len(text) > 1:
        text = [text[1], text[0], *text[2:]]
    lines = text if text is not None else [w[key].format(**fields)]
    shown = "".join(f"<p>{_esc(line)}</p>" for line in lines)
    body = (f'<!DOCTYPE html><html lang="{lang}"><head><meta charset="utf-8">'
            f'<link rel="stylesheet" href="/static/style.css"><title>{w["app"]}</title></head>'
            f'<body><main><h1>{w["app"]}</h1><div class="error" role="alert">{shown}</div>'
            f'<p><a href="/">{w["nav_classify"]}</a></p></main></body></html>')  # fmt: skip
    return HTMLResponse(body, status_code=status)


def _esc(text: str) -> str:
    import html

    return html.escape(text)
