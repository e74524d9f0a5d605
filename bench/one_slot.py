"""One-slot measure (issue 10): 20 concurrent calls against a ZeroGPU Space that runs one
job and holds one more (a third concurrent join gets `503 Queue is full`).

The replica runs in its own process in ZeroGPU mode (its default) with `--service-time S`:
every GPU call lasts at least S seconds. Peers, each run on a freshly reset replica:

- hfspaces, 20 concurrent calls from one `SpaceClient`;
- hfspaces, 20 separate processes with one call each;
- gradio_client 2.x, 20 concurrent `Client.submit` from one process (as it is: it has no
  queue-full retry, a 503 is a failure);
- floor: bare aiohttp, 20 tasks, each refused join retried after a fixed S/4 (the busiest
  the slot can be kept by polling, at its request cost).

Per peer: completed jobs, failures, share of time the one slot is busy (jobs × S over the
window from the first join to the last completion), join requests per completed job.

Time is compressed: S = 1 s stands for a ZeroGPU call of ~30 s, and hfspaces' queue
backoff (1 s first wait, 30 s ceiling by default) is scaled by the same 1/30.

    python bench/one_slot.py [--service-time 1.0] [--calls 20] [--out bench/one_slot.md]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from common import JANUS, ReplicaProcess  # noqa: E402

#: A ZeroGPU call in real life, which the bench's service time stands for (seconds).
REAL_SERVICE_TIME = 30.0


def start_zerogpu_replica(service_time: float) -> ReplicaProcess:
    """The replica CLI in ZeroGPU mode (one running job, one waiting slot)."""
    cmd = [
        sys.executable,
        "-m",
        "hfspaces.replica",
        "--token-delay",
        "0",
        "--image-size",
        "64",
        "--no-quota",
        "--service-time",
        str(service_time),
    ]
    env = {**os.environ, "HFSPACES_REPLICA_LOG_LEVEL": "error"}
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
    urls: dict[str, str] = {}
    assert proc.stdout is not None
    deadline = time.monotonic() + 120
    while "hub" not in urls:
        line = proc.stdout.readline()
        if not line or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("the replica did not start")
        name, _, url = line.strip().partition(" ")
        urls[name] = url
    return ReplicaProcess(proc, urls)


def replica_call(replica: ReplicaProcess, path: str, method: str = "GET") -> dict[str, Any]:
    req = urllib.request.Request(
        replica.base + path, method=method, data=b"" if method == "POST" else None
    )
    with urllib.request.urlopen(req, timeout=30) as resp:
        body: dict[str, Any] = json.loads(resp.read() or b"{}")
    return body


# -- the peers (run in worker processes) -------------------------------------------------


def data(i: int) -> list[Any]:
    return [f"a red cube {i}", i, 5.0, 1.0]


async def hfspaces_calls(url: str, indices: list[int], scale: float) -> list[dict[str, Any]]:
    from hfspaces import Completed, QueueFullWait, SpaceClient

    async with SpaceClient(url, space_id=JANUS) as client:
        first, ceiling = client.queue_backoff_range
        client.queue_backoff_range = (first * scale, ceiling * scale)

        async def one(i: int) -> dict[str, Any]:
            out: dict[str, Any] = {"joined_at": time.time(), "waits": 0}
            try:
                job = await client.submit("generate_image", data(i))
                async for event in job:
                    if isinstance(event, QueueFullWait):
                        out["waits"] += 1
                    elif isinstance(event, Completed):
                        out["done_at"] = time.time()
            except Exception as exc:
                out["error"] = f"{type(exc).__name__}: {exc}"[:200]
            return out

        return list(await asyncio.gather(*(one(i) for i in indices)))


def gradio_client_calls(url: str, indices: list[int]) -> list[dict[str, Any]]:
    from concurrent.futures import ThreadPoolExecutor

    from gradio_client import Client

    client = Client(url, verbose=False)

    def one(i: int) -> dict[str, Any]:
        out: dict[str, Any] = {"joined_at": time.time(), "waits": 0}
        try:
            client.submit(*data(i), api_name="/generate_image").result(timeout=600)
            out["done_at"] = time.time()
        except Exception as exc:
            out["error"] = f"{type(exc).__name__}: {exc}"[:200]
        return out

    with ThreadPoolExecutor(len(indices)) as pool:
        return list(pool.map(one, indices))


async def floor_calls(url: str, indices: list[int], interval: float) -> list[dict[str, Any]]:
    import secrets

    import aiohttp

    async with aiohttp.ClientSession() as session:
        async with session.get(url + "/config") as resp:
            config = await resp.json()
        fn = next(d["id"] for d in config["dependencies"] if d["api_name"] == "generate_image")
        api = url + "/gradio_api"

        async def one(i: int) -> dict[str, Any]:
            out: dict[str, Any] = {"joined_at": time.time(), "waits": 0}
            session_hash = secrets.token_hex(6)
            body = {
                "data": data(i),
                "fn_index": fn,
                "session_hash": session_hash,
                "trigger_id": None,
                "event_data": None,
            }
            while True:
                async with session.post(api + "/queue/join", json=body) as resp:
                    if resp.status != 503:
                        resp.raise_for_status()
                        break
                out["waits"] += 1
                await asyncio.sleep(interval)
            async with session.get(f"{api}/queue/data?session_hash={session_hash}") as resp:
                async for line in resp.content:
                    if line.startswith(b"data:") and b"process_completed" in line:
                        out["done_at"] = time.time()
                        break
            return out

        return list(await asyncio.gather(*(one(i) for i in indices)))


def worker(role: str, url: str, indices: list[int], service_time: float) -> None:
    scale = service_time / REAL_SERVICE_TIME
    if role == "hfspaces":
        results = asyncio.run(hfspaces_calls(url, indices, scale))
    elif role == "gradio_client":
        results = gradio_client_calls(url, indices)
    else:
        results = asyncio.run(floor_calls(url, indices, service_time / 4))
    print(json.dumps(results), flush=True)


# -- the driver ----------------------------------------------------------------------------


PEERS = (
    ("hfspaces, 20 calls from one client", "hfspaces", 1),
    ("hfspaces, 20 processes", "hfspaces", 20),
    ("gradio_client, 20 calls from one client", "gradio_client", 1),
    ("floor (bare aiohttp, retry every S/4)", "floor", 1),
)


def run_peer(
    replica: ReplicaProcess, role: str, processes: int, calls: int, service_time: float
) -> dict[str, Any]:
    url = replica.urls[JANUS]
    replica_call(replica, "/_replica/reset", "POST")
    per = [list(range(calls))[p::processes] for p in range(processes)]
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--worker", role, url, json.dumps(idx), str(service_time)],
            stdout=subprocess.PIPE,
            text=True,
        )
        for idx in per
    ]
    results: list[dict[str, Any]] = []
    for proc in procs:
        out, _ = proc.communicate(timeout=900)
        results += json.loads(out.strip().splitlines()[-1])
    stats = replica_call(replica, "/_replica/stats")
    done = [r for r in results if "done_at" in r]
    failures = [r["error"] for r in results if "error" in r]
    window = (max(r["done_at"] for r in done) - min(r["joined_at"] for r in results)) if done else 0
    completed = int(stats.get("jobs_completed", 0))
    return {
        "completed": len(done),
        "failures": len(failures),
        "errors": sorted(set(failures))[:3],
        "busy": completed * service_time / window if window else 0.0,
        "joins_per_job": stats.get("joins_total", 0) / completed if completed else float("nan"),
        "waits": sum(r["waits"] for r in results),
        "window": window,
    }


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        worker(sys.argv[2], sys.argv[3], json.loads(sys.argv[4]), float(sys.argv[5]))
        return 0
    parser = argparse.ArgumentParser()
    parser.add_argument("--service-time", type=float, default=1.0)
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    replica = start_zerogpu_replica(args.service_time)
    rows = []
    try:
        for label, role, processes in PEERS:
            rows.append((label, run_peer(replica, role, processes, args.calls, args.service_time)))
    finally:
        replica.stop()
    lines = [
        f"One-slot measure: {args.calls} concurrent calls, replica in ZeroGPU mode "
        f"(1 running + 1 waiting, 503 beyond), service time {args.service_time:g} s "
        f"(stands for ~{REAL_SERVICE_TIME:g} s; hfspaces' backoff scaled alike).",
        "",
        "| peer | completed | failures | busy share | joins / completed job | waits | window |",
        "|---|---|---|---|---|---|---|",
    ]
    for label, r in rows:
        lines.append(
            f"| {label} | {r['completed']}/{args.calls} | {r['failures']} | {r['busy']:.2f} | "
            f"{r['joins_per_job']:.1f} | {r['waits']} | {r['window']:.1f} s |"
        )
    errors = [f"- {label}: {e}" for label, r in rows for e in r["errors"]]
    if errors:
        lines += ["", "Failures (first of each kind):", *errors]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
