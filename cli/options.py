"""Options shared by the commands, and the rulebook they load."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

from engine.evaluators import CROSSCHECK_MAX
from household_models.vocab import InvalidValue
from household_models.vocab import parse_date as read_date

if TYPE_CHECKING:
    from engine.rulebook import Rulebook

F = TypeVar("F", bound=Callable[..., Any])


def parse_date(_ctx: click.Context | None, _param: click.Parameter | None,
               value: str | None) -> dt.date | None:  # fmt: skip
    """A date option, written as input dates are: ``2025-06-30`` or ``30/06/2025``."""
    if value is None:
        return None
    try:
        return read_date(value)
    except InvalidValue:
        raise click.BadParameter(f"'{value}' không phải ngày / is not a date; write 2025-06-30 "
                                 "or 30/06/2025") from None


def as_of_option(required: bool = True) -> Callable[[F], F]:
    return click.option("--as-of", "as_of", required=required, callback=parse_date,
                        help="evaluation date (2025-06-30 or 30/06/2025): picks the standard "
                        "and the parameters in force")  # fmt: skip


def lang_option(help_text: str = "language of the texts") -> Callable[[F], F]:
    return click.option("--lang", type=click.Choice(["vi", "en"]), default="vi",
                        show_default=True, help=help_text)  # fmt: skip


def rules_option() -> Callable[[F], F]:
    return click.option("--rules", "rules_dir", type=click.Path(path_type=Path, file_okay=False),
                        default=None, help="rulebook folder (default: the bundled rules/)")  # fmt: skip


def verify_options(f: F) -> F:
    """``--verify`` and ``--verify-max``: the durable_rules cross-check of a classification."""
    f = click.option("--verify-max", type=click.IntRange(0, None), default=CROSSCHECK_MAX,
                     show_default=True, help="at most this many households in the cross-check "
                     "(0: no limit; per chunk with --chunk-size)")(f)  # fmt: skip
    return click.option("--verify", type=click.FloatRange(0, 1), default=0.01,
                        show_default=True, help="cross-check on durable_rules: a few households "
                        "of every decision pattern and of every threshold value, plus this share "
                        "drawn at random (0 disables, 1 checks every household)")(f)  # fmt: skip


def rulebook(rules_dir: Path | None, as_of: dt.date | None = None) -> Rulebook:
    """The rulebook of ``--rules`` (default: the bundled one), checked to have a standard in
    force on ``as_of`` (an ``AsOfError`` otherwise)."""
    from engine.loader import cached_rulebook, default_rulebook

    book = cached_rulebook(rules_dir) if rules_dir is not None else default_rulebook()
    if as_of is not None:
        book.version_at(as_of)
    return book


def cluster_option() -> Callable[[F], F]:
    """``--cluster``: a partitioned dataset folder run on Dask."""
    return click.option(
        "--cluster", default=None, metavar="local[:N]|ADDRESS",
        help="a partitioned dataset folder on Dask: local starts a cluster of N worker "
        "processes on this machine (default one per CPU), an address (tcp://host:8786) uses a "
        "running scheduler; without it the partitions run in this process")  # fmt: skip
