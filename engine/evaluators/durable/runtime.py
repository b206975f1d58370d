"""The durable_rules evaluator: the same rulebook compiled to a Rete network.

This is the only module that imports ``durable`` (``formulas``, ``compiler`` and ``facts`` beside
it are pure Python). It compiles the resolved rulebook (after any
overlay) to one durable_rules ruleset and evaluates households one at a time, each in its own
session, by forward chaining:

    household and member facts  →  indicator facts (T / F / U)  →  deprivation count
    →  class  →  statuses (household and member)  →  recommendations

Three-valued logic is compiled, not emulated: every condition is turned into two-valued
formulas for "true" (T), "false" (F) and their negations over the facts, so that each indicator
gets three mutually exclusive rules (T, F, U = neither). Comparisons, ``all`` / ``any`` / ``not``,
``first_known``, ``at_least``, list membership, ``any_member`` / ``no_member`` and the derived
indicator, class and status facts are matched by the engine itself; ``no_member`` and the "false"
side of ``any_member`` use the engine's negated patterns over member facts. What a Rete network
cannot express is computed per household before asserting, from the same rule definition, by
the plain-Python interpreter (``engine.reference``): member counts and shares, arithmetic between
fields, months since a date, choices (``if``), amounts, and the priority of a named member.

Measured limits of durable-rules 2.0.28 and how this module meets them (each has a test):

* the background dispatcher threads crash when sessions are deleted out of order and sometimes
  swallow a synchronous result → ``QuietHost`` never starts them;
* a session costs ~630 KB and at most 1024 may be live → one session per household, deleted
  right after;
* ``delete_state`` segfaults on a session where no rule ran → a rule that always fires;
* ``post`` fires only the first matching rule → everything is asserted as facts;
* values are normalised before asserting: whole numbers as ints, no float that serialises with
  an exponent (``1e-05`` is rejected), never a number as text, NFC strings, yes/no as 1/0;
* a fact field named like a state field loops, and ``id`` is the engine's fact identity (a rule
  testing a field ``id`` crashed the process) → derived facts name their rule in ``k``, and the
  facts carry only ``t``, ``k``, ``no``, ``v`` and the model's field names;
* a negated pattern is checked when the fact it joins arrives and is not re-checked later → the
  member facts are asserted before the household fact in the same batch, and negations only
  ever test member facts (input), never derived facts;
* exceptions raised inside actions are swallowed by the engine → every action is wrapped, the
  exception is kept and raised again after the session, and a result carrying ``exception`` is
  an error too;
* a fact asserted twice is an error inside the action → derived facts are asserted once per
  session (a rule may fire once per witness, e.g. per member; every firing is recorded).
"""


from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from durable import engine as durable_engine

from engine.errors import EngineError
from engine.evaluators.durable.compiler import Compiler
from engine.evaluators.durable.facts import household_facts
from engine.evaluators.reference import HouseholdRecord, Reference
from engine.rulebook import Resolved

RULESET = "giamngheo"


class DurableError(EngineError):
    """An error raised inside a durable_rules action, or reported by the engine."""


class _Json:
    """``json`` as durable-rules' Python layer uses it (``dumps`` with ``ensure_ascii=False``,
    ``loads``), through orjson when it is installed: the layer encodes the session state and
    decodes each result on every firing, a quarter of the time of a household. The text is
    the same JSON (orjson writes UTF-8 as ``ensure_ascii=False`` does); anything orjson refuses
    goes through ``json``."""

    def __init__(self) -> None:
        import orjson

        self._orjson = orjson

    def dumps(self, obj: Any, **kwargs: Any) -> str:
        try:
            return self._orjson.dumps(obj).decode("utf-8")
        except TypeError:
            return json.dumps(obj, **kwargs)

    def loads(self, text: str | bytes, **kwargs: Any) -> Any:
        return self._orjson.loads(text)


with contextlib.suppress(ImportError):
    durable_engine.json = _Json()


class QuietHost(durable_engine.Host):  # type: ignore[misc]
    """A host without the background dispatcher and timer threads."""

    def _run(self) -> None:
        return None


# -- evaluation -------------------------------------------------------------------------------


