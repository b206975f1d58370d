"""The web application: one FastAPI app over the library's public API, its pages rendered by
Jinja2 (every value escaped), htmx shipped in ``static/`` (no network). Every request passes
``guard``: the access token when the server listens beyond this machine, the upload limit,
and the visit cookie; every state-changing request is a POST carrying the visit's
anti-forgery token (``check_csrf``)."""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from cli.web.common import HERE, TOKEN_COOKIE, VISIT_COOKIE, Refused, message, templates
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
                return message(request, 401, "token_needed")
        length = request.headers.get("content-length")
        if length and length.isdigit() and int(length) > settings.max_upload_mb * 1_000_000:
            return message(request, 413, "too_large", limit=settings.max_upload_mb)
        visit = state.visit(request.cookies.get(VISIT_COOKIE))
        request.state.visit = visit
        response = await call_next(request)
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
        return message(request, exc.status_code, key)

    @app.exception_handler(Refused)
    async def refused(request: Request, exc: Refused) -> Response:
        return message(request, exc.status, exc.key, **exc.fields)

    @app.exception_handler(GiamngheoError)
    async def user_error(request: Request, exc: GiamngheoError) -> Response:
        # the command line's message, in the visit's language first, with every problem
        lines = [line for p in exc.problems for line in p.lines()]
        return message(request, 400, "", text=[exc.vi, exc.en, *lines])

    @app.exception_handler(Exception)
    async def internal(request: Request, exc: Exception) -> Response:
        import traceback

        traceback.print_exception(exc)  # to the terminal only
        return message(request, 500, "internal")

    views_batch.register(app)
    views_more.register(app)
    return app

