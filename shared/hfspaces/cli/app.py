"""The `hfspaces` Typer application: one module per command, registered here."""

from __future__ import annotations

from typing import Annotated

import typer

from .. import __version__
from .chat import chat
from .demo import demo
from .image import image
from .models import models
from .replica_cmd import PASS_THROUGH, replica
from .space import call, info

app = typer.Typer(
    name="hfspaces",
    help="Call Hugging Face Spaces (Janus-Pro-7B, Phi-4-multimodal) from the command line.",
    no_args_is_help=True,
    add_completion=False,
    # We print one readable line per error ourselves; typer's pretty tracebacks would
    # show locals (the HF token among them) and bury the message.
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"hfspaces {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Show the version."),
    ] = False,
) -> None:
    """Call Hugging Face Spaces (Janus-Pro-7B, Phi-4-multimodal) from the command line."""


app.command()(chat)
app.command()(image)
app.command()(models)
app.command(context_settings=PASS_THROUGH)(replica)
app.command()(demo)
app.command()(info)
app.command(context_settings={"allow_extra_args": True, "ignore_unknown_options": True})(call)
