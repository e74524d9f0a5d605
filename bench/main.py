"""Drive the benchmark of issue 6 and print one table.

The replica runs in its own process (zero latency, unlimited concurrency). Each library runs
in its own long-lived client process (`worker.py`); measures of memory (4, 6) run each
repetition in a fresh process. Calls are interleaved client by client, with the order
rotated every round and a short pause between calls.

    python bench/main.py [--reps 5] [--only 1,2,...] [--out bench/latest.md]
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from common import BENCH, DATA, ROOT, ReplicaProcess, Stat, big_png, load_average, photo_png
from common import start_replica as start

CLIENTS = ("hfspaces", "gradio_client", "seeds", "floor")
PAUSE = 0.15  # seconds between calls: a call right after another runs slower on loopback
FAILURES: list[str] = []  # calls that failed: left out of the medians, listed under the table


@dataclass
class Row:
    label: str
    unit: str
    scale: float = 1000.0  # seconds → ms by default
    target: str = ""
    #: higher is better (jobs/s): the ratio is then floor/hfspaces, a "slowdown"
    higher: bool = False
    #: the floor's value the ratio is taken against comes from another row
    floor_from: str | None = None
    cells: dict[str, list[float]] = field(default_factory=dict)
    note: str = ""

    def add(self, client: str, value: float | None) -> None:
        if value is not None:
            self.cells.setdefault(client, []).append(value)


ROWS: dict[str, Row] = {
    "1a": Row("1. image question, small PNG, 200-word answer", "ms", target="≤ 1.10"),
    "1b": Row("1. image question, small PNG, 1-word answer", "ms", target="≤ 1.10"),
    "2a": Row("2. Phi-4 200 tokens: time to first token", "ms", target="≤ 1.30"),
    "2b": Row("2. Phi-4 200 tokens: total", "ms"),
    "3": Row("3. client CPU per 1,000 events (2,000-token answer)", "ms", target="≤ 1.20"),
    "3n": Row("3. events received (2,000-token answer)", "n", scale=1.0),
    "4a": Row("4. 50 concurrent 1-word jobs: wall", "ms"),
    "4b": Row("4. 50 concurrent jobs: jobs/s", "1/s", scale=1.0, higher=True, target="≥ 0.90"),
    "4c": Row("4. 50 concurrent jobs: client CPU", "ms"),
    "4d": Row("4. 50 concurrent jobs: peak RSS", "MB", scale=1.0, target="≤ 1.30"),
    "4e": Row("4. 200 concurrent 1-word jobs: wall", "ms"),
    "4f": Row("4. 200 concurrent jobs: jobs/s", "1/s", scale=1.0, higher=True, target="≥ 0.90"),
    "4g": Row("4. 200 concurrent jobs: client CPU", "ms"),
    "4h": Row("4. 200 concurrent jobs: peak RSS", "MB", scale=1.0, target="≤ 1.30"),
    "5": Row("5. text-to-image, 5 images, bytes downloaded (floor: URLs only)", "ms",
             target="≤ 1.20"),
    "5s": Row("5. floor downloading the 5 images one after another", "ms"),
    "5p": Row("5. floor downloading the 5 images in parallel", "ms"),
    "6": Row("6. 50 MB upload: peak RSS growth", "MB", scale=1.0, target="< 10 MB"),
    "7a": Row("7. 5-turn conversation about one image, 200-word answers", "ms",
              target="< 1.00"),
    "7b": Row("7. 5-turn conversation about one image, 1-word answers", "ms", target="< 1.00"),
    "8a": Row("8. import time (floor: `import aiohttp`)", "ms", target="≤ 1.30"),
    "8d": Row("8. import of the client class (`from hfspaces import SpaceModel`)", "ms"),
    "8b": Row("8. first call, with config discovery (1-word image question)", "ms"),
    "8c": Row("8. later calls (median of 3)", "ms"),
}


# -- running ops ------------------------------------------------------------------------


class Workers:
    """One long-lived client process per library."""

    def __init__(self, urls: dict[str, str]) -> None:
        self.urls = urls
        self.procs: dict[str, subprocess.Popen[str]] = {}
        for name in CLIENTS:
            proc = subprocess.Popen(
                [sys.executable, str(BENCH / "worker.py"), name, json.dumps(urls)],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=_log(name), text=True,
            )
            self.procs[name] = proc
        for name, proc in self.procs.items():
            assert proc.stdout is not None
            if json.loads(proc.stdout.readline() or "{}").get("ready") is not True:
                raise RuntimeError(f"worker {name} did not start; see {_log_path(name)}")

    def call(self, name: str, op: str, arg: Any) -> dict[str, Any]:
        proc = self.procs[name]
        assert proc.stdin is not None and proc.stdout is not None
        proc.stdin.write(json.dumps({"op": op, "arg": arg}) + "\n")
        proc.stdin.flush()
        reply: dict[str, Any] = json.loads(proc.stdout.readline() or '{"error": "worker died"}')
        return reply

    def close(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None and proc.stdin is not None:
                proc.stdin.write('{"op": "quit"}\n')
                proc.stdin.flush()
        for proc in self.procs.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()


def once(name: str, urls: dict[str, str], op: str, arg: Any) -> dict[str, Any]:
    """One op in a fresh client process (for its memory)."""
    out = subprocess.run(
        [sys.executable, str(BENCH / "worker.py"), name, json.dumps(urls), "--once", op,
         json.dumps(arg)],
        stdout=subprocess.PIPE, stderr=_log(name), text=True, timeout=600, check=False,
    )
    lines = out.stdout.strip().splitlines()
    return json.loads(lines[-1]) if lines else {"error": f"exit {out.returncode}"}


def _log_path(name: str) -> Path:
    return DATA / f"{name}.log"


def _log(name: str) -> Any:
    DATA.mkdir(parents=True, exist_ok=True)
    return _log_path(name).open("a")


Record = Callable[[str, dict[str, Any]], None]


def rounds(what: str, reps: int, clients: tuple[str, ...],
           call: Callable[[str, int], dict[str, Any]], record: Record, warmup: int = 1) -> None:
    """`reps` rounds of every client (after `warmup` discarded rounds), order rotated."""
    for r in range(warmup + reps):
        k = r % len(clients)
        for name in clients[k:] + clients[:k]:
            time.sleep(PAUSE)
            result = call(name, r)
            if "error" in result:
                print(f"  {name}: {result['error']}", file=sys.stderr)
                if r >= warmup:
                    FAILURES.append(f"{name}, {what}: {result['error']}")
                continue
            if r >= warmup:
                record(name, result)


# -- the measures -----------------------------------------------------------------------


def measure_calls(workers: Workers, replica: ReplicaProcess, reps: int, only: set[str]) -> None:
    def plain(op: str, words: int, rows: dict[str, str], arg: Callable[[int], Any] = int,
              clients: tuple[str, ...] = CLIENTS) -> None:
        replica.configure(answer_words=words)
        seq = iter(range(10_000))

        def call(name: str, r: int) -> dict[str, Any]:
            return workers.call(name, op, arg(next(seq)))

        def record(name: str, result: dict[str, Any]) -> None:
            for key, metric in rows.items():
                ROWS[key].add(name, result.get(metric))

        what = f"{op} ({words} words)"
        print(f"- {what}, load {load_average():.2f}", file=sys.stderr)
        rounds(what, reps, clients, call, record)

    if "1" in only:
        plain("ask", 200, {"1a": "total"})
        plain("ask", 1, {"1b": "total"})
    if "2" in only:
        plain("stream", 200, {"2a": "ttft", "2b": "total"})
    if "3" in only:
        replica.configure(answer_words=2000)
        events: list[float] = []

        def call3(name: str, r: int) -> dict[str, Any]:
            return workers.call(name, "stream", r)

        def record3(name: str, result: dict[str, Any]) -> None:
            n = result["events"] or (statistics.median(events) if events else 0)
            if result["events"]:
                events.append(result["events"])
            ROWS["3n"].add(name, result["events"] or None)
            if n:
                ROWS["3"].add(name, result["cpu"] / n * 1000)

        print(f"- stream (2000 words), load {load_average():.2f}", file=sys.stderr)
        # the floor first in every round, so the seeds' calls can use its event count
        rounds("stream (2000 words)", reps, ("floor", "hfspaces", "gradio_client", "seeds"),
               call3, record3)
    if "5" in only:
        replica.configure(answer_words=1)
        plain("t2i", 1, {"5": "total"})
        plain("t2i_seq", 1, {"5s": "total"}, clients=("floor",))
        plain("t2i_par", 1, {"5p": "total"}, clients=("floor",))
    if "7" in only:
        for r in range(2 * (reps + 1) + 2):
            photo_png(r)
        seeds = iter(range(10_000))
        plain("chat", 200, {"7a": "total"}, arg=lambda _: next(seeds))
        plain("chat", 1, {"7b": "total"}, arg=lambda _: next(seeds))
    if "8" in only:
        plain("first", 1, {"8b": "first", "8c": "later"})


def measure_memory(urls: dict[str, str], replica: ReplicaProcess, reps: int,
                   only: set[str]) -> None:
    if "4" in only:
        replica.configure(answer_words=1)
        for n, keys in ((50, "abcd"), (200, "efgh")):
            wall, rate, cpu, rss = (f"4{k}" for k in keys)

            def call(name: str, r: int, n: int = n) -> dict[str, Any]:
                return once(name, urls, "many", n)

            def record(name: str, res: dict[str, Any], n: int = n, keys: tuple[str, ...] = (
                wall, rate, cpu, rss)) -> None:
                ROWS[keys[0]].add(name, res["wall"])
                ROWS[keys[1]].add(name, n / res["wall"])
                ROWS[keys[2]].add(name, res["cpu"])
                ROWS[keys[3]].add(name, res["rss_peak"])

            print(f"- {n} concurrent jobs, load {load_average():.2f}", file=sys.stderr)
            rounds(f"{n} concurrent jobs", reps, CLIENTS, call, record, warmup=0)
    if "6" in only:
        big_png()

        def call6(name: str, r: int) -> dict[str, Any]:
            return once(name, urls, "big", 0)

        def record6(name: str, res: dict[str, Any]) -> None:
            ROWS["6"].add(name, max(0.0, res["rss_op_peak"] - res["rss_before"]))

        print(f"- 50 MB upload, load {load_average():.2f}", file=sys.stderr)
        rounds("50 MB upload", reps, CLIENTS, call6, record6, warmup=0)


IMPORTS = {
    "hfspaces": "import hfspaces",
    "gradio_client": "import gradio_client",
    "seeds": "from g4f.Provider.hf_space import DeepseekAI_JanusPro7b, "
    "Microsoft_Phi_4_Multimodal",
    "floor": "import aiohttp",
}


#: `import hfspaces` loads names lazily: this is what using the client costs
IMPORTS_USED = {
    "hfspaces": "from hfspaces import SpaceModel",
    "gradio_client": "from gradio_client import Client",
    "seeds": IMPORTS["seeds"],
    "floor": "import aiohttp",
}


def measure_imports(reps: int) -> None:
    """Each import in a fresh interpreter, timed inside it (startup excluded)."""
    print(f"- imports, load {load_average():.2f}", file=sys.stderr)
    for r in range(1 + 2 * reps):
        names = list(IMPORTS)
        k = r % len(names)
        for name in names[k:] + names[:k]:
            for key, imports in (("8a", IMPORTS), ("8d", IMPORTS_USED)):
                code = (
                    "import time; t = time.perf_counter(); " + imports[name] +
                    "; print(time.perf_counter() - t)"
                )
                out = subprocess.run([sys.executable, "-c", code], capture_output=True,
                                     text=True, check=True, timeout=120)
                if r:
                    ROWS[key].add(name, float(out.stdout.split()[-1]))
                time.sleep(PAUSE)


# -- the table --------------------------------------------------------------------------


def ratio(row: Row) -> str:
    hf, fl = row.cells.get("hfspaces"), row.cells.get("floor")
    if not hf or not fl:
        return "—"
    a, b = statistics.median(hf), statistics.median(fl)
    if row.label.startswith("6."):
        return f"{a:.1f} MB"
    if b == 0:
        return "—"
    return f"{(a / b):.2f}x"


def verdict(key: str, row: Row) -> str:
    if not row.target:
        return ""
    hf, fl = row.cells.get("hfspaces"), row.cells.get("floor")
    if not hf or (not fl and key != "6"):
        return row.target
    a = statistics.median(hf)
    b = statistics.median(fl) if fl else 0.0
    ok = {
        "6": a < 10,
        "4b": a / b >= 0.9 if b else False,
        "4f": a / b >= 0.9 if b else False,
    }.get(key)
    if ok is None:
        limit = float(row.target.split()[-1])
        ok = a / b < limit if row.target.startswith("<") else a / b <= limit
    return f"{row.target} {'✓' if ok else '✗'}"


def table() -> str:
    head = ["measure", "unit", "hfspaces", "gradio_client", "seeds (g4f)", "floor",
            "hfspaces/floor", "target"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key, row in ROWS.items():
        if not row.cells:
            continue
        digits = 0 if row.unit == "n" else 1
        cells = [Stat(row.cells.get(c, [])).fmt(row.scale, digits) for c in CLIENTS]
        lines.append("| " + " | ".join([row.label, row.unit, *cells, ratio(row),
                                        verdict(key, row)]) + " |")
    return "\n".join(lines)


def machine() -> str:
    import os

    def version(pkg: str) -> str:
        try:
            return metadata.version(pkg)
        except metadata.PackageNotFoundError:
            return "—"

    pkgs = ", ".join(f"{p} {version(p)}" for p in (
        "hfspaces", "gradio_client", "g4f", "aiohttp", "gradio", "orjson", "tenacity"))
    return (f"{os.cpu_count()} cores, {platform.machine()}, Linux {platform.release()}, "
            f"Python {platform.python_version()}; {pkgs}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--only", default="1,2,3,4,5,6,7,8")
    parser.add_argument("--out", type=Path, default=BENCH / "latest.md")
    args = parser.parse_args()
    only = set(args.only.split(","))
    started = time.time()
    load0 = load_average()
    replica = start()
    urls = {k: v for k, v in replica.urls.items() if k != "hub"}
    try:
        if "8" in only:
            measure_imports(args.reps)
        if only & {"1", "2", "3", "5", "7", "8"}:
            workers = Workers(urls)
            try:
                measure_calls(workers, replica, args.reps, only)
            finally:
                workers.close()
        if only & {"4", "6"}:
            measure_memory(urls, replica, args.reps, only)
    finally:
        replica.stop()
    report = (
        f"Median of {args.reps} (min–max); times in ms unless noted. "
        f"Load average {load0:.2f} at start, {load_average():.2f} at end; "
        f"{(time.time() - started) / 60:.1f} min.\n\n{table()}\n\nMachine: {machine()}\n"
    )
    if FAILURES:
        report += "\nFailed calls (left out of the medians):\n" + "".join(
            f"- {f}\n" for f in FAILURES)
    print(report)
    args.out.write_text(report)
    raw = {k: r.cells for k, r in ROWS.items() if r.cells}
    (DATA / "raw.json").write_text(json.dumps(raw, indent=1))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "bench"))
    sys.exit(main())
