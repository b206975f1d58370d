"""The classify page: upload a survey, follow the work, read the input errors first, then the
counts and the results table (paged, filtered and searched on the server), and download the
results workbook (the bytes ``giamngheo classify -o`` writes) and the errors."""

from __future__ import annotations

import datetime as dt
import os
import re
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, RedirectResponse, Response

from cli.web.common import Refused, check_csrf, page, visit_of
from cli.web.state import Batch, Job, State, Visit
from engine import classify, save_workbook, write_result, write_tables
from engine.text import UNNAMED_DISTRICT
from household_models import build_template, parse_batch, read_survey

SUFFIXES = (".xlsx", ".csv", ".parquet")
PAGE_ROWS = 50
ERRORS_SHOWN = 200
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _state(request: Request) -> State:
    return request.app.state.web  # type: ignore[no-any-return]


def safe_name(name: str) -> str:
    """An uploaded file's name as kept: its last part, without characters a path could use."""
    base = re.sub(r"[\x00-\x1f/\\:*?\"<>|]", "_", Path(name.replace("\\", "/")).name).strip()
    return base.lstrip(".") or "upload"


async def save_uploads(request: Request, visit: Visit, form: Any, field: str,
                       folder: str, suffixes: tuple[str, ...]) -> list[Path]:  # fmt: skip
    """The files of ``field`` copied into the visit's private folder ``folder``, each checked
    for its suffix and for the upload limit."""
    limit = _state(request).settings.max_upload_mb * 1_000_000
    target = visit.subfolder(folder)
    for old in target.iterdir():
        old.unlink()
    saved: list[Path] = []
    for upload in form.getlist(field):
        if not getattr(upload, "filename", None):
            continue
        name = safe_name(upload.filename)
        if not name.lower().endswith(suffixes):
            raise Refused(400, "bad_file", name=name)
        path = target / name
        size = 0
        with path.open("wb") as out:
            while chunk := await upload.read(1 << 20):
                size += len(chunk)
                if size > limit:
                    raise Refused(413, "too_large", limit=limit // 1_000_000)
                out.write(chunk)
        saved.append(path)
    return saved


def classify_files(state: State, visit: Visit, files: list[Path], as_of: dt.date,
                   job: Job) -> Batch:  # fmt: skip
    """What ``giamngheo classify`` does with these files, step by step for the progress."""
    from cli.options import rulebook

    book = rulebook(state.settings.rules_dir, as_of)
    job.phase = "reading"
    raw = read_survey(files)
    job.phase = "validating"
    batch = parse_batch(raw)
    del raw
    job.phase = "classifying"
    result = classify(batch, book, as_of, lang="vi", verify=state.settings.verify,
                      processes=os.cpu_count() or 1,
                      verify_max=state.settings.verify_max or None)  # fmt: skip
    found = Batch(files, as_of, batch, result, book, places(batch))
    visit.batch = found
    return found


def places(batch: Any) -> pd.DataFrame:
    """Each household's id, district and commune as parsed (the results repeat the survey's
    own headers, which a batch may write in Vietnamese or English), in batch order."""
    out = {}
    for name in ("household_id", "district", "commune"):
        col = batch.households[name]
        out[name] = np.where(col.missing, "", col.values.astype(object)).astype(str)
    return pd.DataFrame(out)


def _mask(batch: Batch, query: dict[str, str]) -> np.ndarray:
    res, where = batch.result.results, batch.places
    keep = np.ones(len(res), dtype=bool)
    for key in ("district", "commune"):
        if query.get(key):
            keep &= (where[key] == query[key]).to_numpy()
    if query.get("class"):
        keep &= (res["class"].astype(str) == query["class"]).to_numpy()
    if query.get("deprivation") and query["deprivation"] in res.columns:
        keep &= (res[query["deprivation"]].astype(str) == "deprived").to_numpy()
    if query.get("action"):
        rec = batch.result.recommendations
        ids = set(rec.loc[rec["action_id"].astype(str) == query["action"], "household_id"])
        keep &= where["household_id"].isin(ids).to_numpy()
    if query.get("q"):
        keep &= where["household_id"].str.contains(
            query["q"].strip(), case=False, regex=False).to_numpy()  # fmt: skip
    return keep


def table_context(batch: Batch, query: dict[str, str], lang: str) -> dict[str, Any]:
    """One page of the filtered results, with the choices of every filter."""
    res = batch.result.results
    r = batch.result.resolved
    keep = _mask(batch, query)
    total = int(keep.sum())
    pages = max(1, -(-total // PAGE_ROWS))
    try:
        number = min(max(1, int(query.get("page") or 1)), pages)
    except ValueError:
        number = 1
    chosen = np.flatnonzero(keep)[(number - 1) * PAGE_ROWS:number * PAGE_ROWS]
    rows = res.iloc[chosen]
    where = batch.places.iloc[chosen]
    indicators = [(rule.id, rule.label[lang]) for rule, _ in r.indicators]
    label = dict(indicators)
    actions = dict((a.id, a.label[lang]) for a, _ in r.interventions)
    shown = []
    for (_, row), (_, place) in zip(rows.iterrows(), where.iterrows(), strict=True):
        shown.append({
            "id": place["household_id"], "district": place["district"],
            "commune": place["commune"],
            "class": r.classification.classes[str(row["class"])][lang],
            "code": str(row["class"]),
            "count": "" if pd.isna(row["deprivation_count"]) else int(row["deprivation_count"]),
            "deprived": [label[i] for i, _ in indicators if str(row.get(i)) == "deprived"],
            "support": support_labels(row["recommendations"], actions),
        })  # fmt: skip
    districts = sorted(d for d in batch.places["district"].unique() if d)
    communes = sorted(c for c in batch.places["commune"].unique() if c)
    classes = [(k, v[lang]) for k, v in r.classification.classes.items()]
    link = {k: v for k, v in query.items() if v and k != "page"}
    return {"rows": shown, "total": total, "page": number, "pages": pages, "query": query,
            "link": link, "districts": districts, "communes": communes[:2000],
            "classes": classes, "indicators": indicators,
            "actions": list(actions.items())}  # fmt: skip


def support_labels(text: Any, labels: dict[str, str]) -> list[str]:
    """The recommended actions of a results row ("id[members]; …") as their labels, with the
    members they name."""
    if text is None or (isinstance(text, float) and np.isnan(text)) or not str(text):
        return []
    out = []
    for part in str(text).split("; "):
        action, _, members = part.partition("[")
        out.append(labels.get(action, action) + (f" [{members}" if members else ""))
    return out


def counts(batch: Batch, lang: str) -> dict[str, Any]:
    """Households per district and class (the summary of the results)."""
    res = batch.result.results
    classes = batch.result.resolved.classification.classes
    table = pd.crosstab(batch.places["district"].to_numpy(), res["class"].astype(str).to_numpy())
    order = [c for c in classes if c in table.columns]
    rows = [{"district": d or UNNAMED_DISTRICT, "cells": [int(table.loc[d, c]) for c in order],
             "total": int(table.loc[d].sum())} for d in table.index]  # fmt: skip
    return {"classes": [classes[c][lang] for c in order], "rows": rows,
            "totals": [int(table[c].sum()) for c in order], "total": int(len(res))}


def download(visit: Visit, batch: Batch, name: str) -> Path:
    """A download of the batch, written once into the visit's folder."""
    if name not in batch.downloads:
        target = visit.subfolder("downloads") / name
        if name == "results.xlsx":
            write_result(batch.result, target)
        else:
            write_tables({"errors": batch.result.errors}, target, workbook=True)
        batch.downloads[name] = target
    return batch.downloads[name]


def register(app: FastAPI) -> None:
    @app.get("/")
    async def home(request: Request) -> Response:
        return page(request, "classify.html", today=dt.date.today().isoformat())

    @app.post("/classify")
    async def upload(request: Request) -> Response:
        form = await check_csrf(request)
        visit = visit_of(request)
        raw_date = str(form.get("as_of") or "")
        try:
            as_of = dt.date.fromisoformat(raw_date)
        except ValueError:
            raise Refused(400, "bad_date", value=raw_date) from None
        files = await save_uploads(request, visit, form, "files", "upload", SUFFIXES)
        if not files:
            raise Refused(400, "no_file")
        state = _state(request)
        visit.batch = None
        visit.scenario = None
        job = state.start(visit, "reading",
                          lambda job: classify_files(state, visit, files, as_of, job),
                          "/results")  # fmt: skip
        return RedirectResponse(f"/jobs/{job.id}", status_code=303)

    @app.get("/jobs/{job_id}")
    async def job_page(request: Request, job_id: str) -> Response:
        visit = visit_of(request)
        job = visit.jobs.get(job_id)
        if job is None:
            raise Refused(404, "job_unknown")
        if job.done and job.error is None:
            if request.headers.get("hx-request"):  # htmx: leave the page for the result
                return Response(status_code=204, headers={"HX-Redirect": job.then})
            return RedirectResponse(job.then, status_code=303)
        name = "progress.html" if request.headers.get("hx-request") else "job.html"
        return page(request, name, job=job)

    @app.get("/results")
    async def results(request: Request) -> Response:
        visit = visit_of(request)
        if visit.batch is None:
            return page(request, "classify.html", today=dt.date.today().isoformat(),
                        missing=True)  # fmt: skip
        table = table_context(visit.batch, dict(request.query_params), visit.lang)
        if request.headers.get("hx-request"):  # htmx: the table alone, nothing else computed
            return page(request, "table.html", **table)
        errors = visit.batch.result.errors
        return page(request, "results.html", errors=errors.head(ERRORS_SHOWN).to_dict("records"),
                    error_count=len(errors), counts=counts(visit.batch, visit.lang),
                    files=", ".join(p.name for p in visit.batch.files),
                    as_of=visit.batch.as_of.isoformat(), **table)  # fmt: skip

    @app.get("/download/{name}")
    async def download_file(request: Request, name: str) -> Response:
        visit = visit_of(request)
        if name not in ("results.xlsx", "errors.xlsx") or visit.batch is None:
            raise Refused(404, "not_found")
        path = download(visit, visit.batch, name)
        return FileResponse(path, media_type=XLSX, filename=name)

    @app.get("/template.xlsx")
    async def template(request: Request) -> Response:
        target = visit_of(request).subfolder("template") / "mau-phieu-ra-soat.xlsx"
        if not target.exists():
            save_workbook(build_template(), target)
        return FileResponse(target, media_type=XLSX, filename=target.name)

    @app.post("/lang")
    async def lang(request: Request) -> Response:
        form = await check_csrf(request)
        visit = visit_of(request)
        visit.lang = "en" if form.get("lang") == "en" else "vi"
        back = str(form.get("next") or "/")
        return RedirectResponse(back if back.startswith("/") and not back.startswith("//")
                                else "/", status_code=303)  # fmt: skip

    @app.post("/done")
    async def done(request: Request) -> Response:
        await check_csrf(request)
        _state(request).forget(visit_of(request))
        response = RedirectResponse("/?cleared=1", status_code=303)
        return response

