"""``giamngheo template``: an empty survey workbook to fill in."""

from __future__ import annotations

from pathlib import Path

import click

from cli.console import say, word


@click.command("template")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False),
              default=Path("mau-phieu-ra-soat.xlsx"), show_default=True,
              help="the workbook to write (.xlsx)")  # fmt: skip
def template_cmd(output: Path) -> None:
    """Write an empty survey workbook: the households and members sheets and the optional
    ones, Vietnamese headers, drop-down lists, formats and an instructions sheet.

    \b
    Example:
      giamngheo template -o mau-phieu-ra-soat.xlsx
    """
    from engine.errors import OutputError
    from engine.files import check_target, save_workbook
    from household_models.template import build_template

    if output.suffix.lower() != ".xlsx":
        raise OutputError("output_suffix", path=output, allowed=".xlsx")
    check_target(output)
    written = save_workbook(build_template(), output)
    say(word("template_written", path=written))
