"""Helpers for the CLI tests: run `python -m hfspaces.cli` as a user would, with the
session replica's endpoints in the environment (the `replica` fixture sets them)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PYTHONPATH = os.pathsep.join([str(ROOT / "shared"), str(ROOT)])


def cli_env(**extra: str) -> dict[str, str]:
    """os.environ (HFSPACES_ENDPOINTS from the replica fixture) plus our PYTHONPATH."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (PYTHONPATH, env.get("PYTHONPATH")) if p)
    env.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    env["COLUMNS"] = "200"  # keep rich from wrapping lines we match on
    env.update(extra)
    return env


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "hfspaces.cli", *args]


def run_cli(
    *args: str, timeout: float = 60, env: dict[str, str] | None = None, cwd: Path | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        cli_command(*args),
        env=env or cli_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=cwd,
        check=False,
    )


def _default_sigint() -> None:
    # A shell running us in the background may have SIGINT ignored; a user's terminal
    # delivers Ctrl-C with the default disposition, so give the child that.
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def start_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        cli_command(*args),
        env=env or cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        preexec_fn=_default_sigint,
    )


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Make sure a child started by a test is gone (it was ours, by pid)."""
    if proc.poll() is None:
        proc.kill()
        proc.wait(10)


def wait_for(predicate: Any, timeout: float, interval: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return bool(predicate())
