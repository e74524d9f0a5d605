"""``python -m hfspaces.replica`` as a process, and a replica whose jobs really queue."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import aiohttp
from hfspaces.replica import PHI4_SPACE, SPACES, Replica, ReplicaConfig
from replica_wire import chat_inputs, join, new_session, read_events, text_message

SHARED = Path(__file__).resolve().parents[2] / "shared"


def test_cli_prints_urls_and_stops_on_sigint() -> None:
    env = {**os.environ, "PYTHONPATH": f"{SHARED}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hfspaces.replica", "--image-size", "32", "--token-delay", "0"],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline().strip() for _ in range(len(SPACES) + 1)]
        names = [line.split(" ", 1)[0] for line in lines]
        assert names == [*SPACES, "hub"]  # the seed Spaces first, then the other shapes
        url = lines[0].split(" ", 1)[1]
        with urllib.request.urlopen(url + "/config", timeout=10) as resp:
            assert resp.status == 200
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=5)


async def test_concurrency_limit_queues_jobs_with_ranks() -> None:
    # Without ZeroGPU's one waiting slot, so that three jobs can wait in line.
    with Replica(ReplicaConfig(image_size=32, concurrency=1, zerogpu=False)) as rep:
        rep.configure(queue_delay=0.3)
        base = rep.url_for(PHI4_SPACE)
        async with aiohttp.ClientSession() as http:

            async def one() -> list[dict[str, Any]]:
                sh = new_session()
                resp = await join(http, base, 11, chat_inputs([text_message("q")]), sh)
                assert resp.status == 200
                out = []
                async with http.get(
                    f"{base}/gradio_api/queue/data", params={"session_hash": sh}
                ) as stream:
                    async for msg in read_events(stream):
                        out.append(msg)
                        if msg["msg"] == "process_completed":
                            break
                return out

            runs = await asyncio.gather(*(one() for _ in range(3)))
        ranks = [m["rank"] for run in runs for m in run if m["msg"] == "estimation"]
        assert max(ranks) >= 1
        assert all(run[-1]["success"] for run in runs)
        assert rep.stats()["jobs_completed"] == 3


def test_cli_flags_for_zerogpu_mode() -> None:
    from hfspaces.replica.cli import build_parser, config_from_args

    default = config_from_args(build_parser().parse_args([]))
    assert default.zerogpu and default.service_time == 0 and default.gradio_errors == "installed"
    args = build_parser().parse_args([
        "--no-zerogpu", "--service-time", "0.5", "--duration-factor", "1.5",
        "--spaces-version", "0.47", "--gradio-errors", "5.1",
    ])
    config = config_from_args(args)
    assert (config.zerogpu, config.service_time, config.duration_factor) == (False, 0.5, 1.5)
    assert (config.spaces_version, config.gradio_errors) == ("0.47", "5.1")
