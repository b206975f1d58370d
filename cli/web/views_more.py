"""The other pages: one household (its explanation, as ``explain --format html``, with its
history and delivered support when a registry is open), the policy scenarios (the report of
``simulate -o report.html`` and its workbook), the reports (the review forms and the plan
monitoring) and the registry (rounds; record, close, verify)."""

from __future__ import annotations

import datetime as dt
from contextlib import suppress
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from cli.console import word
from cli.options import rulebook
from cli.web.common import Refused, check_csrf, page, visit_of, words
from cli.web.state import State, Visit
from cli.web.views_batch import XLSX, save_uploads, support_labels
from engine import (
    GiamngheoError,
    build_trace,
    close_round,
    default_rulebook,
    household_history,
    load_scenario,
    open_registry,
    render_plan_html,
    render_report_html,
    render_trace_html,
    rounds,
    simulate,
    verify_registry,
    write_tables,
)
from engine.errors import HouseholdNotFound, RegistryError


def _state(request: Request) -> State:
    return request.app.state.web  # type: ignore[no-any-return]


def _registry(request: Request) -> Path:
    path = _state(request).settings.registry
    if path is None:
        raise Refused(404, "registry_none")
    return path


def _half(text: str, lang: str) -> str:
    """One language of a "vi / en" word of the command line."""
    parts = text.split(" / ")
    return parts[0] if lang == "vi" or len(parts) < 2 else parts[1]


def _flow(code: str | None, lang: str) -> str:
    if not code:
        return ""
    try:
        return _half(word("flow." + code), lang)
    except KeyError:
        return code


def _label_entry(entry: dict[str, Any], book: Any, lang: str) -> None:
    """A history entry's classes and actions as people read them (the rulebook in force on
    the round's date; codes where it has none)."""
    with suppress(GiamngheoError):
        r = book.resolve(dt.date.fromisoformat(str(entry["as_of"])))
        classes = r.classification.classes
        for key in ("class", "recognised_class"):
            code = entry.get(key)
            if code in classes:
                entry[key] = classes[code][lang]
        labels = {a.id: a.label[lang] for a, _ in r.interventions}
        entry["recommendations"] = "; ".join(support_labels(entry.get("recommendations"),
                                                            labels))  # fmt: skip
        for d in entry.get("delivered") or []:
            d["action_id"] = labels.get(d["action_id"], d["action_id"])


def shipped_scenarios() -> list[Path]:
    """The scenarios that ship with the rulebook (``rules/scenarios``)."""
    return sorted((Path(default_rulebook().root) / "scenarios").glob("*.yaml"))


