"""The condition language of the rulebook: its syntax tree, parser and static checks.

Conditions are three-valued (true / false / unknown, Kleene logic): a missing input never passes
and never fails, it makes the result unknown unless the known parts already decide it.

Conditions::

    {all: [C, ...]}   {any: [C, ...]}   {not: C}   {at_least: N, of: [C, ...]}
    {first_known: [C, ...]}        the first of the conditions that is not unknown
    {lt|le|gt|ge|eq|ne: [E, E]}    comparison of two expressions
    {in: [E, E]}                   a code among a list of codes
    {intersects: [E, E]}           two code lists share a code
    {fact: name}                   a derived fact (member or household, by context)
    {field: name}                  a yes/no field
    {any_member: C}  {no_member: C}   member quantifiers (household context)
    {indicator: id}                deprived in an indicator (statuses and interventions)
    {status: id}                   holds a status (interventions; member statuses by member)
    {household: C}                 in a member condition: C of the member's household

Expressions::

    {field: name}   {param: name}   {param: name, by: E}   a number, text or list literal
    {count_members: C}   {share_members: C}   {div: [E, E]}   {mul: [E, E]}
    {deprivation_count: indicators}   (classification only)
    {months_since: {field: date}}  calendar months from a date to the evaluation date: whole
                                   months, plus one half when part of a month more has passed
    {if: C, then: E, else: E}      a choice between two numbers
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from engine.errors import Finding, say, suggest

COMPARISONS = ("lt", "le", "gt", "ge", "eq", "ne")


class Node:
    """Base class of the syntax tree."""


@dataclass(frozen=True)
class FieldRef(Node):
    name: str


@dataclass(frozen=True)
class ParamRef(Node):
    name: str
    by: Node | None = None


@dataclass(frozen=True)
class Literal(Node):
    value: Any


@dataclass(frozen=True)
class CountMembers(Node):
    cond: Node


@dataclass(frozen=True)
class ShareMembers(Node):
    cond: Node


@dataclass(frozen=True)
class Arith(Node):
    op: str  # div | mul
    left: Node
    right: Node


@dataclass(frozen=True)
class DeprivationCount(Node):
    pass


@dataclass(frozen=True)
class MonthsSince(Node):
    field: str


@dataclass(frozen=True)
class IfThen(Node):
    cond: Node
    then: Node
    orelse: Node


@dataclass(frozen=True)
class All(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True)
class AnyOf(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Not(Node):
    item: Node


@dataclass(frozen=True)
class AtLeast(Node):
    n: Node
    items: tuple[Node, ...]


@dataclass(frozen=True)
class FirstKnown(Node):
    items: tuple[Node, ...]


@dataclass(frozen=True)
class Compare(Node):
    op: str
    left: Node
    right: Node


@dataclass(frozen=True)
class In(Node):
    item: Node
    collection: Node


@dataclass(frozen=True)
class Intersects(Node):
    left: Node
    right: Node


@dataclass(frozen=True)
class FactRef(Node):
    name: str


@dataclass(frozen=True)
class BoolField(Node):
    name: str


@dataclass(frozen=True)
class IndicatorRef(Node):
    id: str


@dataclass(frozen=True)
class StatusRef(Node):
    id: str


@dataclass(frozen=True)
class OfHousehold(Node):
    cond: Node


@dataclass(frozen=True)
class AnyMember(Node):
    cond: Node


@dataclass(frozen=True)
class NoMember(Node):
    cond: Node


class SyntaxProblem(Finding):
    """A condition or expression that does not parse (the loader records it)."""

    def __init__(self, message: str, line: int, suggestion: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.line = line
        self.suggestion = suggestion


CONDITION_KEYS = (
    "all", "any", "not", "at_least", "first_known", *COMPARISONS, "in", "intersects", "fact",
    "field", "any_member", "no_member", "indicator", "status", "household",
)  # fmt: skip
EXPRESSION_KEYS = ("field", "param", "count_members", "share_members", "div", "mul",
                   "deprivation_count", "months_since", "if")  # fmt: skip


def _line(obj: Any, default: int) -> int:
    return int(getattr(obj, "line", default) or default)


def _suggest(word: str, options: tuple[str, ...]) -> str:
    return suggest(word, options, fallback=say("use_one_of", options=", ".join(options)))


def _pair(value: Any, key: str, line: int) -> tuple[Any, Any]:
    if not isinstance(value, list) or len(value) != 2:
        raise SyntaxProblem(say("two_operands", key=key), line, say("two_operands.fix", key=key))
    return value[0], value[1]


def _items(value: Any, key: str, line: int) -> list[Any]:
    if not isinstance(value, list) or not value:
        raise SyntaxProblem(say("nonempty_list", key=key), line)
    return value


def parse_condition(obj: Any, line: int = 0) -> Node:
    line = _line(obj, line)
    if not isinstance(obj, dict):
        raise SyntaxProblem(say("condition_mapping", value=repr(obj)), line,
                            say("condition_mapping.fix"))  # fmt: skip
    keys = list(obj)
    if "at_least" in obj:
        extra = set(keys) - {"at_least", "of"}
        if extra or "of" not in obj:
            raise SyntaxProblem(say("at_least_keys"), line)
        n = parse_expression(obj["at_least"], line)
        return AtLeast(n, tuple(parse_condition(c, line) for c in _items(obj["of"], "of", line)))
    if len(keys) != 1:
        raise SyntaxProblem(say("one_operator", keys=keys), line)
    key = keys[0]
    value = obj[key]
    kline = obj.line_of(key) if hasattr(obj, "line_of") else line
    if key == "all":
        return All(tuple(parse_condition(c, kline) for c in _items(value, key, kline)))
    if key == "any":
        return AnyOf(tuple(parse_condition(c, kline) for c in _items(value, key, kline)))
    if key == "first_known":
        return FirstKnown(tuple(parse_condition(c, kline) for c in _items(value, key, kline)))
    if key == "not":
        return Not(parse_condition(value, kline))
    if key in COMPARISONS:
        a, b = _pair(value, key, kline)
        return Compare(key, parse_expression(a, kline), parse_expression(b, kline))
    if key == "in":
        a, b = _pair(value, key, kline)
        return In(parse_expression(a, kline), parse_expression(b, kline))
    if key == "intersects":
        a, b = _pair(value, key, kline)
        return Intersects(parse_expression(a, kline), parse_expression(b, kline))
    if key == "fact":
        return FactRef(str(value))
    if key == "field":
        return BoolField(str(value))
    if key == "indicator":
        return IndicatorRef(str(value))
    if key == "status":
        return StatusRef(str(value))
    if key == "household":
        return OfHousehold(parse_condition(value, kline))
    if key == "any_member":
        return AnyMember(parse_condition(value, kline))
    if key == "no_member":
        return NoMember(parse_condition(value, kline))
    raise SyntaxProblem(say("unknown_condition_operator", key=key), kline,
                        _suggest(key, CONDITION_KEYS))  # fmt: skip


def parse_expression(obj: Any, line: int = 0) -> Node:
    line = _line(obj, line)
    if isinstance(obj, bool) or obj is None:
        raise SyntaxProblem(say("not_expression", value=repr(obj)), line)
    if isinstance(obj, int | float | str):
        return Literal(obj)
    if isinstance(obj, list):
        return Literal(tuple(obj))
    if not isinstance(obj, dict):
        raise SyntaxProblem(say("not_expression", value=repr(obj)), line)
    if "param" in obj:
        extra = set(obj) - {"param", "by"}
        if extra:
            raise SyntaxProblem(say("beside_param", keys=sorted(extra)), line,
                                say("beside_param.fix"))  # fmt: skip
        by = parse_expression(obj["by"], line) if "by" in obj else None
        return ParamRef(str(obj["param"]), by)
    if "if" in obj:
        if set(obj) != {"if", "then", "else"}:
            raise SyntaxProblem(say("if_keys"), line)
        return IfThen(parse_condition(obj["if"], line), parse_expression(obj["then"], line),
                      parse_expression(obj["else"], line))  # fmt: skip
    if len(obj) != 1:
        raise SyntaxProblem(say("one_expression_operator", keys=list(obj)), line)
    key, value = next(iter(obj.items()))
    if key == "field":
        return FieldRef(str(value))
    if key == "count_members":
        return CountMembers(parse_condition(value, line))
    if key == "share_members":
        return ShareMembers(parse_condition(value, line))
    if key in ("div", "mul"):
        a, b = _pair(value, key, line)
        return Arith(key, parse_expression(a, line), parse_expression(b, line))
    if key == "deprivation_count":
        if value != "indicators":
            raise SyntaxProblem(say("write_deprivation_count"), line)
        return DeprivationCount()
    if key == "months_since":
        if not (isinstance(value, dict) and list(value) == ["field"]):
            raise SyntaxProblem(say("write_months_since"), line)
        return MonthsSince(str(value["field"]))
    raise SyntaxProblem(say("unknown_expression_operator", key=key), line,
                        _suggest(key, EXPRESSION_KEYS))  # fmt: skip


def children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, All | AnyOf | FirstKnown):
        return node.items
    if isinstance(node, AtLeast):
        return (node.n, *node.items)
    if isinstance(node, Not):
        return (node.item,)
    if isinstance(node, Compare | Arith):
        return (node.left, node.right)
    if isinstance(node, In):
        return (node.item, node.collection)
    if isinstance(node, Intersects):
        return (node.left, node.right)
    if isinstance(node, CountMembers | ShareMembers | AnyMember | NoMember | OfHousehold):
        return (node.cond,)
    if isinstance(node, ParamRef) and node.by is not None:
        return (node.by,)
    if isinstance(node, IfThen):
        return (node.cond, node.then, node.orelse)
    return ()


def walk(node: Node) -> list[Node]:
    out = [node]
    for child in children(node):
        out.extend(walk(child))
    return out
