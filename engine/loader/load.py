"""``load_rulebook``: the strict load of ``rules/`` in named phases.

1. read: every file into the typed model, every problem collected (``law``, ``plan``);
2. type-check: every condition, amount and placeholder (``checker``), cycles between facts;
3. per date: on every date where something changes, every reference resolvable and the
   coverage list equal to the provisional facts;
4. prove: the classification table has no gap and no overlap on every such date
   (``tableproof``, which runs the vectorised evaluator).

Each phase reports all its problems at once as a ``RulebookError``; a later phase runs only on a
rulebook the earlier ones accepted.
"""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path

from engine.errors import Problem, RulebookError, say, suggest
from engine.loader.checker import Checker, check_cycles, check_placeholders, check_resolvable
from engine.loader.law import (
    load_classification,
    load_params,
    load_rule_file,
    load_sources,
    load_versions,
)
from engine.loader.plan import load_departments, load_interventions, load_statuses
from engine.loader.problems import Collector, bilingual
from engine.loader.tableproof import check_classification_table
from engine.rulebook import Rule, Rulebook, boundary_dates, provisional_items
from household_models.schema import DOMAIN_CODES

DEFAULT_RULES_DIR = Path(__file__).resolve().parent.parent.parent / "rules"


# Folders of rules/ that hold data the rulebook does not decide with (the plan's monitoring
# targets, the crosswalk of communes to former districts): not part of the rulebook's version.
NOT_RULES = ("plan", "places", "scenarios")


