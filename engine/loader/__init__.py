"""The strict loader of ``rules/`` (floor 4: above the evaluators, since the table proof runs
one): YAML with line numbers, the problem collector, the condition type checker, the law and
plan files, the table proof, and ``load_rulebook`` in named phases."""

from engine.errors import Problem, RulebookError
from engine.loader.load import DEFAULT_RULES_DIR, cached_rulebook, default_rulebook, load_rulebook

__all__ = ["DEFAULT_RULES_DIR", "Problem", "RulebookError", "cached_rulebook", "default_rulebook",
           "load_rulebook"]  # fmt: skip
