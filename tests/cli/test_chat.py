"""`hfspaces chat` against the replica: streamed output, JSON events, exit codes."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

import pytest
from cli_helpers import run_cli, start_cli, stop


def test_chat_prints_the_answer_and_status_lines(replica: Any) -> None:
    result = run_cli("chat", "hello there")
    assert result.returncode == 0, result.stderr
    assert 'You said: "hello there"' in result.stdout
    assert result.stdout.endswith("\n")
    # stderr is not a terminal here: plain status lines, never mixed into stdout
    assert "hfspaces: queued" in result.stderr
    assert "hfspaces: running" in result.stderr
    assert "hfspaces: done" in result.stderr
    assert "hfspaces:" not in result.stdout


def test_chat_streams_tokens_as_they_arrive(slow_replica: Any) -> None:
    slow_replica.configure(token_delay=0.05, answer_words=40)
    proc = start_cli("chat", "tell me a story", "--quiet")
    try:
        assert proc.stdout is not None
        arrivals: list[tuple[float, bytes]] = []
        while chunk := os.read(proc.stdout.fileno(), 4096):
            arrivals.append((time.monotonic(), chunk))
        proc.wait(30)
        ended = time.monotonic()
    finally:
        stop(proc)
    assert proc.returncode == 0
    text = b"".join(c for _, c in arrivals).decode()
    assert len(text.split()) >= 30
    # 40 words at 50 ms: the first words are on stdout well before the last
    assert len(arrivals) >= 5
    assert ended - arrivals[0][0] > 0.8


def test_chat_json_prints_one_event_per_line(replica: Any) -> None:
    result = run_cli("chat", "hi", "--json")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    kinds = [r["event"] for r in records]
    assert kinds[0] == "queued" and "started" in kinds and kinds[-1] == "done"
    streamed = "".join(r["text"] for r in records if r["event"] == "text")
    done = records[-1]
    assert streamed == done["text"]
    assert done["model"] == "phi-4-multimodal"
    assert done["finish_reason"] == "stop"
    assert {"rank", "queue_size", "eta"} <= set(records[0])


def test_chat_with_an_image_file_asks_janus(replica: Any, image_file: Path) -> None:
    result = run_cli("chat", "what is this?", "--model", "janus", "--image", str(image_file))
    assert result.returncode == 0, result.stderr
    assert "image" in result.stdout and "what is this?" in result.stdout


def test_chat_with_audio_and_system_prompt_on_phi4(replica: Any, audio_file: Path) -> None:
    result = run_cli(
        "chat", "what do you hear?", "--audio", str(audio_file), "--system", "Be brief."
    )
    assert result.returncode == 0, result.stderr
    assert "Audio 1 is a WAV audio clip" in result.stdout


def test_quiet_leaves_stderr_empty(replica: Any) -> None:
    result = run_cli("chat", "hello", "--quiet")
    assert result.returncode == 0
    assert result.stderr == ""
    assert "hello" in result.stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--model", "janus", "--image", "{image}", "--audio", "{audio}"], "does not accept audio"),
        (["--model", "janus"], "attach an image"),
        (["--model", "no-such-model"], "unknown model"),
        (["--image", "/no/such/file.png"], "no such file"),
        (["--image", "{audio}"], "expected image media"),
        (["--seed", "3"], "does not take seed"),
        (["--model", "janus-pro-7b-image"], "use `hfspaces image`"),
        (["--endpoint", "ftp://example"], "endpoint must be"),
    ],
)
def test_bad_input_exits_2_with_one_line(
    replica: Any, image_file: Path, audio_file: Path, args: list[str], expected: str
) -> None:
    argv = [a.format(image=image_file, audio=audio_file) for a in args]
    result = run_cli("chat", "question", *argv)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert expected in lines[0]
    assert result.stdout == ""


def test_bad_input_does_not_reach_the_space(fresh_replica: Any, audio_file: Path) -> None:
    result = run_cli("chat", "q", "--model", "janus", "--audio", str(audio_file))
    assert result.returncode == 2
    assert fresh_replica.stats()["joins_total"] == 0


def test_space_error_exits_1_with_the_space_message(fresh_replica: Any) -> None:
    fresh_replica.configure(app_error=True, app_error_message="model crashed on input")
    result = run_cli("chat", "hello")
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: ") and "model crashed on input" in last
    assert "Traceback" not in result.stderr


def test_debug_shows_the_traceback(fresh_replica: Any) -> None:
    fresh_replica.configure(app_error=True, app_error_message="model crashed on input")
    result = run_cli("chat", "hello", "--debug")
    assert result.returncode == 1
    assert "Traceback" in result.stderr and "AppError" in result.stderr


def test_json_errors_are_an_event_too(fresh_replica: Any) -> None:
    fresh_replica.configure(app_error=True, app_error_message="model crashed on input")
    result = run_cli("chat", "hello", "--json")
    assert result.returncode == 1
    last = json.loads(result.stdout.strip().splitlines()[-1])
    assert last["event"] == "error" and last["exit_code"] == 1
    assert last["type"] == "AppError" and "model crashed" in last["message"]


def test_connection_error_says_what_to_check(replica: Any) -> None:
    result = run_cli("chat", "hi", "--endpoint", "http://127.0.0.1:9/", "--timeout", "5")
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: cannot connect") and "Check --endpoint" in last


def test_question_from_stdin(replica: Any) -> None:
    import subprocess

    from cli_helpers import cli_command, cli_env

    result = subprocess.run(
        cli_command("chat", "-", "-q"), input="piped question", env=cli_env(),
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0
    assert "piped question" in result.stdout
