"""The stderr display: what each event looks like, and the live line on a terminal."""

from __future__ import annotations

import io
import os
import pty
import subprocess
from typing import Any

from cli_helpers import cli_command, cli_env
from hfspaces.cli.display import LiveDisplay, PlainDisplay, describe, describe_done
from hfspaces.events import Log, Progress, Queued, Started, TextDelta
from hfspaces.generation import Generation
from rich.console import Console


def test_describe_events() -> None:
    assert describe(Queued(2, 5, 12.0)) == "queued: position 3 of 5, ETA 12s"
    assert describe(Queued(None, None, None)) == "queued: in the queue"
    assert describe(Started(1.5)) == "running (ETA 1.5s)"
    assert describe(Progress("Generating images", 3, 5, "images")) == (
        "Generating images: 3/5 images"
    )
    assert describe(Progress(None, None, None, None, 0.25)) == "working: 25%"
    assert describe(Log("warning", "waiting for a GPU", "ZeroGPU")) == (
        "[warning] ZeroGPU: waiting for a GPU"
    )
    assert describe(TextDelta("x")) is None
    done = Generation(model="m", space="s", duration=2.0, queue_wait=1.0)
    assert describe_done(done) == "done (ran 2.0s, queued 1.0s)"


def test_plain_display_skips_repeated_lines() -> None:
    out = io.StringIO()
    display = PlainDisplay(out)
    for event in (Queued(1, 2, None), Queued(1, 2, None), Queued(0, 2, None), Started()):
        display.event(event)
    assert out.getvalue().splitlines() == [
        "hfspaces: queued: position 2 of 2",
        "hfspaces: queued: position 1 of 2",
        "hfspaces: running",
    ]


def test_live_display_leaves_the_terminal_to_the_answer() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=100)
    display = LiveDisplay(console, stdout_is_terminal=True)
    display.start()
    display.event(Queued(0, 1, None))
    display.event(Log("info", "GPU acquired"))
    display.event(TextDelta("Hello"))
    assert display._progress is None  # stopped at the first token
    display.event(Progress("more", 1, 2, None))  # ignored: must not redraw over the text
    assert display._progress is None
    display.close()
    assert "GPU acquired" in buffer.getvalue()


def test_live_line_in_a_real_terminal(replica: Any) -> None:
    """stderr on a pseudo-terminal: the live (rich) display runs; stdout stays clean."""
    primary, secondary = pty.openpty()
    try:
        proc = subprocess.run(
            cli_command("chat", "hello from a terminal"),
            env=cli_env(TERM="xterm-256color"), stdout=subprocess.PIPE, stderr=secondary,
            timeout=60, check=False,
        )  # fmt: skip
        os.close(secondary)
        secondary = -1
        chunks = []
        while True:
            try:
                chunk = os.read(primary, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(primary)
        if secondary != -1:
            os.close(secondary)
    err = b"".join(chunks).decode(errors="replace")
    assert proc.returncode == 0, err
    assert proc.stdout.decode().startswith("Turn 1.")
    assert "\x1b[" not in proc.stdout.decode()
    assert "\x1b[" in err  # cursor control / colour: the live line
    assert "done" in err and "hfspaces:" not in err  # not the plain mode
