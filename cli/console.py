"""The console of the command line: messages to standard error, never read as markup (a file
name may contain brackets), and the table of class counts."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table


def console() -> Console:
    """The console for messages (standard error), as wide as the terminal allows."""
    return Console(stderr=True, soft_wrap=True)


def say(text: str, style: str | None = None) -> None:
    """Print one message as plain text (no markup)."""
    console().print(text, markup=False, style=style, highlight=False)


def print_counts(counts: dict[str, int], labels: dict[str, dict[str, str]]) -> None:
    """Households per class, with the Vietnamese label and the share."""
    table = Table(title="Kết quả phân loại / classification")
    table.add_column("class")
    table.add_column("phân loại")
    table.add_column("số hộ / households", justify="right")
    total = sum(counts.values()) or 1
    table.add_column("%", justify="right")
    for cls, n in counts.items():
        table.add_row(cls, labels[cls]["vi"], str(n), f"{100 * n / total:.2f}")
    console().print(table)
