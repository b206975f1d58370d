"""The web page against the command line on the synthetic province (418,246 households):
the wall time from posting the survey files to the page showing the results (errors, counts,
the first page of the table), against a fresh ``giamngheo classify`` of the same files to
Parquet, alternating, medians. The server is started fresh for each page run (its start is
not counted: a user starts it once); the upload, the work and the first results page are.
Also: the size of the results page (the table is paged on the server, never the province).

    python benchmarks/bench_web.py --rounds 3     # writes the "web" section of REPORT.md
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from race import measure, replace_section  # noqa: E402

BEGIN, END = "<!-- web -->", "<!-- /web -->"
AS_OF = "2025-10-15"


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def page_run(pair: list[Path]) -> dict[str, float]:
    """One classification through a fresh server: seconds from the POST to the results page."""
    import httpx

    port = _free_port()
    server = subprocess.Popen([sys.executable, "-m", "cli.main", "serve", "--no-browser",
                               "--port", str(port), "--max-upload-mb", "5000"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=600) as client:
            for _ in range(300):
                try:
                    home = client.get("/")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            csrf = re.search(r'name="csrf" value="([^"]+)"', home.text).group(1)  # type: ignore[union-attr]
            started = time.perf_counter()
            files = [("files", (p.name, p.read_bytes(), "application/octet-stream")) for p in pair]
            r = client.post("/classify", data={"csrf": csrf, "as_of": AS_OF}, files=files)
            job = r.headers["location"]
            while True:
                r = client.get(job)
                if r.status_code == 303:
                    break
                assert r.status_code == 200 and "job-error" not in r.text, r.text[-2000:]
                time.sleep(0.1)
            results = client.get("/results")
            wall = time.perf_counter() - started
            assert "Kết quả (418.246 hộ)" in results.text, results.text[:2000]
            return {"wall": wall, "page_kb": len(results.content) / 1000}
    finally:
        server.terminate()
        server.wait(timeout=60)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="giamngheo-web-bench-") as tmp:
        folder = Path(tmp)
        hh = folder / "survey.parquet"
        measure([sys.executable, "-m", "cli.main", "sample", "-o", str(hh), "--province",
                 "--seed", "1", "--year", "2025"])  # fmt: skip
        pair = [hh, folder / "survey.members.parquet"]
        cli_runs, page_runs = [], []
        for k in range(args.rounds):
            for name in (["cli", "page"] if k % 2 == 0 else ["page", "cli"]):
                if name == "cli":
                    cli_runs.append(measure([sys.executable, "-m", "cli.main", "classify",
                                             *map(str, pair), "-o", str(folder / "c.parquet"),
                                             "--as-of", AS_OF]))  # fmt: skip
                    print("cli", cli_runs[-1], flush=True)
                else:
                    page_runs.append(page_run(pair))
                    print("page", page_runs[-1], flush=True)
    cli = statistics.median(r["wall"] for r in cli_runs)
    web = statistics.median(r["wall"] for r in page_runs)
    kb = statistics.median(r["page_kb"] for r in page_runs)
    block = "\n".join([
        BEGIN, "## The web page against the command line (synthetic province)", "",
        f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}. `python benchmarks/bench_web.py --rounds {args.rounds}`"
        ": the page run is the wall time from posting the two Parquet files (418,246 "
        "households) to receiving the results page; the command line's is a fresh "
        "`giamngheo classify … -o c.parquet` (both with the default cross-check). Medians of "
        f"{args.rounds} alternating rounds.", "",
        "| run | wall s |", "|---|---:|",
        f"| `giamngheo classify` | {cli:.2f} |", f"| the page (upload → results) | {web:.2f} |",
        "", f"Page / command line: **{web / cli:.2f}×** (target at most 1.5×). The results "
        f"page weighs {kb:,.0f} kB: the table is paged on the server (50 rows), never the "
        "province.", END])  # fmt: skip
    replace_section(block, HERE / "REPORT.md", BEGIN, END)
    print(block)


if __name__ == "__main__":
    main()
