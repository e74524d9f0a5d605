"""Hostile and huge answers (issue 11, items 1, 6 and 7): the cost to the client, on the
code before the fix and after it, in the same run.

A loopback aiohttp server in this process plays the hostile Space (no replica: real Gradio
apps do not send these answers). Each measure runs a fresh client process, which reports
its CPU time and how far its peak RSS rose during the call:

- bomb: `/config` is 1 GiB of zeros gzip-compressed to about 1 MB (item 1);
- append32: 16 append diffs of 32 MB onto one output (item 6);
- tokens: an 8 MB string, then 3,000 one-character append diffs (item 7);
- line16/32/60: one `data:` line of 16, 32 or 60 MB, a legitimate answer (item 7);
- chat: an ordinary stream, 5,000 one-word appends to a chat history (no regression).

    python bench/hostile.py --base /tmp/hbase --head .

(`--base`/`--head`: checkouts whose `shared/` holds the `hfspaces` to measure; the base
is main at a5a8c3c: `git worktree add /tmp/hbase a5a8c3c`.)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import threading
import time
import zlib
from pathlib import Path
from typing import Any

MB = 1024 * 1024
SCENARIOS = ("bomb", "append32", "tokens", "line16", "line32", "line60", "chat")
CONFIG = {
    "version": "6.31.0",
    "protocol": "sse_v3",
    "api_prefix": "/gradio_api",
    "components": [{"id": 1, "type": "textbox", "props": {}}],
    "dependencies": [
        {
            "id": 0,
            "api_name": "predict",
            "inputs": [1],
            "outputs": [1],
            "targets": [[1, "click"]],
            "queue": True,
            "types": {"generator": True},
        }
    ],
}


def event(body: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(body).encode() + b"\n\n"


def generating(diff: Any) -> bytes:
    return event(
        {
            "msg": "process_generating",
            "event_id": "ev1",
            "success": True,
            "output": {"data": [diff]},
        }
    )


def completed(value: Any) -> bytes:
    return event(
        {
            "msg": "process_completed",
            "event_id": "ev1",
            "success": True,
            "output": {"data": [value]},
        }
    )


def gzip_bomb() -> bytes:
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = bytes(MB)
    return b"".join([*(packer.compress(block) for _ in range(1024)), packer.flush()])


def streams() -> dict[str, list[bytes]]:
    """The event stream of each scenario, built once (the server's cost is not measured)."""
    big = generating([["append", [], "x" * (32 * MB)]])
    text = "a" * (8 * MB)
    token = generating([["append", [], "b"]])
    out = {
        "append32": [generating("start"), *([big] * 16), completed("done")],
        "tokens": [generating(text), token * 3000, completed(text + "b" * 3000)],
    }
    for size in (16, 32, 60):
        out[f"line{size}"] = [completed("y" * (size * MB))]
    history = [{"role": "user", "content": "hi"}, {"role": "assistant", "content": ""}]
    word = generating([["append", [1, "content"], "word "]])
    final = [history[0], {"role": "assistant", "content": "word " * 5000}]
    out["chat"] = [generating(history), *([word] * 5000), completed(final)]
    return out


# -- the hostile Space ---------------------------------------------------------------------


def serve() -> tuple[str, Any]:
    from aiohttp import web

    bomb = gzip_bomb()
    bodies = streams()

    async def handle(request: web.Request) -> web.StreamResponse:
        scenario, _, rest = request.path.strip("/").partition("/")
        if rest == "config":
            if scenario == "bomb":
                return web.Response(
                    body=bomb,
                    headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
                )
            return web.json_response(CONFIG)
        if rest == "gradio_api/queue/join":
            return web.json_response({"event_id": "ev1"})
        if rest == "gradio_api/queue/data":
            resp = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await resp.prepare(request)
            try:
                for part in bodies[scenario]:
                    await resp.write(part)
                await resp.write_eof()
            except (ConnectionError, RuntimeError):
                pass  # the client refused the answer and hung up
            return resp
        return web.json_response({"success": True})

    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, Any] = {}

    async def start() -> None:
        app = web.Application(client_max_size=MB)
        app.router.add_route("*", "/{tail:.*}", handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        holder["port"] = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        ready.set()

    thread = threading.Thread(target=lambda: (loop.run_until_complete(start()), loop.run_forever()))
    thread.daemon = True
    thread.start()
    ready.wait(60)
    return f"http://127.0.0.1:{holder['port']}", loop


# -- one client process --------------------------------------------------------------------


def child(scenario: str, url: str) -> None:
    from hfspaces import SpaceClient

    async def call() -> str:
        client = SpaceClient(f"{url}/{scenario}", max_retries=0, timeout=600)
        try:
            if scenario == "bomb":
                await client.config()
            else:
                job = await client.submit("predict", ["x"])
                async for _ in job:
                    pass
                await job.result()
            return "accepted"
        except Exception as exc:
            return f"{type(exc).__name__}: {str(exc)[:70]}"
        finally:
            await client.aclose()

    asyncio.run(asyncio.sleep(0))  # the event loop's own imports, before the baseline
    before = memory_kb("VmRSS")
    cpu = time.process_time()
    outcome = asyncio.run(call())
    cpu = time.process_time() - cpu
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over exec from the forking parent.
    peak = memory_kb("VmHWM")
    print(
        json.dumps(
            {
                "cpu_s": round(cpu, 2),
                "peak_rss_rise_mb": round((peak - before) / 1024, 1),
                "outcome": outcome,
            }
        )
    )


def memory_kb(field: str) -> int:
    with open("/proc/self/status") as status:
        line = next(x for x in status if x.startswith(f"{field}:"))
    return int(line.split()[1])


def measure(code: Path, scenario: str, url: str) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(code / "shared"), str(code)])}
    result = subprocess.run(
        [sys.executable, __file__, "--child", scenario, url],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if result.returncode != 0:
        return {"cpu_s": None, "peak_rss_rise_mb": None, "outcome": result.stderr[-200:]}
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", type=Path, default=Path("/tmp/hbase"))
    parser.add_argument("--head", type=Path, default=Path(__file__).resolve().parents[1])
    parser.add_argument("--only", nargs="*", choices=SCENARIOS, default=list(SCENARIOS))
    parser.add_argument("--child", nargs=2, metavar=("SCENARIO", "URL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(*args.child)
        return
    url, _ = serve()
    print(f"{'scenario':<9} {'code':<5} {'cpu s':>7} {'peak RSS +MB':>13}  outcome")
    for scenario in args.only:
        rows = {
            name: measure(path, scenario, url)
            for name, path in (("base", args.base), ("head", args.head))
        }
        for name, row in rows.items():
            cpu = "-" if row["cpu_s"] is None else f"{row['cpu_s']:.2f}"
            rss = "-" if row["peak_rss_rise_mb"] is None else f"{row['peak_rss_rise_mb']:.0f}"
            print(f"{scenario:<9} {name:<5} {cpu:>7} {rss:>13}  {row['outcome']}")
        base, head = rows["base"], rows["head"]
        if base["cpu_s"] and head["cpu_s"]:
            cpu_ratio = base["cpu_s"] / max(head["cpu_s"], 0.01)
            rss_ratio = max(base["peak_rss_rise_mb"], 1) / max(head["peak_rss_rise_mb"], 1)
            print(f"{'':<9} ratio base/head: cpu x{cpu_ratio:.1f}, peak RSS x{rss_ratio:.1f}")


if __name__ == "__main__":
    main()
