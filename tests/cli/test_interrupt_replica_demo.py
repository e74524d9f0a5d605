"""Ctrl-C during a job, `hfspaces replica`, and `hfspaces demo` end to end."""

from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import cli_env, start_cli, stop, wait_for


def read_until(stream: Any, needle: bytes, timeout: float) -> bytes:
    """Read a child's pipe until `needle` appears (or the time is up)."""
    seen = b""
    deadline = time.monotonic() + timeout
    while needle not in seen and time.monotonic() < deadline:
        ready, _, _ = select.select([stream], [], [], 0.1)
        if ready:
            chunk = os.read(stream.fileno(), 4096)
            if not chunk:
                break
            seen += chunk
    return seen


@pytest.mark.parametrize(
    ("settings", "wait_for_text"),
    [
        ({"token_delay": 0.3, "answer_words": 200}, b"Turn"),  # interrupted mid-answer
        ({"queue_delay": 30.0}, None),  # interrupted while waiting for a GPU
    ],
)
def test_ctrl_c_cancels_the_job_on_the_server(
    slow_replica: Any, settings: dict[str, Any], wait_for_text: bytes | None
) -> None:
    slow_replica.configure(**settings)
    proc = start_cli("chat", "tell me everything")
    try:
        assert proc.stdout is not None and proc.stderr is not None
        if wait_for_text:
            assert wait_for_text in read_until(proc.stdout, wait_for_text, 30)
        else:
            assert b"running" in read_until(proc.stderr, b"running", 30)
        assert wait_for(lambda: slow_replica.stats()["running"] == 1, 10)
        proc.send_signal(signal.SIGINT)
        proc.wait(20)
        err = proc.stderr.read().decode()
    finally:
        stop(proc)
    assert proc.returncode == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert wait_for(lambda: slow_replica.stats()["jobs_cancelled"] == 1, 10), slow_replica.stats()
    stats = slow_replica.stats()
    assert stats["running"] == 0 and stats["jobs_completed"] == 0


def test_replica_command_serves_until_sigint() -> None:
    proc = start_cli("replica", "--port", "0", "--token-delay", "0.01")
    try:
        assert proc.stdout is not None
        out = read_until(proc.stdout, b"hub ", 90).decode()
        lines = dict(line.split(" ", 1) for line in out.strip().splitlines() if " " in line)
        assert set(lines) >= {"deepseek-ai/Janus-Pro-7B", "microsoft/phi-4-multimodal", "hub"}
        janus = lines["deepseek-ai/Janus-Pro-7B"].strip()
        with urllib.request.urlopen(janus + "/config", timeout=10) as response:
            assert json.load(response)["title"] == "Janus-Pro-7B"
        proc.send_signal(signal.SIGINT)
        proc.wait(30)
    finally:
        stop(proc)
    assert proc.returncode == 0


@pytest.mark.timeout(300)
def test_demo_end_to_end(tmp_path: Path) -> None:
    env = cli_env()
    env.pop("HFSPACES_ENDPOINTS", None)  # the demo always serves its own replica
    out = tmp_path / "demo-images"
    result = subprocess.run(
        [*start_args(), "demo", "--out", str(out), "--token-delay", "0"],
        env=env, capture_output=True, text=True, timeout=240, cwd=tmp_path, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    text = result.stdout
    for heading in ("1. LangChain", "2. LlamaIndex", "3. Agent tool", "4. Phi-4", "5. An agent"):
        assert heading in text
    assert "agent: I said it and listened back. Transcript: hello from a space" in text
    assert "demo finished: 5 ok, 0 skipped, 0 failed" in text
    assert "replica stopped" in text
    assert 'You said: "What do you hear in this clip?"' in text
    images = sorted(out.glob("*.webp"))
    assert len(images) == 2 and all(p.stat().st_size > 0 for p in images)
    (clip,) = (out / "speech").glob("*.wav")  # step 5: what the agent said, then heard
    assert clip.stat().st_size > 0
    assert str(out) in text


@pytest.mark.timeout(200)
def test_demo_ctrl_c_stops_the_replica(tmp_path: Path) -> None:
    env = cli_env()
    env.pop("HFSPACES_ENDPOINTS", None)
    proc = start_cli("demo", "--out", str(tmp_path / "o"), "--token-delay", "2", env=env)
    try:
        assert proc.stdout is not None
        seen = read_until(proc.stdout, b"1. LangChain", 120)
        assert b"1. LangChain" in seen, seen
        port = int(seen.split(b"http://127.0.0.1:")[1].split(b"/")[0])
        # Interrupt while the first step's job runs on the demo's own replica.
        assert wait_for(lambda: replica_stats(port).get("running") == 1, 60)
        proc.send_signal(signal.SIGINT)
        proc.wait(60)
        rest = proc.stdout.read()
    finally:
        stop(proc)
    assert proc.returncode == 130
    assert b"replica stopped" in seen + rest
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)


def replica_stats(port: int) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_replica/stats", timeout=5) as r:
            return dict(json.load(r))
    except OSError:
        return {}


def start_args() -> list[str]:
    import sys

    return [sys.executable, "-m", "hfspaces.cli"]
