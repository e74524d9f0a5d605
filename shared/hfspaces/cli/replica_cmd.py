"""`hfspaces replica`: serve the replica Spaces (the replica's own entry point)."""

from __future__ import annotations

from typing import Annotated

import typer

from .common import DebugOpt, run_guarded

PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True}


def replica(
    ctx: typer.Context,
    port: Annotated[int, typer.Option("--port", "-p", help="0 picks a free port.")] = 0,
    host: Annotated[str, typer.Option("--host", help="Interface to listen on.")] = "127.0.0.1",
    debug: DebugOpt = False,
) -> None:
    """Serve local replicas of the Janus-Pro-7B and Phi-4 Spaces, and of four Space shapes
    (hfspaces-replica/...: FLUX, Whisper, Kokoro, a multimodal chat), until Ctrl-C.

    Prints '<space id> <url>' per Space and 'hub <url>'. Other options of
    `python -m hfspaces.replica` pass through: --token-delay, --answer-words,
    --no-phi4-stream, --image-size, --concurrency, --no-quota, --max-file-size,
    --no-zerogpu (lift the one-slot queue and one-job-per-function limits), --service-time,
    --duration-factor, --spaces-version, --gradio-errors, ...
    """

    def serve() -> int:
        # gradio is heavy: import the replica only when serving
        from ..replica.cli import main as replica_main

        return replica_main(["--host", host, "--port", str(port), *ctx.args])

    raise typer.Exit(run_guarded(serve, debug=debug))
