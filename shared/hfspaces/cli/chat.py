"""`hfspaces chat`: ask a model a question (with images / audio), stream the answer."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ..conversation import AudioPart, ImagePart, Message, Part, TextPart
from ..errors import InvalidInputError
from ..events import TextDelta
from ..generation import Generation, GenerationParams
from ..space_model import SpaceModel
from .common import (
    AnonymousOpt,
    DebugOpt,
    EndpointOpt,
    JsonOpt,
    QuietOpt,
    SeedOpt,
    TimeoutOpt,
    emit_json,
    event_record,
    generation_record,
    media_argument,
    run_async,
    run_guarded,
)
from .display import Display, answer_safe, make_display

DEFAULT_CHAT_MODEL = "phi-4-multimodal"


def build_conversation(
    question: str, images: list[str], audio: list[str], system: str | None
) -> list[Message]:
    """System prompt (if any) plus one user turn: text, then images, then audio clips."""
    if not question.strip():
        raise InvalidInputError("the question is empty")
    parts: list[Part] = [TextPart(question)]
    parts += [ImagePart(media_argument(value, "image")) for value in images]
    parts += [AudioPart(media_argument(value, "audio")) for value in audio]
    messages = [Message.system(system)] if system else []
    messages.append(Message("user", tuple(parts)))
    return messages


def prepare(
    model_name: str | None,
    endpoint: list[str] | None,
    timeout: float | None,
    conversation: list[Message],
    params: GenerationParams,
    *,
    space: str | None = None,
    api_name: str | None = None,
    anonymous: bool = False,
) -> SpaceModel:
    """Everything that can fail on bad input, before any request (exit code 2)."""
    if model_name is None and space is None:
        model_name = DEFAULT_CHAT_MODEL
    model = SpaceModel(
        model_name,
        space=space,
        api_name=api_name,
        endpoint=endpoint,
        timeout=timeout,
        hf_token=False if anonymous else None,
    )
    if "text" not in model.spec.outputs:
        raise InvalidInputError(
            f"{model.spec.id} draws images and does not answer in text: use `hfspaces image`"
        )
    model.validate(conversation, params)
    return model


class _AnswerWriter:
    """Writes text deltas to stdout and ends the line once, before anything else shows."""

    def __init__(self) -> None:
        self.open_line = False
        # A Space's answer on a terminal must not drive it; piped, it is data and kept whole.
        self.terminal = sys.stdout.isatty()

    def write(self, text: str) -> None:
        sys.stdout.write(answer_safe(text) if self.terminal else text)
        sys.stdout.flush()
        self.open_line = self.open_line or bool(text)

    def end_line(self) -> None:
        if self.open_line:
            sys.stdout.write("\n")
            sys.stdout.flush()
            self.open_line = False


async def stream_answer(
    model: SpaceModel,
    conversation: list[Message],
    params: GenerationParams,
    display: Display,
    *,
    as_json: bool,
) -> Generation | None:
    """Write the answer to stdout as it arrives (or one JSON line per event)."""
    result: Generation | None = None
    answer = _AnswerWriter()
    try:
        with display:
            async for item in model.stream(conversation, params):
                if isinstance(item, Generation):
                    result = item
                    answer.end_line()  # the summary on stderr must not land mid-line
                    display.done(item)
                    break
                display.event(item)  # first: a live line must leave before text is written
                if as_json:
                    emit_json(event_record(item))
                elif isinstance(item, TextDelta):
                    answer.write(item.text)
    finally:
        answer.end_line()
        await model.aclose()
    if as_json and result is not None:
        emit_json(generation_record(result))
    return result


def chat(
    question: Annotated[str, typer.Argument(help="The question; '-' reads it from stdin.")],
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            "-m",
            help=f"Model id or alias (see `hfspaces models`). Default: {DEFAULT_CHAT_MODEL}.",
            show_default=False,
        ),
    ] = None,
    space: Annotated[
        str | None,
        typer.Option(
            "--space",
            help="Any chat Space instead of a model: a Space id or URL (its gr.ChatInterface "
            "or Chatbot endpoint is found in its /config).",
            show_default=False,
        ),
    ] = None,
    api_name: Annotated[
        str | None,
        typer.Option("--api-name", help="The chat endpoint of --space.", show_default=False),
    ] = None,
    image: Annotated[
        list[str] | None,
        typer.Option("--image", "-i", help="Image file or URL; repeat for several."),
    ] = None,
    audio: Annotated[
        list[str] | None,
        typer.Option("--audio", "-a", help="Audio file or URL (phi-4-multimodal); repeatable."),
    ] = None,
    system: Annotated[str | None, typer.Option("--system", help="System prompt.")] = None,
    endpoint: EndpointOpt = None,
    seed: SeedOpt = None,
    as_json: JsonOpt = False,
    timeout: TimeoutOpt = None,
    anonymous: AnonymousOpt = False,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Ask a model; the answer streams to stdout as it arrives."""
    if question == "-":
        question = sys.stdin.read()

    def setup() -> tuple[SpaceModel, list[Message], GenerationParams]:
        conversation = build_conversation(question, image or [], audio or [], system)
        params = GenerationParams(seed=seed)
        space_model = prepare(
            model,
            endpoint,
            timeout,
            conversation,
            params,
            space=space,
            api_name=api_name,
            anonymous=anonymous,
        )
        return space_model, conversation, params

    space_model, conversation, params = run_guarded(setup, debug=debug, as_json=as_json)
    display = make_display(quiet=quiet)
    display.note(f"{space_model.spec.id} at {space_model.endpoint}")
    run_async(
        lambda: stream_answer(space_model, conversation, params, display, as_json=as_json),
        debug=debug,
        as_json=as_json,
    )
