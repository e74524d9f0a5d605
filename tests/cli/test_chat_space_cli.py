"""`hfspaces chat --space`: any chat Space from the command line, against the replica's
streaming multimodal ChatInterface (reached by its made-up id through HFSPACES_ENDPOINTS)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from cli_helpers import run_cli
from hfspaces.replica.config import CHAT_SPACE, FLUX_SPACE
from media_samples import make_png


def test_chat_space_streams_the_answer_with_an_image(replica: Any, tmp_path: Path) -> None:
    image = tmp_path / "red.png"
    image.write_bytes(make_png())
    result = run_cli(
        "chat", "what is it?", "--space", CHAT_SPACE, "--image", str(image), "--system", "Short"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == (
        '[Short] Turn 1. You said: "what is it?". Image 1 is a 32×24 image, mostly red and '
        "white. (temperature 0.7)\n"
    )


def test_chat_space_json_records_deltas(replica: Any) -> None:
    result = run_cli("chat", "hi", "--space", CHAT_SPACE, "--api-name", "/respond", "--json")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    deltas = [r["text"] for r in records if r.get("event") == "text"]
    assert len(deltas) > 3
    assert "".join(deltas) == records[-1]["text"]


def test_bad_combinations_exit_2_before_any_request(replica: Any) -> None:
    both = run_cli("chat", "hi", "--space", CHAT_SPACE, "--model", "phi-4")
    assert both.returncode == 2 and "not both" in both.stderr
    lone = run_cli("chat", "hi", "--api-name", "/respond")
    assert lone.returncode == 2 and "api_name goes with space=" in lone.stderr


def test_a_space_without_chat_endpoint_exits_1(replica: Any) -> None:
    result = run_cli("chat", "hi", "--space", FLUX_SPACE)
    assert result.returncode == 1
    assert "no chat endpoint" in result.stderr and "/infer" in result.stderr
