"""What every command shares: exit codes, the one-line error report, media arguments,
the options that appear on every job command, and the JSON form of events."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import sys
import traceback
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, NoReturn, TypeVar

import typer

from ..errors import (
    ConnectError,
    InvalidInputError,
    MediaError,
    SpaceError,
    SpaceTimeoutError,
)
from ..events import Event, Partial
from ..generation import Generation
from ..media import Media
from .display import terminal_safe

T = TypeVar("T")

EXIT_SPACE_ERROR = 1  # the Space (or the network) failed: retrying may help
EXIT_BAD_INPUT = 2  # the request cannot be sent as given (same code click uses for usage)
EXIT_INTERRUPTED = 130  # 128 + SIGINT, what shells expect after Ctrl-C
#: Longest error message printed (a Space's error text can be megabytes).
MAX_ERROR = 2000

# -- options shared by the job commands --------------------------------------------------

EndpointOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--endpoint",
        help="Space id or URL to call; repeat it (or separate with '|') for a pool of copies "
        "of the Space (default: $HFSPACES_ENDPOINTS, else the live Space).",
        show_default=False,
    ),
]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="Random seed.", show_default=False)]
TimeoutOpt = Annotated[
    float | None,
    typer.Option("--timeout", help="Overall deadline of the job, seconds.", min=0.001),
]
QuietOpt = Annotated[
    bool, typer.Option("--quiet", "-q", help="No queue/progress output on stderr.")
]
DebugOpt = Annotated[bool, typer.Option("--debug", help="Show the traceback on errors.")]
AnonymousOpt = Annotated[
    bool,
    typer.Option(
        "--anonymous",
        help="Call without identity, even if HF_TOKEN is set (the anonymous ZeroGPU quota).",
    ),
]
JsonOpt = Annotated[
    bool, typer.Option("--json", help="Print one JSON object per event per line on stdout.")
]


# -- errors ----------------------------------------------------------------------------


def fail(message: str, code: int) -> NoReturn:
    print(f"error: {terminal_safe(message, MAX_ERROR)}", file=sys.stderr, flush=True)
    raise typer.Exit(code)


def hint_for(exc: BaseException) -> str:
    """What the CLI user can do, where the core's message speaks to library callers."""
    if isinstance(exc, ConnectError):
        return "Check --endpoint / HFSPACES_ENDPOINTS and your network."
    if isinstance(exc, SpaceTimeoutError):
        return "Use --timeout to wait longer."
    return ""


def with_hint(message: str, hint: str) -> str:
    if not hint:
        return message
    return (
        f"{message} {hint}" if message.rstrip().endswith((".", "!", "?")) else f"{message}. {hint}"
    )


def run_guarded(action: Callable[[], T], *, debug: bool, as_json: bool = False) -> T:
    """Run a command body; turn failures into one readable line and an exit code.

    Bad input → 2, Space/network errors → 1, Ctrl-C → 130. `--debug` adds the traceback;
    with `--json` the error is also one `{"event": "error"}` line on stdout.
    """
    try:
        return action()
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        print("\ninterrupted: the job was cancelled", file=sys.stderr, flush=True)
        if as_json:
            emit_json(_error_record("KeyboardInterrupt", "interrupted", EXIT_INTERRUPTED))
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except Exception as exc:
        line, code = describe_error(exc)
        if debug:
            trace = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
            print(terminal_safe(trace, 20 * MAX_ERROR, lines=True), file=sys.stderr, end="")
        if as_json:
            emit_json(_error_record(type(exc).__name__, terminal_safe(line, MAX_ERROR), code))
        fail(line, code)


def describe_error(exc: Exception) -> tuple[str, int]:
    """The one line to print and the exit code for a failure."""
    if isinstance(exc, InvalidInputError):
        return str(exc), EXIT_BAD_INPUT
    if isinstance(exc, SpaceError):
        return with_hint(str(exc), hint_for(exc)), EXIT_SPACE_ERROR
    if isinstance(exc, OSError):  # writing images, reading files the core did not wrap
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror or exc}{where}", EXIT_SPACE_ERROR
    return (
        f"unexpected {type(exc).__name__}: {exc} (run again with --debug for details)",
        EXIT_SPACE_ERROR,
    )


def _error_record(kind: str, message: str, code: int) -> dict[str, Any]:
    return {"event": "error", "type": kind, "message": message, "exit_code": code}


def run_async(
    coro_factory: Callable[[], Coroutine[Any, Any, T]], *, debug: bool, as_json: bool = False
) -> T:
    """`asyncio.run` under `run_guarded`: on Ctrl-C asyncio cancels the main task, so the
    job's stream generator closes and cancels the job on the server before we exit."""
    return run_guarded(lambda: asyncio.run(coro_factory()), debug=debug, as_json=as_json)


# -- media arguments -------------------------------------------------------------------


def media_argument(value: str, kind: str) -> Media:
    """`--image` / `--audio`: a URL (http(s) or data:) or a local file.

    On the command line a value that is not a URL names a file the user chose, so
    `Media.from_path` is right here (the core never reads plain strings as paths)."""
    lowered = value.strip().lower()
    if lowered.startswith(("http://", "https://", "data:")):
        media = Media.from_url(value.strip())
    else:
        path = Path(value).expanduser()
        if not path.exists():
            raise MediaError(f"--{kind} {value}: no such file (give a path or an http(s) URL)")
        media = Media.from_path(path)
    return media.require(kind)  # type: ignore[arg-type]


# -- JSON events ------------------------------------------------------------------------


def event_record(event: Event) -> dict[str, Any]:
    """`{"event": "queued", "rank": 0, ...}`: the dataclass fields plus a type tag."""
    name = type(event).__name__.lower()
    record: dict[str, Any] = {"event": "text" if name == "textdelta" else name}
    if isinstance(event, Partial):  # built on demand, not a dataclass
        record["outputs"] = event.outputs
    else:
        record.update(dataclasses.asdict(event))
    return record


def generation_record(generation: Generation, **extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {"event": "done", "text": generation.text}
    record.update(generation.metadata())
    record.update(extra)
    return record


def emit_json(record: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
    sys.stdout.flush()
