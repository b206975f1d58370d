"""``giamngheo sample``: a deterministic synthetic Hưng Yên survey batch."""

from __future__ import annotations

from pathlib import Path

import click
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from cli.console import console, say, word
from engine.errors import OutputError
from engine.files import EXCEL_MAX_ROWS, TableAppender, check_target, write_tables
from engine.synthetic import PART_SIZE, PROVINCE_2025, generate, generate_parts, plan_districts

# Members per household in the synthetic population, on average: a workbook whose members sheet
# would pass Excel's row limit is refused before anything is drawn (the writer checks again).
MEAN_MEMBERS = 3.5


@click.command("sample")
@click.option("-o", "--output", required=True, type=click.Path(path_type=Path),
              help="households file (.parquet, .csv or .xlsx); members go beside it")  # fmt: skip
@click.option("--households", type=click.IntRange(1, 20_000_000), default=None,
              help="number of households (spread over the districts as in the plan)")
@click.option("--province", is_flag=True, help="the plan's full count for the year "
              f"({PROVINCE_2025:,} households for 2025)")  # fmt: skip
@click.option("--seed", type=int, default=1, show_default=True)
@click.option("--year", type=click.IntRange(2021, 2025), default=2025, show_default=True,
              help="the plan's year whose district poverty rates the sample reproduces")
@click.option("--noise", type=click.FloatRange(0, 0.05), default=0.002, show_default=True,
              help="share of households given a missing or invalid value (0 for none)")
@click.option("--panel", "panel", default=None, metavar="FIRST-LAST",
              help="one survey a year for the same households, e.g. 2021-2025, into the folder "
              "-o (YEAR/survey.parquet, its members and events.csv); no noise")  # fmt: skip
@click.option("--national", is_flag=True, help="a partitioned synthetic nation into the folder "
              "-o: 63 provinces, each in partitions (province=NN/part=KKK/households.parquet "
              "and members.parquet); 31,000,000 households unless --households")  # fmt: skip
@click.option("--partition-size", type=click.IntRange(10, None), default=100_000,
              show_default=True, help="households per partition (with --national)")
def sample_cmd(output: Path, households: int | None, province: bool, seed: int, year: int,
               noise: float, panel: str | None, national: bool,
               partition_size: int) -> None:  # fmt: skip
    """Write a synthetic Hưng Yên survey batch (deterministic for a seed).

    \b
    Examples:
      giamngheo sample -o survey.parquet --province --seed 1 --year 2022
      giamngheo sample -o sample.xlsx --households 2000
      giamngheo sample -o panel/ --province --panel 2021-2025
      giamngheo sample -o national/ --national --households 1000000
    """
    if national:
        _national(output, households, seed, year, noise, partition_size)
        return
    if province == (households is not None):
        raise click.UsageError("give exactly one of --households N or --province")
    if panel is not None:
        _panel(output, panel, households, seed)
        return
    suffix = output.suffix.lower()
    if suffix not in (".parquet", ".csv", ".xlsx"):
        raise OutputError("output_suffix", path=output, allowed=".parquet, .csv, .xlsx")
    members = output.with_name(f"{output.stem}.members{suffix}")
    for target in (output,) if suffix == ".xlsx" else (output, members):
        check_target(target)
    n = households if households is not None else sum(d.households for d in plan_districts(year))
    if suffix == ".xlsx" and n * MEAN_MEMBERS > EXCEL_MAX_ROWS:
        raise OutputError("output_too_many_rows", path=output)
    if suffix == ".xlsx":
        hh, mem = generate(None if province else households, year=year, seed=seed, noise=noise)
        written = write_tables({"households": hh, "members": mem}, output, workbook=True)
        counts = (len(hh), len(mem))
    else:  # drawn and written in parts: constant memory whatever the size
        appenders = {"households": TableAppender(output), "members": TableAppender(members)}
        counts = (0, 0)
        try:
            with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                          console=console(), transient=True, disable=n <= PART_SIZE) as bar:  # fmt: skip
                task = bar.add_task(word("sampling"), total=n)
                for hh, mem in generate_parts(n, year=year, seed=seed, noise=noise):
                    appenders["households"].add(hh)
                    appenders["members"].add(mem)
                    counts = (counts[0] + len(hh), counts[1] + len(mem))
                    bar.update(task, completed=counts[0])
        except BaseException:
            for a in appenders.values():
                a.abort()
            raise
        written = TableAppender.commit(appenders.values())
    click.echo(word("sampled", households=counts[0], members=counts[1], year=str(year), seed=seed))
    for path in written:
        click.echo(word("written", path=path))
    inputs = " ".join(str(p) for p in written)
    click.echo(f"giamngheo classify {inputs} -o results{suffix} --as-of {year}-06-30")


def _panel(folder: Path, span: str, households: int | None, seed: int) -> None:
    """``--panel FIRST-LAST``: each year's survey of the same households into ``folder``."""
    from engine.panel import generate_panel

    try:
        first, last = (int(x) for x in span.split("-"))
    except ValueError:
        raise click.BadParameter(f"'{span}': write FIRST-LAST, e.g. 2021-2025",
                                 param_hint="--panel") from None  # fmt: skip
    if not 2021 <= first < last <= 2025:
        raise click.BadParameter("the plan gives district rates for 2021–2025",
                                 param_hint="--panel")  # fmt: skip
    if folder.exists() and not folder.is_dir():
        raise OutputError("output_failed", path=folder, detail_vi="không phải thư mục",
                          detail_en="not a folder")  # fmt: skip
    for survey in generate_panel(list(range(first, last + 1)), households=households,
                                 seed=seed):  # fmt: skip
        target = folder / str(survey.year)
        paths = {"households": target / "survey.parquet",
                 "members": target / "survey.members.parquet", "events": target / "events.csv"}
        for path in paths.values():
            check_target(path)
        written = write_tables({"households": survey.households, "members": survey.members,
                                "events": survey.events}, paths["households"], paths=paths)  # fmt: skip
        click.echo(word("sampled", households=len(survey.households),
                        members=len(survey.members), year=str(survey.year), seed=seed))  # fmt: skip
        for path in written:
            click.echo(word("written", path=path))


def _national(output: Path, households: int | None, seed: int, year: int, noise: float,
              partition_size: int) -> None:  # fmt: skip
    """The synthetic nation, partition by partition: never more than one partition in memory."""
    from engine.national import NATION_HOUSEHOLDS, nation_plan, write_partition

    if output.suffix:
        raise OutputError("output_is_folder", path=output)
    plan = nation_plan(households or NATION_HOUSEHOLDS, partition_size, seed)
    total = sum(n for _, _, n, _ in plan)
    with Progress(TextColumn("{task.description}"), BarColumn(), TimeElapsedColumn(),
                  console=console(), transient=True) as bar:  # fmt: skip
        task = bar.add_task(word("sampling"), total=total)
        done = 0
        for part, first, n, part_seed in plan:
            write_partition(output, part, first, n, part_seed, year, noise)
            done += n
            bar.update(task, completed=done)
    say(word("national_written", partitions=len(plan), households=total, path=output))