@dataclass
class DurableOutcome:
    indicators: dict[str, str]  # T | F | U
    deprivation: tuple[int, int]
    cls: str
    statuses: set[str]
    member_statuses: dict[str, set[int]]
    actions: set[str]
    action_members: dict[str, set[int]]
    firings: list[tuple[str, list[dict[str, Any]]]]  # rule name, matched facts (in order)


class DurableEvaluator:
    """Evaluates households one by one on a durable_rules host built from the rulebook."""

    _counter = itertools.count()

    def __init__(self, resolved: Resolved, keep_matched: bool = True) -> None:
        """``keep_matched``: record the facts each firing matched (for the trace); without it
        a firing records only its rule's name (the cross-check needs no more)."""
        self.r = resolved
        self.keep_matched = keep_matched
        self.ref = Reference(resolved)
        self.compiled = Compiler(resolved).compile()
        self.name = f"{RULESET}_{next(self._counter)}"
        self._session: _Session | None = None
        definition: dict[str, Any] = {}
        for rule_name, rule in self.compiled.rules.items():
            definition[rule_name] = {**json.loads(json.dumps(rule)),
                                     "run": self._runner(rule_name)}  # fmt: skip
        self.host = QuietHost({self.name: definition})
        self._sid = itertools.count()

    def _runner(self, rule_name: str) -> Callable[[Any], None]:
        kind, ident = self.compiled.actions[rule_name]

        def run(closure: Any) -> None:
            session = self._session
            if session is None:  # pragma: no cover - only inside evaluate()
                return
            try:
                session.fire(closure, rule_name, kind, ident, self)
            except BaseException as exc:  # surfaced after the session
                session.errors.append(exc)

        return run

    def evaluate(self, hh: HouseholdRecord) -> DurableOutcome:
        sid = str(next(self._sid))
        facts = household_facts(hh, self.compiled, self.ref, self.r.as_of)
        for fact in facts:
            fact["sid"] = sid
        self._session = session = _Session(sid)
        try:
            result = self.host.assert_facts(self.name, facts)
            if isinstance(result, dict) and "exception" in result:
                raise DurableError(f"durable_rules: {result['exception'][:500]}")
            if session.errors:
                raise DurableError(f"an action failed: {session.errors[0]!r}") from session.errors[0]
            if "seen" not in {f[0] for f in session.firings}:
                raise DurableError("the always-firing rule did not fire")
        finally:
            self._session = None
            if session.firings:  # delete_state on a session where nothing ran crashes
                self.host.delete_state(self.name, sid)
        return session.outcome(self.r, len(hh.members))


