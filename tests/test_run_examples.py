"""The core and LangChain examples run as they are, against the session replica (through
the HFSPACES_ENDPOINTS it set, so they start no replica of their own). The LlamaIndex
examples are run in tests/llamaindex/test_examples.py."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]

EXPECTED = {
    "core_stream.py": ["phi-4-multimodal, streamed:", "janus-pro-7b-image: 5 images", "cancelling"],
    "langchain_chat.py": ["done"],
    "langchain_agent_image.py": ["done"],
    "langchain_any_chat_space.py": [
        'Turn 1. You said: "hello"',
        "mostly green",
        "Assistant: Yes. Question: What colour is this?",
        "done",
    ],
    # The replica derives the receipt from the photo: 200×300, mostly white, red header.
    "langchain_receipt.py": ["merchant: white merchant", "total: 203.00", "paper colour: white"],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_runs(fresh_replica: Any, tmp_path: Path, name: str) -> None:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'shared'}{os.pathsep}{ROOT}"}
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / name)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "embedded replica" not in done.stdout  # it used the session's replica
    for expected in EXPECTED[name]:
        assert expected in done.stdout, (expected, done.stdout[-2000:])
    assert "Unclosed" not in done.stderr  # no leaked aiohttp sessions
