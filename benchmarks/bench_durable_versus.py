"""durable_rules households/s per process, this checkout against an earlier commit (not part of
the test run).

    python benchmarks/bench_durable_versus.py --against c9fcadc --households 3000 --rounds 5

Checks the earlier commit out into a temporary git worktree, writes one synthetic batch, and
then, round after round in fresh processes alternating between the two trees, evaluates the
same households on durable_rules in one process, timing only the evaluation (CPU seconds of the
process). Prints the medians, the households/s of each and their ratio, and whether both trees
took the same decisions (every outcome compared).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent

RUN = r"""
import datetime as dt, hashlib, json, sys, time
sys.path.insert(0, sys.argv[1])
from pathlib import Path
from engine import default_rulebook
from engine.evaluators.crosscheck import run_durable
from household_models import parse_batch, read_survey
folder = Path(sys.argv[2])
batch = parse_batch(read_survey([folder / "s.parquet", folder / "s.members.parquet"]))
resolved = default_rulebook().resolve(dt.date(2025, 6, 30))
positions = [p for p in range(batch.n_households) if not batch.household_invalid[p]]
start = time.process_time()
outcomes = run_durable(resolved, batch, positions, 1)
cpu = time.process_time() - start
digest = hashlib.sha256(json.dumps(
    [[p, o.indicators, o.cls, sorted(o.statuses), sorted(o.actions),
      {k: sorted(v) for k, v in sorted(o.action_members.items())},
      {k: sorted(v) for k, v in sorted(o.member_statuses.items())}]
     for p, o in sorted(outcomes.items())], sort_keys=True).encode()).hexdigest()
print(json.dumps({"cpu": cpu, "households": len(outcomes), "digest": digest}))
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--against", required=True, help="the earlier commit")
    parser.add_argument("--households", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        old = folder / "old"
        subprocess.run(["git", "worktree", "add", "--detach", str(old), args.against],
                       check=True, capture_output=True, cwd=ROOT)  # fmt: skip
        try:
            subprocess.run([sys.executable, "-m", "cli.main", "sample", "-o",
                            str(folder / "s.parquet"), "--households", str(args.households),
                            "--seed", "5"], check=True, capture_output=True, cwd=ROOT)  # fmt: skip
            trees = {"this checkout": ROOT, args.against: old}
            got: dict[str, list[dict[str, float | str]]] = {name: [] for name in trees}
            for k in range(args.rounds):
                order = list(trees) if k % 2 == 0 else list(trees)[::-1]
                for name in order:
                    proc = subprocess.run([sys.executable, "-c", RUN, str(trees[name]),
                                           str(folder)], check=True, capture_output=True,
                                          text=True, cwd=trees[name])  # fmt: skip
                    got[name].append(json.loads(proc.stdout.strip().splitlines()[-1]))
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old)],
                           capture_output=True, cwd=ROOT)  # fmt: skip
    rates = {}
    for name, runs in got.items():
        cpu = statistics.median(float(r["cpu"]) for r in runs)
        n = int(runs[0]["households"])
        rates[name] = n / cpu
        print(f"{name}: {n:,} households, median {cpu:.2f} CPU-s, {n / cpu:,.0f} households/s")
    digests = {str(r["digest"]) for runs in got.values() for r in runs}
    new, old_rate = rates["this checkout"], rates[args.against]
    print(f"ratio: {new / old_rate:.2f}x; same decisions in every run: "
          f"{'yes' if len(digests) == 1 else 'NO'}")  # fmt: skip


if __name__ == "__main__":
    main()
