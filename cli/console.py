"""The console of the command line: messages to standard error, never read as markup (a file
name may contain brackets), and the table of class counts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from engine.text import format_number, words_file

if TYPE_CHECKING:
    from rich.console import Console


def word(key: str, **fields: Any) -> str:
    """A line of the command line's words (``cli/words.yaml``); numbers among the fields are
    written the Vietnamese way."""
    template: str = words_file("words.yaml", "cli")[key]
    return template.format(**{k: format_number(v) if isinstance(v, int) and not isinstance(
        v, bool) else v for k, v in fields.items()})  # fmt: skip


def console() -> Console:
    """The console for messages (standard error), as wide as the terminal allows."""
    from rich.console import Console  # loaded on first message: a query command starts faster

    return Console(stderr=True, soft_wrap=True)


def say(text: str, style: str | None = None) -> None:
    """Print one message as plain text (no markup)."""
    console().print(text, markup=False, style=style, highlight=False)


def print_counts(counts: dict[str, int], labels: dict[str, dict[str, str]]) -> None:
    """Households per class, with the Vietnamese label and the share."""
    from rich.table import Table

    table = Table(title=word("counts_title"))
    table.add_column("class")
    table.add_column(word("counts_label"))
    table.add_column(word("counts_households"), justify="right")
    total = sum(counts.values()) or 1
    table.add_column("%", justify="right")
    for cls, n in counts.items():
        table.add_row(cls, labels[cls]["vi"], format_number(n),
                      format_number(round(100 * n / total, 2), decimals=2))  # fmt: skip
    console().print(table)


def report_verified(verified: int, disagreements: int, durable: bool) -> None:
    """The cross-check's line: households re-evaluated on durable_rules and disagreements."""
    if not verified:
        return
    what = word("durable_engine" if durable else "crosscheck")
    say(word("verified", what=what, households=verified, disagreements=disagreements),
        style="red" if disagreements else None)  # fmt: skip
