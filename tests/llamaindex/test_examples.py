"""The LlamaIndex examples run as they are (against the session replica, through the
HFSPACES_ENDPOINTS it set, so they do not start one of their own)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def run_example(name: str, *args: str) -> str:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'shared'}{os.pathsep}{ROOT}"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / name), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_query_image_example(fresh_replica: Any) -> None:
    out = run_example("llamaindex_query_image.py", "--model", "janus-pro-7b")
    assert "embedded replica" not in out  # it used the session's replica
    assert "mostly red and white" in out and "answered from 1 image node" in out


def test_agent_image_example(fresh_replica: Any, tmp_path: Path) -> None:
    out = run_example("llamaindex_agent_image.py", "--out", str(tmp_path))
    assert "-> generate_image(" in out and "-> describe_image(" in out
    assert [p.name for p in tmp_path.iterdir()] == ["a-lighthouse-at-dusk-seed1234-1.webp"]
    assert "Answer: Generated 1 image" in out


def test_receipt_example(fresh_replica: Any) -> None:
    out = run_example("llamaindex_receipt.py", "--model", "phi-4-multimodal")
    # The replica derives the receipt from the photo: 200×300, mostly white, red header.
    assert "total: 203.00" in out and "paper colour: white" in out
    assert "  - red name: 204.00" in out and "as_structured_llm: Receipt total 203.00" in out
