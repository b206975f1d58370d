"""``giamngheo test``: golden cases in YAML run against a rulebook, as ``openfisca test`` is."""

from __future__ import annotations

from pathlib import Path

import click

from cli.options import lang_option, rulebook, rules_option
from engine.errors import CheckFailed
from engine.golden import describe_failure, run, summary


@click.command("test")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@rules_option()
@lang_option("language of the explanations of failing cases")
@click.option("-q", "--quiet", is_flag=True, help="print failing cases without explanations")
def test_cmd(paths: tuple[Path, ...], rules_dir: Path | None, lang: str, quiet: bool) -> None:
    """Run golden cases (YAML files, or folders of them) against a rulebook.

    Each failing case is printed with its household, the expected and actual values and the
    explanation of the decision; the exit status is 1 when a case fails.

    \b
    Examples:
      giamngheo test tests/golden
      giamngheo test my-cases.yaml --rules my-rules/
    """
    book = rulebook(rules_dir)
    outcomes = run(paths, book)
    failed = [o for o in outcomes if not o.passed]
    for outcome in failed:
        text = describe_failure(outcome, book, lang, explain=not quiet)
        click.echo(text + "\n")
    if lang == "vi":
        click.echo(summary(outcomes, "vi"))
    click.echo(summary(outcomes, "en"))
    if failed:
        raise CheckFailed("golden_failed", failed=len(failed), total=len(outcomes))
