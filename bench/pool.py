"""Benchmark of issue 14: several copies of a Space used as one model (`EndpointPool`).

Each copy is a replica process in ZeroGPU mode (one job running, one waiting, the rest
turned away with a 503) with a fixed service time per GPU call, so the floor is known: n
copies finish at most n / service_time jobs per second. Every figure is a ratio between
measures of this one run.

    PYTHONPATH=shared:. python bench/pool.py [--service 0.5] [--jobs 60] [--batch 500]

1. throughput: 60 jobs on 3 copies vs the same 60 jobs on 1 copy (same client logic: a
   pool of one), and vs the floor (3 / service time); failures must be 0.
2. one of 3 copies killed (SIGKILL) mid-run: failed jobs and jobs completed twice must be 0.
3. one copy 3x slower: mean job latency of the pool vs round-robin over the same copies
   (round-robin with the same client-side line per copy, so only the choice differs).
4. 500 inputs through LangChain `abatch(max_concurrency=...)` and LlamaIndex `asyncio.gather`
   over 3 copies with ~10 % injected faults: every item a result or a typed error, open fds
   and asyncio tasks back to where they started.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from common import ReplicaProcess as Copy
from common import start_replica
from hfspaces import Generation, GenerationParams, Message, Rerouted, SpaceError, SpaceModel
from hfspaces.copies import SpaceCopies
from hfspaces.replica import JANUS_SPACE, PHI4_SPACE

IMAGE_MODEL = "janus-pro-7b-image"
PARAMS = GenerationParams(num_images=1)


def start_copy(service: float) -> Copy:
    """A replica process in ZeroGPU mode (the default) taking `service` s per GPU call."""
    return start_replica(5, 32, "--service-time", str(service), zerogpu=True, quiet=True)


def janus(c: Copy) -> str:
    return c.urls[JANUS_SPACE]


def phi4(c: Copy) -> str:
    return c.urls[PHI4_SPACE]


def reset(c: Copy) -> None:
    c.request("/_replica/reset", {})


def pool_of(urls: list[str], model: str = IMAGE_MODEL) -> SpaceModel:
    """A `SpaceModel` over `urls` through the pool, even for one copy (a single endpoint
    bypasses the pool: a pool of one keeps the client logic equal across measures)."""
    space_model = SpaceModel(model, endpoint=urls, timeout=600)
    if space_model.pool is None:
        space_model.copies = SpaceCopies(
            urls, space=space_model.spec.space, timeout=600, pooled=True
        )
    return space_model


@dataclass
class Outcome:
    latency: float
    endpoint: str | None = None
    error: str | None = None
    reroutes: int = 0


async def one_job(model: SpaceModel, prompt: str) -> Outcome:
    began = time.perf_counter()
    moved = 0
    try:
        async for item in model.stream([Message.user(prompt)], PARAMS):
            if isinstance(item, Rerouted):
                moved += 1
            elif isinstance(item, Generation):
                return Outcome(time.perf_counter() - began, item.endpoint, None, moved)
    except SpaceError as exc:
        return Outcome(time.perf_counter() - began, None, type(exc).__name__, moved)
    return Outcome(time.perf_counter() - began, None, "no result", moved)


async def run_jobs(
    pick: Callable[[int], SpaceModel],
    n: int,
    during: Callable[[], Awaitable[None]] | None = None,
    every: float = 0.0,
) -> tuple[float, list[Outcome]]:
    """`n` jobs, all at once or one every `every` seconds (callers arriving over time)."""
    began = time.perf_counter()
    jobs = []
    for i in range(n):
        jobs.append(asyncio.ensure_future(one_job(pick(i), f"a lighthouse {i}")))
        if every:
            await asyncio.sleep(every)
    if during is not None:
        await during()
    outcomes = await asyncio.gather(*jobs)
    return time.perf_counter() - began, list(outcomes)


def completed(copies: list[Copy]) -> int:
    return sum(int(c.stats()["jobs_completed"]) for c in copies)


def line(label: str, value: str, target: str = "", ok: bool | None = None) -> str:
    verdict = "" if ok is None else ("PASS" if ok else "FAIL")
    return f"| {label} | {value} | {target} | {verdict} |"


async def measure_throughput(copies: list[Copy], jobs: int, service: float) -> list[str]:
    for c in copies:
        reset(c)
    one = pool_of([janus(copies[0])])
    wall1, out1 = await run_jobs(lambda i: one, jobs)
    await one.aclose()
    three = pool_of([janus(c) for c in copies])
    wall3, out3 = await run_jobs(lambda i: three, jobs)
    await three.aclose()
    t1, t3 = jobs / wall1, jobs / wall3
    floor = len(copies) / service
    fails = sum(o.error is not None for o in out1 + out3)
    spread = {janus(c): sum(o.endpoint == janus(c) for o in out3) for c in copies}
    return [
        line("1. 1 copy, 60 jobs: jobs/s", f"{t1:.2f} (capacity {1 / service:.2f})"),
        line(f"1. 3 copies, {jobs} jobs: jobs/s", f"{t3:.2f} (floor {floor:.2f})"),
        line("1. throughput 3 copies / 1 copy", f"{t3 / t1:.2f}x", "≥ 2.70", t3 / t1 >= 2.7),
        line("1. throughput 3 copies / floor", f"{t3 / floor:.2f}", "", None),
        line("1. failed jobs", str(fails), "0", fails == 0),
        line(
            "1. jobs per copy; moves (503 races)",
            " / ".join(map(str, spread.values())) + f"; {sum(o.reroutes for o in out3)}",
        ),
    ]


async def measure_kill(copies: list[Copy], jobs: int) -> list[str]:
    for c in copies:
        reset(c)
    victim, survivors = copies[0], copies[1:]
    model = pool_of([janus(c) for c in copies])

    async def kill_mid_run() -> None:
        for _ in range(6000):
            if int(victim.stats()["jobs_completed"]) >= 3:
                break
            await asyncio.sleep(0.05)
        victim.kill()

    _, outcomes = await run_jobs(lambda i: model, jobs, kill_mid_run)
    await model.aclose()
    fails = [o.error for o in outcomes if o.error is not None]
    on_victim = sum(o.endpoint == janus(victim) for o in outcomes)
    done_on_survivors = completed(survivors)
    twice = on_victim + done_on_survivors - (jobs - len(fails))
    moved = sum(o.reroutes > 0 for o in outcomes)
    return [
        line("2. one of 3 killed mid-run: failed jobs", str(len(fails)), "0", not fails),
        line("2. jobs completed twice", str(twice), "0", twice == 0),
        line("2. jobs moved to another copy", f"{moved} (served by the killed one: {on_victim})"),
    ]


async def measure_slow(copies: list[Copy], jobs: int, service: float) -> list[str]:
    """All jobs at once (a batch), then the same jobs arriving at 60 % of the copies'
    combined capacity: round-robin (same client-side line per copy) vs the pool."""
    for c in copies:
        reset(c)
    copies[2].configure(service_time=3 * service)
    urls = [janus(c) for c in copies]
    capacity = 2 / service + 1 / (3 * service)
    rows: list[str] = []
    for label, every in (("batch", 0.0), ("arrivals at 60 % load", 1 / (0.6 * capacity))):
        singles = [pool_of([u]) for u in urls]
        _, rr = await run_jobs(lambda i, s=singles: s[i % len(s)], jobs, every=every)
        for m in singles:
            await m.aclose()
        model = pool_of(urls)
        _, chosen = await run_jobs(lambda i, m=model: m, jobs, every=every)
        await model.aclose()
        mean_rr = statistics.mean(o.latency for o in rr)
        mean_pool = statistics.mean(o.latency for o in chosen)
        on_slow = sum(o.endpoint == urls[2] for o in chosen)
        fails = sum(o.error is not None for o in rr + chosen)
        rows += [
            line(
                f"3. one copy 3x slower, {label}: mean latency pool / round-robin",
                f"{mean_pool:.2f} s / {mean_rr:.2f} s = {mean_pool / mean_rr:.2f}",
                "≤ 0.80",
                mean_pool / mean_rr <= 0.8,
            ),
            line(
                f"3. {label}: jobs on the slow copy (pool)",
                f"{on_slow} of {jobs}; failures {fails}",
            ),
        ]
    copies[2].configure(service_time=service)
    return rows


FAULTS = {  # ~10 % of jobs meet one: a refused join, a cut stream, an app error
    "join_status": 502,
    "join_fail_rate": 0.04,
    "cut_stream_after": 1,
    "cut_stream_rate": 0.04,
    "app_error": True,
    "app_error_rate": 0.02,
}


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def settle(baseline_tasks: int) -> int:
    for _ in range(100):
        if len(asyncio.all_tasks()) <= baseline_tasks:
            break
        await asyncio.sleep(0.05)
    return len(asyncio.all_tasks())


async def measure_batch(copies: list[Copy], n: int, per_copy: int) -> list[str]:
    from langchain_core.messages import AIMessage
    from llama_index.core.llms import ChatMessage

    from langchain_hfspaces import ChatHFSpaces
    from llama_index_hfspaces import HFSpacesLLM

    rows: list[str] = []
    urls = [phi4(c) for c in copies]
    limit = per_copy * len(copies)
    for c in copies:
        reset(c)
        c.configure(**FAULTS)
    fds, tasks = open_fds(), len(asyncio.all_tasks())

    chat = ChatHFSpaces(model="phi-4", endpoint=urls, timeout=600)
    began = time.perf_counter()
    answers = await chat.abatch(
        [f"question {i}" for i in range(n)],
        config={"max_concurrency": limit},
        return_exceptions=True,
    )
    lc_wall = time.perf_counter() - began
    await chat.aclose()
    lc_ok = sum(isinstance(a, AIMessage) for a in answers)
    lc_typed = sum(isinstance(a, (SpaceError, ValueError)) for a in answers)
    lc_other = [type(a).__name__ for a in answers if not isinstance(a, (AIMessage, SpaceError))]

    llm = HFSpacesLLM(model="phi-4", endpoint=urls, timeout=600)
    gate = asyncio.Semaphore(limit)

    async def ask(i: int) -> Any:
        async with gate:
            return await llm.achat([ChatMessage(role="user", content=f"question {i}")])

    began = time.perf_counter()
    replies = await asyncio.gather(*(ask(i) for i in range(n)), return_exceptions=True)
    li_wall = time.perf_counter() - began
    await llm.aclose()
    li_ok = sum(not isinstance(r, BaseException) for r in replies)
    li_typed = sum(isinstance(r, SpaceError) for r in replies)
    li_other = [
        type(r).__name__
        for r in replies
        if isinstance(r, BaseException) and not isinstance(r, SpaceError)
    ]
    kinds = Counter(type(r).__name__ for r in [*answers, *replies] if isinstance(r, BaseException))
    fired = [c.request("/_replica/configure", {})["faults"].get("fired", {}) for c in copies]
    faults = sum(f.get(k, 0) for f in fired for k in ("join", "cut_stream", "app_error"))
    for c in copies:
        reset(c)
    end_tasks = await settle(tasks)
    end_fds = open_fds()
    rows += [
        line(
            f"4. LangChain abatch, {n} inputs, max_concurrency {limit}",
            f"{lc_ok} results + {lc_typed} typed errors in {lc_wall:.1f} s",
            "every item",
            lc_ok + lc_typed == n and not lc_other,
        ),
        line(
            f"4. LlamaIndex gather, {n} inputs, {limit} at a time",
            f"{li_ok} results + {li_typed} typed errors in {li_wall:.1f} s",
            "every item",
            li_ok + li_typed == n and not li_other,
        ),
        line(
            "4. fds / tasks after vs before",
            f"{end_fds}/{fds} fds, {end_tasks}/{tasks} tasks",
            "back to start",
            end_fds <= fds and end_tasks <= tasks,
        ),
        line("4. faults injected (joins refused, streams cut, app errors)", str(faults)),
        line("4. typed errors by kind", ", ".join(f"{k} {v}" for k, v in kinds.items()) or "-"),
    ]
    return rows


async def main(args: argparse.Namespace) -> int:
    print(f"starting 3 replicas (ZeroGPU mode, service time {args.service} s)...", flush=True)
    copies = [start_copy(args.service) for _ in range(3)]
    rows = ["| measure | value | target | |", "|---|---|---|---|"]
    try:
        if "1" in args.only:
            rows += await measure_throughput(copies, args.jobs, args.service)
        if "3" in args.only:
            rows += await measure_slow(copies, args.jobs, args.service)
        if "4" in args.only:
            fast = [start_copy(args.batch_service) for _ in range(3)]
            try:
                rows += await measure_batch(fast, args.batch, args.per_copy)
            finally:
                for c in fast:
                    c.stop()
        if "2" in args.only:
            rows += await measure_kill(copies, args.jobs)  # last: it kills a copy
    finally:
        for c in copies:
            c.stop()
    print("\n".join(rows))
    return 0 if not any(r.endswith("FAIL |") for r in rows) else 1


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--service", type=float, default=0.5, help="seconds per GPU call")
    p.add_argument("--jobs", type=int, default=60)
    p.add_argument("--batch", type=int, default=500, help="inputs of measure 4")
    p.add_argument("--batch-service", type=float, default=0.02, help="service time, measure 4")
    p.add_argument("--per-copy", type=int, default=2, help="concurrency per copy, measure 4")
    p.add_argument("--only", default="1234")
    return p.parse_args()


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse())))
