"""The web page under test: a test client over the app (route tests) and a real uvicorn
server on 127.0.0.1 (browser tests), each with its own settings; helpers to post with the
visit's anti-forgery token, upload a survey and wait for its job."""

from __future__ import annotations

import re
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from cli.web.app import create_app
from cli.web.state import Settings

CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def token_of(client: TestClient) -> str:
    found = CSRF.search(client.get("/").text)
    assert found, "no anti-forgery token on the page"
    return found.group(1)


def wait(client: TestClient, location: str, limit: float = 120) -> Any:
    """Follow a job page until it is done: the response it ends with."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        r = client.get(location, follow_redirects=False)
        if r.status_code != 200 or 'id="job-error"' in r.text:
            return r
        time.sleep(0.1)
    raise AssertionError(f"{location} still running after {limit} s")


def upload(client: TestClient, paths: list[Path], as_of: str = "2025-06-30") -> Any:
    """Post survey files to the classify page; the response the job ends with."""
    files = [("files", (p.name, p.read_bytes(), "application/octet-stream")) for p in paths]
    r = client.post("/classify", data={"csrf": token_of(client), "as_of": as_of}, files=files,
                    follow_redirects=False)  # fmt: skip
    if r.status_code != 303:
        return r
    return wait(client, r.headers["location"])


@contextmanager
def client(**settings: Any) -> Iterator[TestClient]:
    app = create_app(Settings(**settings))
    with TestClient(app) as c:
        c.app_state = app.state.web  # type: ignore[attr-defined]
        yield c


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(**settings: Any) -> Iterator[str]:
    """A real uvicorn server in a thread; its address."""
    import uvicorn

    port = free_port()
    app = create_app(Settings(**settings))
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                        access_log=False))  # fmt: skip
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not srv.started:
        assert time.monotonic() < deadline, "the server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(timeout=30)
