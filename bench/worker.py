"""A client process: one library, run op by op on the driver's command.

`python bench/worker.py CLIENT URLS_JSON` reads `{"op": ..., "arg": ...}` lines on stdin
and answers one JSON line each (wall and client CPU of the op, plus what the op returns).
`--once OP ARG` runs a single op in a fresh process and adds its memory: RSS before the op
(after imports and a warm-up call) and the peak during it (measures 4 and 6).
"""

from __future__ import annotations

import asyncio
import inspect
import json
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from clients import CLIENTS
from common import big_png, clock, peak_rss_mb, reset_peak_rss, rss_mb


def run(loop: asyncio.AbstractEventLoop, result: Any) -> Any:
    return loop.run_until_complete(result) if inspect.isawaitable(result) else result


def do(loop: asyncio.AbstractEventLoop, client: Any, op: str, arg: Any) -> dict[str, Any]:
    if op == "big":
        arg = big_png()
    out: dict[str, float] = {}
    with clock(out):
        extra = run(loop, getattr(client, op)(arg))
    return {**out, **extra}


def main() -> int:
    name, urls = sys.argv[1], json.loads(sys.argv[2])
    # The protocol goes over the real stdout; anything the libraries print goes to stderr.
    wire = os.fdopen(os.dup(1), "w", buffering=1)
    os.dup2(2, 1)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    client = CLIENTS[name](urls)
    run(loop, client.warm())
    if len(sys.argv) > 3 and sys.argv[3] == "--once":
        op, arg = sys.argv[4], json.loads(sys.argv[5])
        if op == "big":
            big_png()  # make the file before measuring
        time.sleep(0.2)
        peak_at_start = peak_rss_mb()  # imports and the warm-up call
        reset_peak_rss()
        before = rss_mb()
        result = do(loop, client, op, arg)
        peak = peak_rss_mb()
        result.update(rss_before=before, rss_peak=max(peak, peak_at_start), rss_op_peak=peak)
        wire.write(json.dumps(result) + "\n")
        run(loop, client.close())
        return 0
    wire.write(json.dumps({"ready": True}) + "\n")
    for line in sys.stdin:
        cmd = json.loads(line)
        if cmd["op"] == "quit":
            break
        try:
            reply: dict[str, Any] = do(loop, client, cmd["op"], cmd.get("arg"))
        except Exception as exc:
            traceback.print_exc()
            reply = {"error": f"{type(exc).__name__}: {exc}"[:300]}
        wire.write(json.dumps(reply) + "\n")
    run(loop, client.close())
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    sys.exit(main())
