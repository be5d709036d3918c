"""Data-layer timings on a realistic history: 10,000 generations and 1,000 queued jobs.

Prints the median of several runs for the first history page, prompt searches and a queue claim,
each next to a reference measured in the same run (the same query in raw sqlite3, or a LIKE
scan for search), so the figures compare across machines. Targets: page and search <= 100 ms,
claim <= 5 ms.

Then the same operations on PostgreSQL (a shared queue, ADR 0011), filled with the same rows, as
ratios to SQLite from the same run: on a throwaway server started like the tests' one (initdb and
pg_ctl must be installed), or on ``--pg-url`` (an empty database). ``--no-postgres`` skips it.

    python benchmarks/bench_db.py [--rows 10000] [--jobs 1000] [--runs 15] [--pg-url URL]
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import insert  # noqa: E402

from wan22_desktop.db import history, queue  # noqa: E402
from wan22_desktop.db.base import utcnow  # noqa: E402
from wan22_desktop.db.database import open_database  # noqa: E402
from wan22_desktop.db.models import Generation  # noqa: E402
from wan22_desktop.request import GenerationRequest  # noqa: E402

SUBJECTS = [
    "a red fox",
    "一只小猫",
    "a paper boat",
    "赛博朋克城市",
    "an old lighthouse",
    "一只白鹭",
    "a koi pond",
    "雪山日出",
    "a glass whale",
    "a street market",
]
ACTIONS = [
    "runs through snow",
    "在阳光下的草地上玩耍",
    "drifts on a river",
    "夜晚霓虹闪烁",
    "in a storm at night",
    "站在稻田里",
    "under falling petals",
    "金色的光芒",
    "swims among clouds",
    "full of people",
]


def median_ms(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm caches and statements
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def fill(db_path: Path | str, rows: int, jobs: int) -> None:
    db = open_database(db_path)
    rng = random.Random(0)
    req = GenerationRequest.for_task("ti2v-5B", prompt="x", seed=1).to_json()
    t0 = utcnow() - timedelta(days=365)
    batch = []
    for i in range(rows):
        prompt = f"{rng.choice(SUBJECTS)} {rng.choice(ACTIONS)}, shot {i}"
        batch.append(
            dict(
                request_json=req,
                task=rng.choice(["ti2v-5B", "t2v-A14B", "i2v-A14B"]),
                prompt=prompt,
                final_prompt=f"cinematic, detailed: {prompt}",
                seed=i,
                video_path=f"/out/{i}.mp4",
                frames=121,
                width=1280,
                height=704,
                fps=24.0,
                duration_s=5.04,
                favourite=i % 17 == 0,
                tags_json="[]",
                created_at=t0 + timedelta(minutes=i),
            )
        )
    with db.session(write=True) as s:
        s.execute(insert(Generation), batch)
    base = GenerationRequest.for_task("ti2v-5B", prompt="queued clip", seed=0)
    for start in range(0, jobs, 500):
        queue.enqueue(db, base.with_seed(start), count=min(500, jobs - start))
    db.close()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=10_000)
    ap.add_argument("--jobs", type=int, default=1_000)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--pg-url", help="an empty PostgreSQL database (default: a throwaway server)")
    ap.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = ap.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.sqlite3"
        t = time.perf_counter()
        fill(path, args.rows, args.jobs)
        print(
            f"filled {args.rows} generations + {args.jobs} jobs in {time.perf_counter() - t:.1f} s"
            f" ({path.stat().st_size / 2**20:.1f} MiB)"
        )
        db = open_database(path)
        raw = sqlite3.connect(path)

        def raw_page() -> object:
            return raw.execute(
                "SELECT * FROM generations ORDER BY id DESC LIMIT 50"
            ).fetchall(), raw.execute("SELECT count(*) FROM generations").fetchone()

        def raw_like(q: str) -> Callable[[], object]:
            where = "WHERE prompt LIKE ? OR final_prompt LIKE ?"
            args_ = (f"%{q}%", f"%{q}%")
            return lambda: (
                raw.execute(
                    f"SELECT * FROM generations {where} ORDER BY id DESC LIMIT 50", args_
                ).fetchall(),
                raw.execute(f"SELECT count(*) FROM generations {where}", args_).fetchone(),
            )

        results = []
        page = median_ms(lambda: history.list_generations(db, page=0, page_size=50), args.runs)
        results.append(
            (
                "history page 1 (50 rows + total)",
                page,
                median_ms(raw_page, args.runs),
                "raw sqlite3",
                100.0,
            )
        )
        for q in ("lighthouse", "在阳光下的草地", "猫"):
            hits = history.search(db, q).total
            ms = median_ms(lambda q=q: history.search(db, q, page_size=50), args.runs)
            results.append(
                (
                    f"search {q!r} ({hits} hits)",
                    ms,
                    median_ms(raw_like(q), args.runs),
                    "raw LIKE page + count",
                    100.0,
                )
            )

        runner = "bench-runner"
        claims = []
        for _ in range(min(args.runs * 4, args.jobs - 1)):
            t = time.perf_counter()
            job = queue.claim_next(db, runner)
            claims.append((time.perf_counter() - t) * 1000)
            assert job is not None

        def raw_claim() -> object:
            with raw:
                return raw.execute(
                    "UPDATE jobs SET status='running', runner_id='raw' WHERE id = (SELECT id FROM "
                    "jobs WHERE status='queued' ORDER BY priority, position, id LIMIT 1) "
                    "AND status='queued' RETURNING id"
                ).fetchone()

        results.append(
            (
                "queue claim (atomic, committed)",
                statistics.median(claims),
                median_ms(raw_claim, args.runs),
                "raw sqlite3 UPDATE",
                5.0,
            )
        )

        print(f"\n{'operation':42} {'median ms':>10} {'reference ms':>13} {'ratio':>6}  target")
        for name, ms, ref, ref_name, target in results:
            ok = "ok" if ms <= target else "MISSED"
            print(
                f"{name:42} {ms:10.2f} {ref:13.2f} {ms / ref:6.1f}  <= {target:g} ms {ok}"
                f"   (ref: {ref_name})"
            )
        raw.close()
        db.close()
        if not args.no_postgres:
            compare_postgres(args, dict((r[0], r[1]) for r in results))


def compare_postgres(args: argparse.Namespace, sqlite_ms: dict[str, float]) -> None:
    """The same operations on PostgreSQL, as ratios to the SQLite figures of this run."""
    from contextlib import nullcontext

    if args.pg_url:
        server = nullcontext(None)
    else:
        from tests.db.pg_server import missing_reason, running_server

        if why := missing_reason():
            print(f"\nPostgreSQL: skipped ({why})")
            return
        server = running_server()
    with server as srv:
        url = args.pg_url or srv.create_database("bench")
        t = time.perf_counter()
        fill(url, args.rows, args.jobs)
        print(f"\nPostgreSQL: filled the same rows in {time.perf_counter() - t:.1f} s")
        db = open_database(url)
        pg_ms: dict[str, float] = {}
        pg_ms["history page 1 (50 rows + total)"] = median_ms(
            lambda: history.list_generations(db, page=0, page_size=50), args.runs
        )
        for q in ("lighthouse", "在阳光下的草地", "猫"):
            hits = history.search(db, q).total
            ms = median_ms(lambda q=q: history.search(db, q, page_size=50), args.runs)
            pg_ms[f"search {q!r} ({hits} hits)"] = ms
        from wan22_desktop.db.lease import RunnerIdentity

        me = RunnerIdentity.current()
        queue.start_runner(db, me, ttl_s=600)
        claims = []
        for _ in range(min(args.runs * 4, args.jobs - 1)):
            t = time.perf_counter()
            assert queue.claim_next(db, me.holder) is not None
            claims.append((time.perf_counter() - t) * 1000)
        pg_ms["queue claim (atomic, committed)"] = statistics.median(claims)
        db.close()

    print(f"\n{'operation':42} {'PostgreSQL ms':>13} {'SQLite ms':>10} {'ratio':>6}")
    for name, ms in pg_ms.items():
        ref = sqlite_ms.get(name)
        ratio = f"{ms / ref:6.1f}" if ref else "     -"
        print(f"{name:42} {ms:13.2f} {ref or 0:10.2f} {ratio}")


if __name__ == "__main__":
    main()