def hash_tree(root: Path) -> str:
    """The rulebook's version: a hash of every YAML file it decides with."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.yaml")):
        if path.relative_to(root).parts[0] in NOT_RULES:
            continue
        digest.update(str(path.relative_to(root)).encode())
        digest.update(b"\0")
        digest.update(path.read_bytes())
        digest.update(b"\0")
    return digest.hexdigest()[:12]



def load_rulebook(root: Path | str | None = None, *, check_table: bool = True) -> Rulebook:
    """Load and check the rulebook under ``root`` (default: the bundled ``rules/``)."""
    root = Path(root) if root is not None else DEFAULT_RULES_DIR
    if not (root / "versions.yaml").is_file():
        raise RulebookError([Problem(str(root), 0, say("no_versions"), say("no_versions.fix"))],
                            "rules_folder_missing", path=root)  # fmt: skip
    ctx = Collector(root)
    sources = load_sources(ctx)
    versions = load_versions(ctx, sources)
    params = load_params(ctx, sources)
    facts: dict[str, Rule] = {}
    for path in sorted((root / "facts").glob("*/*.yaml")):
        rule = load_rule_file(ctx, path, "fact", sources)
        if rule is not None:
            if rule.id in facts:
                ctx.add(rule.file, rule.line, say("fact_twice", id=rule.id))
            facts[rule.id] = rule
    dim_path = root / "indicators" / "dimensions.yaml"
    dim_data = ctx.read(dim_path)
    dimensions: dict[str, dict[str, str]] = {}
    if ctx.keys(dim_data, ctx.rel(dim_path), ("dimensions",), (), "dimensions.yaml"):
        dimensions = {
            k: bilingual(ctx, v, ctx.rel(dim_path), k) for k, v in dim_data["dimensions"].items()
        }
    indicators: list[Rule] = []
    for path in sorted((root / "indicators").glob("*/*.yaml")):
        rule = load_rule_file(ctx, path, "indicator", sources)
        if rule is not None:
            if rule.dimension not in dimensions:
                ctx.add(rule.file, rule.line, say("unknown_dimension", dimension=rule.dimension),
                        suggest(rule.dimension, list(dimensions)))  # fmt: skip
            indicators.append(rule)
    order = list(dimensions)
    indicators.sort(key=lambda r: (order.index(r.dimension) if r.dimension in order else 99, r.id))
    classification = load_classification(ctx, sources)
    places_data = ctx.read(root / "places.yaml")
    places: dict[str, dict[str, str]] = {}
    if ctx.keys(places_data, ctx.rel(root / "places.yaml"), ("places",), (), "places.yaml"):
        places = {k: bilingual(ctx, v, ctx.rel(root / "places.yaml"), k)
                  for k, v in places_data["places"].items()}  # fmt: skip

    statuses = load_statuses(ctx, sources)
    departments, functions = load_departments(ctx, sources)
    interventions = load_interventions(ctx, sources, departments, functions)

    checker = Checker(ctx, params, facts, tuple(indicators), statuses)
    for rule in (*facts.values(), *indicators):
        for d in rule.definitions:
            checker.cond(d.condition, rule.context, rule.file, d.citation.line, "rule")
    for row in classification.rows:
        checker.cond(row.when, "household", classification.file, row.citation.line, "class")
    decided = list(dict.fromkeys(row.cls for row in classification.rows))
    if classification.rows and tuple(sorted(decided)) != tuple(sorted(DOMAIN_CODES["class"])):
        ctx.add(classification.file, 0, say("classes_differ", decided=decided,
                                            codes=list(DOMAIN_CODES["class"])),
                say("classes_differ.fix"))  # fmt: skip
    for status in statuses:
        for sd in status.definitions:
            if sd.when is not None:
                checker.cond(sd.when, "household", status.file, sd.citation.line, "status")
            if sd.members is not None:
                checker.cond(sd.members, "member", status.file, sd.citation.line, "status")
    indicator_ids = {r.id for r in indicators}
    for action in interventions:
        for ad in action.definitions:
            if ad.when is not None:
                checker.cond(ad.when, "household", action.file, ad.citation.line, "action")
            for extra in (ad.members, ad.priority):
                if extra is not None:
                    checker.cond(extra, "member", action.file, ad.citation.line, "action")
        if action.amount is not None:
            t = checker.expr(action.amount.value, action.amount.per, action.file, action.line,
                             "action")  # fmt: skip
            if t not in ("number", "?"):
                ctx.add(action.file, action.line, say("amount_not_number", id=action.id))
        for ind in action.addresses:
            if ind not in indicator_ids:
                ctx.add(action.file, action.line, say("addresses_unknown", id=ind),
                        suggest(ind, sorted(indicator_ids)))  # fmt: skip
        for text in (*action.action.values(), *action.target.values()):
            check_placeholders(ctx, action.file, action.line, say("what.text_of", id=action.id), text,
                               params, household_key=False)  # fmt: skip
    for cls, texts in classification.reasons.items():
        for text in texts.values():
            check_placeholders(ctx, classification.file, 0, say("what.reason_text", id=cls), text, params,
                               household_key=True)  # fmt: skip
    check_cycles(ctx, facts)

    cov_path = root / "coverage.yaml"
    cov_data = ctx.read(cov_path)
    coverage: tuple[str, ...] = ()
    if ctx.keys(cov_data, ctx.rel(cov_path), ("provisional",), (), "coverage.yaml"):
        coverage = tuple(str(x) for x in cov_data["provisional"])
    book = Rulebook(root, hash_tree(root), versions, sources, places, params, facts,
                    tuple(indicators), dimensions, classification, coverage,
                    statuses=statuses, interventions=interventions, departments=departments,
                    functions=functions)  # fmt: skip
    book.provisional = provisional_items(book)
    if ctx.problems:
        raise RulebookError(ctx.problems)

    # Checks that need a consistent rulebook: references resolvable on every date, coverage list.
    for item in sorted(set(book.provisional) - set(coverage)):
        ctx.add(ctx.rel(cov_path), 0, say("not_listed", item=item), say("not_listed.fix"))
    for item in sorted(set(coverage) - set(book.provisional)):
        ctx.add(ctx.rel(cov_path), 0, say("listed_not_provisional", item=item),
                say("listed_not_provisional.fix"))  # fmt: skip
    for when in boundary_dates(book):
        resolved = book.resolve(when)
        check_resolvable(ctx, resolved)
    if ctx.problems:
        raise RulebookError(ctx.problems)
    if check_table:
        for when in boundary_dates(book):
            for message in check_classification_table(book.resolve(when)):
                ctx.add(classification.file, 0, message, say("table_gap_or_overlap.fix"))
        if ctx.problems:
            raise RulebookError(ctx.problems)
    return book



def cached_rulebook(root: Path | str | None = None) -> Rulebook:
    """``load_rulebook(root)`` through the cache of loaded rulebooks (``engine.loader.cache``):
    the same rulebook, re-read only when a file of the folder or of the engine changed."""
    from engine.loader.cache import cached

    return cached(Path(root) if root is not None else DEFAULT_RULES_DIR, load_rulebook)


@cache
def default_rulebook() -> Rulebook:
    return cached_rulebook()
