"""The ``giamngheo`` command group and its one error handler.

Every command raises the engine's errors (``engine.errors``); this handler prints the message
in Vietnamese and English, with the list of problems where there is one, and exits with the
error's code (0 done, 1 a check failed, 2 bad input, 3 bad rules, 4 output; docs/errors.md).
No bad input, rulebook, scenario or output ends in a traceback.
"""

from __future__ import annotations

import importlib
import signal
from typing import Any

import click

from cli.console import say
from engine.errors import GiamngheoError
from engine.memory import reuse_freed_memory

# Each command's module, loaded when the command runs (or when --help lists them all): a
# command pays only for what it imports, and ``review history`` never loads pandas.
COMMANDS = {
    "classify": "cli.classify:classify_cmd",
    "explain": "cli.explain:explain_cmd",
    "report": "cli.report:report_group",
    "review": "cli.review:review_group",
    "rules": "cli.rules:rules_group",
    "sample": "cli.sample:sample_cmd",
    "serve": "cli.web.serve:serve_cmd",
    "simulate": "cli.simulate:simulate_cmd",
    "template": "cli.template:template_cmd",
    "test": "cli.test:test_cmd",
}


class Group(click.Group):
    """A click group whose commands share one handler for the engine's errors, each command
    loaded from its module (``COMMANDS``) on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS and cmd_name not in self.commands:
            module, attr = COMMANDS[cmd_name].split(":")
            self.add_command(getattr(importlib.import_module(module), attr), cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GiamngheoError as exc:
            say(exc.text(), style=None if exc.exit_code == 1 else "red")
            ctx.exit(exc.exit_code)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="giamngheo")
def main() -> None:
    """giamngheo: phân loại hộ nghèo đa chiều và đề xuất hỗ trợ (Hưng Yên).

    Multidimensional poverty classification and support planning.
    Exit codes: 0 done, 1 a check failed, 2 bad input, 3 bad rules, 4 output not written.
    """


def _terminate(signum: int, _frame: object) -> None:
    """SIGTERM ends the run like Ctrl+C: temporary files are removed on the way out."""
    raise SystemExit(128 + signum)


def run() -> None:
    """The console entry point: the command group with SIGTERM handled, freed memory reused."""
    signal.signal(signal.SIGTERM, _terminate)
    reuse_freed_memory()
    main()


if __name__ == "__main__":  # pragma: no cover
    run()
