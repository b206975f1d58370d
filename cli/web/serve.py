"""``giamngheo serve``: the local web page, on this machine (127.0.0.1) by default; any other
address needs an access token, generated and printed or read from a file."""

from __future__ import annotations

import ipaddress
import secrets
import threading
import webbrowser
from pathlib import Path

import click

from cli.console import say, word
from cli.options import rules_option


def is_local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="the address to listen on; any but this machine's needs a token")  # fmt: skip
@click.option("--port", default=8765, show_default=True, type=click.IntRange(1, 65535))
@click.option("--registry", "registry_path", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="the review registry to show and record into")  # fmt: skip
@click.option("--token-file", type=click.Path(path_type=Path, dir_okay=False, exists=True),
              default=None, help="read the access token from this file (else one is generated "
              "when --host is not this machine)")  # fmt: skip
@click.option("--max-upload-mb", default=200, show_default=True, type=click.IntRange(1, 10_000),
              help="the largest upload accepted")  # fmt: skip
@click.option("--no-browser", is_flag=True, help="do not open the browser")
@rules_option()
def serve_cmd(host: str, port: int, registry_path: Path | None, token_file: Path | None,
              max_upload_mb: int, no_browser: bool, rules_dir: Path | None) -> None:  # fmt: skip
    """Open the web page: classify a survey, read its errors and results, explain a household,
    run scenarios, download the forms, keep the registry (Ctrl+C stops it).

    \b
    Examples:
      giamngheo serve
      giamngheo serve --registry hungyen.duckdb
      giamngheo serve --host 0.0.0.0 --token-file token.txt
    """
    import uvicorn

    from cli.web.app import create_app
    from cli.web.state import Settings

    token = None
    if token_file is not None:
        token = token_file.read_text("utf-8").strip() or None
    if token is None and not is_local(host):
        token = secrets.token_urlsafe(24)
    settings = Settings(registry=registry_path, token=token, max_upload_mb=max_upload_mb,
                        rules_dir=rules_dir)  # fmt: skip
    app = create_app(settings)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    url = f"http://{shown}:{port}/" + (f"?token={token}" if token else "")
    say(word("serve_at", url=url))
    if token is not None:
        say(word("serve_token"))
    config = uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False)
    server = uvicorn.Server(config)
    if not no_browser:
        def open_when_up() -> None:
            while not server.started:
                if server.should_exit:
                    return
                threading.Event().wait(0.1)
            webbrowser.open(url)

        threading.Thread(target=open_when_up, daemon=True).start()
    server.run()