@dataclass
class _Session:
    sid: str
    asserted: set[tuple[tuple[str, Any], ...]] = field(default_factory=set)
    firings: list[tuple[str, list[dict[str, Any]]]] = field(default_factory=list)
    errors: list[BaseException] = field(default_factory=list)
    indicators: dict[str, str] = field(default_factory=dict)
    deprivation: tuple[int, int] | None = None
    classes: list[str] = field(default_factory=list)
    statuses: set[str] = field(default_factory=set)
    member_statuses: dict[str, set[int]] = field(default_factory=dict)
    actions: set[str] = field(default_factory=set)
    action_members: dict[str, set[int]] = field(default_factory=dict)

    def _assert(self, closure: Any, fact: dict[str, Any]) -> None:
        key = tuple(sorted(fact.items()))  # the values are text and numbers
        if key in self.asserted:
            return
        self.asserted.add(key)
        # No rule may read this derived fact (e.g. the class 'incomplete'): nothing to do then.
        with contextlib.suppress(durable_engine.MessageNotHandledException):
            closure.assert_fact(fact)

    def fire(self, closure: Any, rule_name: str, kind: str, ident: str,
             ev: DurableEvaluator) -> None:  # fmt: skip
        matched = [dict(v) for _, v in _matches(closure)] if ev.keep_matched else []
        self.firings.append((rule_name, matched))
        if kind.startswith("indicator_"):
            value = kind[-1]
            previous = self.indicators.setdefault(ident, value)
            if previous != value:
                raise DurableError(f"indicator {ident} derived both {previous} and {value}")
            self._assert(closure, {"t": "i", "k": ident, "v": value})
        elif kind.startswith("hfact_"):
            self._assert(closure, {"t": "hf", "k": ident, "v": kind[-1]})
        elif kind == "dep":
            values = list(self.indicators.values())
            lo = sum(v == "T" for v in values)
            hi = len(values) - sum(v == "F" for v in values)
            self.deprivation = (lo, hi)
            self._assert(closure, {"t": "dep", "lo": lo, "hi": hi})
        elif kind == "class":
            if ident not in self.classes:
                self.classes.append(ident)
            self._assert(closure, {"t": "c", "k": ident})
        elif kind == "status":
            self.statuses.add(ident)
            self._assert(closure, {"t": "s", "k": ident})
        elif kind == "mstatus":
            no = int(closure.mm["no"])
            self.member_statuses.setdefault(ident, set()).add(no)
            self._assert(closure, {"t": "ms", "k": ident, "no": no})
        elif kind == "action":
            self.actions.add(ident)
        elif kind == "maction":
            self.actions.add(ident)
            self.action_members.setdefault(ident, set()).add(int(closure.mm["no"]))

    def outcome(self, r: Resolved, n_members: int) -> DurableOutcome:
        if len(self.classes) != 1:
            raise DurableError(f"expected exactly one class, got {self.classes}")
        missing = [rule.id for rule, _ in r.indicators if rule.id not in self.indicators]
        if missing:
            raise DurableError(f"no result for indicators {missing}")
        assert self.deprivation is not None
        return DurableOutcome(dict(self.indicators), self.deprivation, self.classes[0],
                              set(self.statuses), dict(self.member_statuses), set(self.actions),
                              dict(self.action_members), list(self.firings))  # fmt: skip


def _matches(closure: Any) -> Iterator[tuple[str, Any]]:
    m = getattr(closure, "_m", None)
    if isinstance(m, dict):
        yield from sorted(m.items())


# -- batches in worker processes --------------------------------------------------------------

_WORKER: dict[str, Any] = {}


def _worker_evaluate(chunk: list[tuple[int, HouseholdRecord]]) -> list[tuple[int, DurableOutcome]]:
    evaluator = _WORKER.get("evaluator")
    if evaluator is None:
        evaluator = _WORKER["evaluator"] = DurableEvaluator(_WORKER["resolved"],
                                                            bool(_WORKER.get("keep_firings")))
    out = []
    for position, hh in chunk:
        outcome = evaluator.evaluate(hh)
        if not evaluator.keep_matched:
            outcome.firings = []
        out.append((position, outcome))
    return out


def _default_sigterm() -> None:
    """In a worker: SIGTERM kills it, as it does by default. The command line turns SIGTERM
    into an exception (to clean its temporary files); a forked worker inherits that handler,
    and the pool's ``terminate`` (on leaving ``with``) could then leave a worker that is
    waiting on the task queue's lock, which the pool holds while it terminates, never exiting:
    the run hung there, now and then, after the cross-check was done."""
    import signal

    signal.signal(signal.SIGTERM, signal.SIG_DFL)


def evaluate_households(resolved: Resolved, households: list[tuple[int, HouseholdRecord]],
                        processes: int = 1, keep_firings: bool = False,
                        chunk: int = 200) -> dict[int, DurableOutcome]:  # fmt: skip
    """Evaluate (position, household) pairs on durable_rules, in ``processes`` worker processes
    (the engine holds the GIL), each with its own host; sessions are deleted as they finish, so
    memory stays flat whatever the batch size."""
    _WORKER.clear()
    _WORKER.update(resolved=resolved, keep_firings=keep_firings)
    chunks = [households[i : i + chunk] for i in range(0, len(households), chunk)]
    if processes <= 1 or len(chunks) <= 1:
        return {p: o for part in chunks for p, o in _worker_evaluate(part)}
    import multiprocessing

    context = multiprocessing.get_context("fork")
    with context.Pool(processes, initializer=_default_sigterm) as pool:
        parts = pool.map(_worker_evaluate, chunks, chunksize=1)
    _WORKER.clear()
    return {p: o for part in parts for p, o in part}
