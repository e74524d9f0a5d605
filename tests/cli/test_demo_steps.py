"""`hfspaces demo` steps in-process: a missing wrapper skips its step with a clear line."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest
from hfspaces.cli.demo import (
    DemoContext,
    event_from_custom,
    run_step,
    step_agent_tool,
    step_langchain_chain,
    step_llamaindex_query,
    step_phi4_audio,
)
from hfspaces.events import Log, Progress, Queued, Started
from rich.console import Console


def context(tmp_path: Path, buffer: io.StringIO) -> DemoContext:
    console = Console(file=buffer, width=200)
    return DemoContext(console, tmp_path, tmp_path / "x.png", tmp_path / "x.wav", quiet=True)


@pytest.mark.parametrize(
    ("module", "steps", "line"),
    [
        (
            "langchain_hfspaces",
            [step_langchain_chain, step_agent_tool, step_phi4_audio],
            "skipped: LangChain wrapper not available",
        ),
        ("llama_index_hfspaces", [step_llamaindex_query], "skipped: LlamaIndex wrapper"),
    ],
)
def test_missing_wrapper_skips_the_step(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, module: str, steps: list, line: str
) -> None:
    monkeypatch.setitem(sys.modules, module, None)  # makes `import module` fail
    for step in steps:
        buffer = io.StringIO()
        assert run_step(context(tmp_path, buffer), 1, "step", step, debug=False) == "skipped"
        assert line in buffer.getvalue()


def test_a_failing_step_is_reported_not_raised(tmp_path: Path) -> None:
    def broken(ctx: DemoContext) -> None:
        raise RuntimeError("boom")

    buffer = io.StringIO()
    assert run_step(context(tmp_path, buffer), 2, "broken", broken, debug=False) == "failed"
    assert "failed: unexpected RuntimeError: boom" in buffer.getvalue()


def test_custom_events_map_back_to_space_events() -> None:
    assert event_from_custom("hfspaces_queue", {"rank": 0, "queue_size": 2, "eta": 1.0}) == (
        Queued(0, 2, 1.0)
    )
    assert event_from_custom("hfspaces_started", {"eta": None}) == Started(None)
    progress = {"desc": "d", "index": 1, "length": 5, "unit": "images", "progress": None}
    assert event_from_custom("hfspaces_progress", progress) == Progress("d", 1, 5, "images")
    assert event_from_custom("hfspaces_log", {"level": "warning", "message": "m"}) == Log(
        "warning", "m"
    )
    assert event_from_custom("other", {}) is None