def register(app: FastAPI) -> None:
    @app.get("/household")
    async def household_pick(request: Request, id: str = "") -> Response:  # noqa: A002
        if id:
            return RedirectResponse(f"/household/{id}", status_code=303)
        return page(request, "household.html", household=None)

    @app.get("/household/{household_id}")
    async def household(request: Request, household_id: str) -> Response:
        visit = visit_of(request)
        history: list[dict[str, Any]] | None = None
        settings = _state(request).settings
        if settings.registry is not None and settings.registry.exists():
            reg = open_registry(settings.registry)
            try:
                history = household_history(reg, household_id)
            except RegistryError:  # not in the registry: no history to show
                history = []
            finally:
                reg.close()
            book = rulebook(settings.rules_dir)
            for entry in history:
                entry["flow_label"] = _flow(entry.get("flow"), visit.lang)
                _label_entry(entry, book, visit.lang)
        found = visit.batch is not None and bool(
            (visit.batch.places["household_id"] == household_id).any())  # fmt: skip
        return page(request, "household.html", household=household_id, in_batch=found,
                    history=history)  # fmt: skip

    @app.get("/household/{household_id}/explain.html")
    async def explanation(request: Request, household_id: str) -> Response:
        visit = visit_of(request)
        if visit.batch is None:
            raise Refused(404, "no_batch")
        try:
            trace = build_trace(visit.batch.parsed, visit.batch.book, visit.batch.as_of,
                                household_id).trace  # fmt: skip
        except HouseholdNotFound:
            raise Refused(404, "not_found") from None
        return HTMLResponse(render_trace_html(trace, visit.batch.book.sources, visit.lang))

    @app.get("/scenarios")
    async def scenarios(request: Request) -> Response:
        visit = visit_of(request)
        book = visit.batch.book if visit.batch is not None else None
        listed = []
        for path in shipped_scenarios():
            label = path.stem
            if book is not None:
                with suppress(GiamngheoError):
                    label = load_scenario(path, book).label[visit.lang]
            listed.append({"file": path.name, "label": label})
        return page(request, "scenarios.html", scenarios=listed, report=visit.scenario)

    @app.post("/scenarios")
    async def run_scenarios(request: Request) -> Response:
        form = await check_csrf(request)
        visit = visit_of(request)
        if visit.batch is None:
            raise Refused(400, "no_batch")
        known = {p.name: p for p in shipped_scenarios()}
        chosen = [known[n] for n in form.getlist("scenario") if n in known]
        chosen += await save_uploads(request, visit, form, "upload", "scenarios",
                                     (".yaml", ".yml"))  # fmt: skip
        if not chosen:
            raise Refused(400, "scenario_none")
        state = _state(request)
        job = state.start(visit, "scenarios", lambda job: _simulate(visit, chosen),
                          "/scenarios")  # fmt: skip
        return RedirectResponse(f"/jobs/{job.id}", status_code=303)

    @app.get("/scenarios/report.html")
    async def scenario_report(request: Request) -> Response:
        visit = visit_of(request)
        if visit.scenario is None:
            raise Refused(404, "not_found")
        return HTMLResponse(visit.scenario["html"][visit.lang])

    @app.get("/scenarios/scenarios.xlsx")
    async def scenario_workbook(request: Request) -> Response:
        visit = visit_of(request)
        if visit.scenario is None:
            raise Refused(404, "not_found")
        return FileResponse(visit.scenario["xlsx"], media_type=XLSX, filename="kich-ban.xlsx")

    @app.get("/registry")
    async def registry(request: Request) -> Response:
        listed: list[dict[str, Any]] = []
        path = _state(request).settings.registry
        if path is not None and path.exists():
            reg = open_registry(path)
            try:
                counts = dict(reg.rows("SELECT round, count(DISTINCT household_id) FROM "
                                       "assessments GROUP BY round"))  # fmt: skip
                listed = [{"name": r.name, "as_of": r.as_of.isoformat(), "closed": r.closed,
                           "households": counts.get(r.name, 0)} for r in rounds(reg)]
            finally:
                reg.close()
        return page(request, "registry.html", rounds=listed)

    @app.post("/registry/record")
    async def record(request: Request) -> Response:
        form = await check_csrf(request)
        visit = visit_of(request)
        path = _registry(request)
        if visit.batch is None:
            raise Refused(400, "no_batch")
        name = str(form.get("round") or "").strip()
        state = _state(request)
        job = state.start(visit, "recording", lambda job: _record(state, visit, path, name),
                          "/registry")  # fmt: skip
        return RedirectResponse(f"/jobs/{job.id}", status_code=303)

    @app.post("/registry/close")
    async def close(request: Request) -> Response:
        form = await check_csrf(request)
        visit = visit_of(request)
        path = _registry(request)
        name = str(form.get("round") or "")
        reg = open_registry(path, write=True)
        try:
            root = close_round(reg, name)
        finally:
            reg.close()
        visit.messages.append({"kind": "ok", "text": words(visit.lang)["closed_msg"].format(
            round=name, root=root)})  # fmt: skip
        return RedirectResponse("/registry", status_code=303)

    @app.post("/registry/verify")
    async def verify(request: Request) -> Response:
        await check_csrf(request)
        visit = visit_of(request)
        w = words(visit.lang)
        reg = open_registry(_registry(request))
        try:
            found = verify_registry(reg)
            visit.messages.append({"kind": "ok", "text": w["verify_ok"].format(**found)})
        except GiamngheoError as exc:
            visit.messages.append({"kind": "error", "text": w["verify_bad"].format(
                detail=exc.vi if visit.lang == "vi" else exc.en)})  # fmt: skip
        finally:
            reg.close()
        return RedirectResponse("/registry", status_code=303)

    @app.get("/reports")
    async def reports(request: Request) -> Response:
        listed: list[str] = []
        path = _state(request).settings.registry
        if path is not None and path.exists():
            reg = open_registry(path)
            try:
                listed = [r.name for r in rounds(reg)]
            finally:
                reg.close()
        return page(request, "reports.html", rounds=listed)

    @app.get("/reports/forms/{round_name}.xlsx")
    async def forms(request: Request, round_name: str) -> Response:
        target, _ = _forms(request, round_name)
        return FileResponse(target, media_type=XLSX, filename=target.name)

    @app.get("/reports/forms/{round_name}")
    async def forms_page(request: Request, round_name: str) -> Response:
        target, found = _forms(request, round_name)
        shown = []
        for form in found:
            table = form.table.drop(columns=["level"], errors="ignore")
            shown.append({"key": form.key, "title": form.title, "notes": form.notes,
                          "columns": [str(c) for c in table.columns],
                          "rows": table.astype(object).where(table.notna(), "").values.tolist()})
        return page(request, "forms.html", forms=shown, round_name=round_name,
                    download=f"/reports/forms/{round_name}.xlsx")  # fmt: skip

    @app.get("/reports/plan.html")
    async def plan_page(request: Request) -> Response:
        visit = visit_of(request)
        return HTMLResponse(render_plan_html(_plan(request), visit.lang))

    @app.get("/reports/plan.xlsx")
    async def plan_workbook(request: Request) -> Response:
        from engine import write_plan_workbook

        visit = visit_of(request)
        target = visit.subfolder("reports") / "theo-doi-ke-hoach.xlsx"
        write_plan_workbook(_plan(request), target, visit.lang)
        return FileResponse(target, media_type=XLSX, filename=target.name)


