"""``giamngheo rules check | coverage | show``: for rule maintainers."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import click

from cli.options import parse_date, rulebook, rules_option
from engine.errors import InputError, close_matches
from engine.rulebook import Intervention, Status, provisional_items


@click.group("rules")
def rules_group() -> None:
    """Inspect and check the rulebook."""


@rules_group.command("check")
@rules_option()
def rules_check(rules_dir: Path | None) -> None:
    """Load the rulebook strictly and report every problem (file:line: message (suggestion)).

    \b
    Example:
      giamngheo rules check --rules my-rules/
    """
    book = rulebook(rules_dir)
    click.echo(f"rulebook OK: {len(book.indicators)} indicators, {len(book.params)} parameters, "
               f"{len(book.facts)} facts, {len(book.statuses)} statuses, "
               f"{len(book.interventions)} interventions, {len(book.departments)} departments, "
               "versions "
               + ", ".join(f"{v.id} ({v.start}…{v.end})" for v in book.versions)
               + f"; content hash {book.content_hash}")  # fmt: skip


@rules_group.command("coverage")
@rules_option()
def rules_coverage(rules_dir: Path | None) -> None:
    """List every provisional fact with its source and note.

    \b
    Example:
      giamngheo rules coverage
    """
    items = provisional_items(rulebook(rules_dir))
    for key in sorted(items):
        cit = items[key]
        click.echo(f"{key}\t{cit.source} {cit.clause}\t{cit.file}:{cit.line}\t{cit.note}")
    click.echo(f"{len(items)} provisional facts")


@rules_group.command("show")
@click.argument("rule_id")
@click.option("--as-of", "as_of", callback=parse_date, default=None,
              help="show the definition in force")  # fmt: skip
@rules_option()
def rules_show(rule_id: str, as_of: dt.date | None, rules_dir: Path | None) -> None:
    """Show an indicator, fact, parameter, status, intervention or department by id.

    \b
    Examples:
      giamngheo rules show health.insurance
      giamngheo rules show health.insurance_support --as-of 2025-06-30
      giamngheo rules show labour
    """
    book = rulebook(rules_dir)
    actions: list[Intervention | Status] = [*book.interventions, *book.statuses]
    action = next((a for a in actions if a.id == rule_id), None)
    if action is not None:
        kind = "status" if action in book.statuses else "intervention"
        click.echo(f"{kind} {action.id}: {action.label['vi']} / {action.label['en']}  "
                   f"({action.file})")  # fmt: skip
        if isinstance(action, Intervention):
            function = f" ({action.function})" if action.function else ""
            click.echo(f"  lead: {action.lead}{function}; partners: "
                       f"{', '.join(action.partners) or '-'}; plan section {action.plan_section}; "
                       f"addresses: {', '.join(action.addresses) or '-'}")  # fmt: skip
            click.echo(f"  {action.action['vi']}")
            if action.amount is not None:
                a = action.amount
                click.echo(f"  amount: {a.kind} per {a.per}, {a.period}: {a.value}")
        for d in action.definitions:
            if as_of and not d.holds(as_of):
                continue
            flag = " [provisional]" if d.citation.provisional else ""
            click.echo(f"  {d.start} … {d.end or ''}: {d.citation.source} {d.citation.clause}{flag}")
            for name, node in (("when", d.when), ("members", d.members), ("priority", d.priority)):
                if node is not None:
                    click.echo(f"    {name}: {node}")
        return
    dep = book.departments.get(rule_id)
    if dep is not None:
        click.echo(f"department {dep.code}: {dep.plan_name['vi']} (plan)  ({dep.file})")
        for n in dep.names:
            flag = " [provisional]" if n.citation.provisional else ""
            extra = "; ".join(f"{fn}: {lab['vi']}" for fn, lab in n.by_function.items())
            click.echo(f"  from {n.start}: {n.name['vi']}{' (' + extra + ')' if extra else ''}  "
                       f"{n.citation.source} {n.citation.clause}{flag}")  # fmt: skip
        return
    rule = next((r for r in (*book.indicators, *book.facts.values()) if r.id == rule_id), None)
    if rule is not None:
        click.echo(f"{rule.kind} {rule.id}: {rule.label['vi']} / {rule.label['en']}  ({rule.file})")
        for rd in rule.definitions:
            if as_of and not rd.holds(as_of):
                continue
            flag = " [provisional]" if rd.citation.provisional else ""
            click.echo(f"  {rd.start} … {rd.end or ''}: {rd.citation.source} "
                       f"{rd.citation.clause}{flag}")  # fmt: skip
            click.echo(f"    {rd.condition}")
        return
    param = book.params.get(rule_id)
    if param is not None:
        click.echo(f"parameter {param.name}: {param.label['vi']} / {param.label['en']} "
                   f"({param.file})")  # fmt: skip
        for v in param.values:
            flag = " [provisional]" if v.citation.provisional else ""
            click.echo(f"  from {v.start}: {v.value}  {v.citation.source} {v.citation.clause}{flag}")
        return
    known = [*(a.id for a in actions), *(r.id for r in book.indicators),
             *book.facts, *book.params, *book.departments]  # fmt: skip
    close = ", ".join(close_matches(rule_id, known, n=3))
    raise InputError("rule_not_found", id=rule_id, hint_vi=f" Có phải: {close}?" if close else "",
                     hint_en=f" Did you mean: {close}?" if close else "")  # fmt: skip
