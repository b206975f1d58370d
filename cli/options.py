"""Options shared by the commands, and the rulebook they load."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from engine.loader import default_rulebook, load_rulebook
from engine.rulebook import Rulebook

F = TypeVar("F", bound=Callable[..., Any])


def parse_date(_ctx: click.Context | None, _param: click.Parameter | None,
               value: str | None) -> dt.date | None:  # fmt: skip
    """An ISO date option (``2025-06-30``)."""
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"'{value}' is not an ISO date such as 2025-06-30") from None


def as_of_option(required: bool = True) -> Callable[[F], F]:
    return click.option("--as-of", "as_of", required=required, callback=parse_date,
                        help="evaluation date (ISO, e.g. 2025-06-30): picks the standard and "
                        "the parameters in force")  # fmt: skip


def lang_option(help_text: str = "language of the texts") -> Callable[[F], F]:
    return click.option("--lang", type=click.Choice(["vi", "en"]), default="vi",
                        show_default=True, help=help_text)  # fmt: skip


def rules_option() -> Callable[[F], F]:
    return click.option("--rules", "rules_dir", type=click.Path(path_type=Path, file_okay=False),
                        default=None, help="rulebook folder (default: the bundled rules/)")  # fmt: skip


def rulebook(rules_dir: Path | None, as_of: dt.date | None = None) -> Rulebook:
    """The rulebook of ``--rules`` (default: the bundled one), checked to have a standard in
    force on ``as_of`` (an ``AsOfError`` otherwise)."""
    book = load_rulebook(rules_dir) if rules_dir is not None else default_rulebook()
    if as_of is not None:
        book.version_at(as_of)
    return book
