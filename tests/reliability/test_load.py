"""Load with faults: 500 jobs, 100 at a time, through one `SpaceClient` on the replica, with
10% of joins answered 503 and 5% of event streams cut (seeded, so runs are comparable).

Every job must end in a result or a typed `SpaceError`; afterwards no task is pending, the
connection pool is idle, and open file descriptors and RSS are back near where they started.

    PYTHONPATH=shared:. /work/venv/bin/python -m pytest tests/reliability/test_load.py \
        -m load -s -p no:cacheprovider
"""

from __future__ import annotations

import asyncio
import collections
import json
import threading
import time
from typing import Any

import pytest
from hfspaces import errors
from hfspaces.media import Media
from hfspaces.replica import PHI4_SPACE
from hfspaces.transport import Timeouts
from rel_support import LeakGuard, acquired, chat_text, fast_client, history, open_fds, until

JOBS = 500
CONCURRENCY = 100
SEED = 20240601
#: RSS may settle a little higher than at the start (allocator arenas, gradio's caches of
#: the replica running in this same process); a leak per job would be far above this.
RSS_SLACK = 64 * 1024 * 1024
LOAD_TIMEOUT = 300.0  # hang guard for the whole run


def rss() -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


async def one_job(client: Any, i: int, image: dict[str, Any]) -> str:
    """Run job `i`; return "result" or the name of the typed error it ended in."""
    turn: list[dict[str, Any]] = history(f"job {i}")[0]  # the installed gradio's shape
    if i % 5 == 4:  # every fifth job also sends an (uploaded, deduplicated) image
        gradio6 = isinstance(turn[0]["content"], list)
        content = [{"type": "file", "file": image}] if gradio6 else {"file": image}
        turn.insert(0, {"role": "user", "content": content})
    try:
        job = await client.submit("chat", [turn], text_of=chat_text)
        answer = chat_text(await job.result()) or ""
        assert f"job {i}" in answer
        assert ("Image 1" in answer) == (i % 5 == 4)
        return "result"
    except errors.SpaceError as exc:
        return type(exc).__name__


async def run_batch(client: Any, count: int, png: bytes) -> Any:
    gate = asyncio.Semaphore(CONCURRENCY)

    async def gated(i: int) -> str:
        async with gate:
            image = await client.upload(Media.from_bytes(png))  # once per client (hash cache)
            return await one_job(client, i, image)

    return await asyncio.gather(*(gated(i) for i in range(count)), return_exceptions=True)


@pytest.mark.load
async def test_load_with_faults(lenient_replica: Any, png_bytes: bytes) -> None:
    # 100 jobs at a time: the replica without ZeroGPU's one-slot queue (zerogpu=False).
    rep = lenient_replica
    rep.reset()
    rep.configure(answer_words=12, token_delay=0.01)
    timeouts = Timeouts(connect=10, idle=30, request=60, total=120)
    url = rep.url_for(PHI4_SPACE)

    # Warm up (imports, gradio's first requests, allocator) with a throwaway client.
    warm = fast_client(url, space_id=PHI4_SPACE, timeout=timeouts)
    await run_batch(warm, 50, png_bytes)
    await warm.aclose()
    await asyncio.sleep(0.5)

    guard = LeakGuard()
    threads_before = threading.active_count()
    rss_before = rss()
    rep.reset()
    rep.configure(
        answer_words=12,
        token_delay=0.01,
        fault_seed=SEED,
        join_status=503,
        join_fail_rate=0.10,
        retry_after=0,
        cut_stream_after=3,
        cut_stream_rate=0.05,
    )
    client = fast_client(url, space_id=PHI4_SPACE, timeout=timeouts, max_retries=3)
    started = time.monotonic()
    outcomes = await asyncio.wait_for(run_batch(client, JOBS, png_bytes), LOAD_TIMEOUT)
    elapsed = time.monotonic() - started

    counts = collections.Counter(
        o if isinstance(o, str) else f"UNTYPED {type(o).__name__}: {o}" for o in outcomes
    )
    stats = rep.stats()
    rep.reset()

    await until(lambda: acquired(client) == 0, "the connection pool to return to idle")
    pool_idle = acquired(client) == 0
    await client.aclose()
    await until(lambda: not guard.pending(), f"tasks still pending: {guard.pending()!r}")
    await until(lambda: open_fds() <= guard.fds, "open fds back to the start level", limit=20)
    await until(
        lambda: threading.active_count() <= threads_before, "threads back to the start level"
    )
    rss_after = rss()

    report = {
        "jobs": JOBS,
        "concurrency": CONCURRENCY,
        "seconds": round(elapsed, 1),
        "outcomes": dict(sorted(counts.items())),
        "server": {
            k: stats[k]
            for k in (
                "joins_total",
                "joins_rejected",
                "streams_opened",
                "streams_cut",
                "jobs_completed",
                "cancels",
                "uploads",
            )
        },
        "pending_tasks": len(guard.pending()),
        "pool_idle": pool_idle,
        "fds": {"start": guard.fds, "end": open_fds()},
        "threads": {"start": threads_before, "end": threading.active_count()},
        "rss_mb": {"start": round(rss_before / 2**20, 1), "end": round(rss_after / 2**20, 1)},
    }
    print("\nLOAD " + json.dumps(report))

    assert sum(counts.values()) == JOBS
    untyped = [k for k in counts if k.startswith("UNTYPED")]
    assert not untyped, untyped  # every job: a result or a typed SpaceError
    assert counts["result"] >= JOBS * 0.8
    assert stats["joins_rejected"] > 0 and stats["streams_cut"] > 0  # the faults did fire
    assert counts["SessionLostError"] <= stats["streams_cut"]
    assert stats["uploads"] == 1  # the same image, uploaded once for all 100 image jobs
    assert pool_idle
    assert rss_after - rss_before < RSS_SLACK
