"""`hfspaces demo`'s step 5 in-process, against the session replica: an agent given only
`HFSpacesToolkit` tools of two Spaces it was never told about speaks and listens back."""

from __future__ import annotations

import io
import sys
from pathlib import Path
from typing import Any

import pytest
from hfspaces.cli.demo import DemoContext, run_step, step_unknown_space
from rich.console import Console


def context(tmp_path: Path, buffer: io.StringIO) -> DemoContext:
    console = Console(file=buffer, width=200)
    return DemoContext(console, tmp_path, tmp_path / "x.png", tmp_path / "x.wav", quiet=True)


def test_agent_uses_spaces_it_was_never_told_about(fresh_replica: Any, tmp_path: Path) -> None:
    buffer = io.StringIO()
    assert run_step(context(tmp_path, buffer), 5, "unknown", step_unknown_space, False) == "ok"
    out = buffer.getvalue()
    assert "tool generate: Kokoro TTS: /generate(text, voice, speed)" in out
    assert "tool transcribe: Whisper Large V3: /transcribe(inputs, task)" in out
    assert "agent: I said it and listened back. Transcript: hello from a space you never saw" in out
    (clip,) = (tmp_path / "speech").glob("*.wav")  # the spoken clip: saved, then uploaded
    assert clip.stat().st_size > 10_000
    calls = [c["fn"] for c in fresh_replica.stats()["calls"]]
    assert calls == ["generate", "transcribe"]


def test_step_skips_without_the_toolkit(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setitem(sys.modules, "langchain_hfspaces.space_tools", None)
    buffer = io.StringIO()
    assert run_step(context(tmp_path, buffer), 5, "unknown", step_unknown_space, False) == (
        "skipped"
    )
    assert "skipped: LangChain agents / HFSpacesToolkit not available" in buffer.getvalue()