def _forms(request: Request, round_name: str) -> tuple[Path, list[Any]]:
    """The forms of a round of the registry (or of the visit's batch: ``batch``), written
    into the visit's folder once per request, and the forms themselves."""
    from cli.report import forms_workbook

    visit = visit_of(request)
    target = visit.subfolder("reports") / f"bao-cao-ra-soat-{round_name}.xlsx"
    if round_name == "batch":
        if visit.batch is None:
            raise Refused(404, "no_batch")
        return forms_workbook(target, batch=(visit.batch.parsed, visit.batch.result,
                                             visit.batch.as_of), lang=visit.lang)  # fmt: skip
    return forms_workbook(target, registry=(_registry(request), round_name), lang=visit.lang)


def _plan(request: Request) -> dict[str, Any]:
    from engine import plan_data

    path = _registry(request)
    reg = open_registry(path)
    try:
        return plan_data(reg, path.name, None, _state(request).settings.rules_dir)
    finally:
        reg.close()


def _simulate(visit: Visit, chosen: list[Path]) -> None:
    assert visit.batch is not None
    batch = visit.batch
    found = [load_scenario(p, batch.book) for p in chosen]
    sim = simulate(batch.parsed, found, batch.as_of, book=batch.book, lang=visit.lang)
    target = visit.subfolder("scenario-out") / "kich-ban.xlsx"
    write_tables(sim.tables, target, workbook=True)
    visit.scenario = {"html": {"vi": render_report_html(sim, "vi"),
                               "en": render_report_html(sim, "en")},
                      "xlsx": target, "names": [s.label[visit.lang] for s in found]}


def _record(state: State, visit: Visit, path: Path, name: str) -> None:
    from cli.review import record_inputs

    assert visit.batch is not None
    done = record_inputs(list(visit.batch.files), path, name, visit.batch.as_of,
                         verify=state.settings.verify, rules_dir=state.settings.rules_dir)  # fmt: skip
    visit.messages.append({"kind": "ok", "text": words(visit.lang)["recorded"].format(
        round=name, **{k: done[k] for k in ("recording", "households", "listed")})})  # fmt: skip

