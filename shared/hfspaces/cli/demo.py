"""`hfspaces demo`: start the embedded replica and show the product working end to end.

Steps: a LangChain chain (prompt | ChatHFSpaces | parser) asked about the bundled image, a
LlamaIndex query over the same image, an agent-style tool call drawing images with
`HFSpacesImageTool` (saved to a folder we name), Phi-4 listening to an audio clip, and an
agent using two Spaces it was never told about through `HFSpacesToolkit` (`demo_agent`).
A step whose wrapper package is missing is skipped with a line saying so; the replica is
stopped on every way out (done, failure, Ctrl-C, SIGTERM).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import signal
import sys
import traceback
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from ..events import Event, Log, Progress, Queued, Started
from .common import EXIT_INTERRUPTED, EXIT_SPACE_ERROR, DebugOpt, QuietOpt, describe_error
from .display import Display, make_display

T = TypeVar("T")

DEFAULT_DEMO_OUT = Path("hfspaces-demo-images")
DEMO_TOKEN = "hf_demo_user"
CLOSE_TIMEOUT = 5.0  # bound on closing a wrapper's sessions after a step
# Env vars the demo points at the replica; HF tokens are hidden so a real token is never
# sent to the local Hub stub.
_ENV_KEYS = ("HFSPACES_ENDPOINTS", "HF_ENDPOINT", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")


class StepSkipped(Exception):
    """A step cannot run here (its wrapper package is missing); not a failure."""


@dataclass
class DemoContext:
    console: Console
    out: Path
    image: Path
    audio: Path
    quiet: bool
    results: dict[str, str] = field(default_factory=dict)
    closers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)

    def track(self, wrapper: T) -> T:
        """Close the wrapper's HTTP sessions when the step ends (Ctrl-C included), so no
        'Unclosed client session' noise follows the demo out."""
        self.closers.append(wrapper.aclose)  # type: ignore[attr-defined]
        return wrapper

    def close_wrappers(self) -> None:
        from ..sync import run_sync

        closers, self.closers = self.closers, []
        for closer in closers:
            with contextlib.suppress(Exception):
                run_sync(asyncio.wait_for(closer(), CLOSE_TIMEOUT))

    def display(self) -> Display:
        return make_display(quiet=self.quiet)

    def say(self, text: str, style: str = "") -> None:
        self.console.print(text, style=style, markup=False, highlight=False)


# -- the replica ------------------------------------------------------------------------


@contextlib.contextmanager
def running_replica(console: Console, port: int, token_delay: float) -> Iterator[Any]:
    """Serve the replica in this process and point the library at it; always stop it."""
    from ..replica import SPACES, Replica, ReplicaConfig

    saved = {key: os.environ.get(key) for key in _ENV_KEYS}
    replica = Replica(ReplicaConfig(port=port, token_delay=token_delay, image_size=256))
    try:
        with console.status("starting the replica Spaces (Gradio apps on 127.0.0.1)..."):
            replica.start()
        os.environ["HFSPACES_ENDPOINTS"] = ",".join(
            f"{space}={replica.url_for(space)}" for space in SPACES
        )
        os.environ["HF_ENDPOINT"] = replica.hub_url
        # A user token the replica's Hub stub accepts: with `send_hf_token=True` (the
        # per-endpoint opt-in, the replica not being *.hf.space) every step goes the
        # user-quota path: x-hf-authorization → the proxy stand-in → X-IP-Token.
        os.environ["HF_TOKEN"] = DEMO_TOKEN
        os.environ.pop("HUGGING_FACE_HUB_TOKEN", None)
        for space in SPACES:
            console.print(f"  {space} → {replica.url_for(space)}", markup=False, highlight=False)
        yield replica
    finally:
        replica.stop()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        console.print("replica stopped", style="dim", highlight=False)


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM unwinds like Ctrl-C, so the replica is stopped either way."""

    def interrupt(*_: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


# -- LangChain custom events → the live display -------------------------------------------


def event_from_custom(name: str, data: dict[str, Any]) -> Event | None:
    """`ChatHFSpaces` re-dispatches Space events as custom events; turn them back."""
    if name == "hfspaces_queue":
        return Queued(data.get("rank"), data.get("queue_size"), data.get("eta"))
    if name == "hfspaces_started":
        return Started(data.get("eta"))
    if name == "hfspaces_progress":
        keys = ("desc", "index", "length", "unit", "progress")
        return Progress(*(data.get(k) for k in keys))
    if name == "hfspaces_log":
        return Log(data.get("level", "info"), data.get("message", ""), data.get("title"))
    return None


def display_callbacks(display: Display) -> list[Any]:
    from langchain_core.callbacks import BaseCallbackHandler

    class ToDisplay(BaseCallbackHandler):
        def on_custom_event(self, name: str, data: Any, **kwargs: Any) -> None:
            event = event_from_custom(name, data if isinstance(data, dict) else {})
            if event is not None:
                display.event(event)

    return [ToDisplay()]


# LlamaIndex job events (instrumentation) → the same names as the LangChain ones.
_LLAMA_KINDS = {
    "queued": "hfspaces_queue",
    "started": "hfspaces_started",
    "progress": "hfspaces_progress",
    "log": "hfspaces_log",
}


@contextlib.contextmanager
def llama_index_events(display: Display) -> Iterator[None]:
    """Show `HFSpacesJobEvent`s on the display while a LlamaIndex call runs."""
    from llama_index.core.instrumentation import get_dispatcher  # type: ignore[attr-defined]
    from llama_index.core.instrumentation.event_handlers import BaseEventHandler

    from llama_index_hfspaces import HFSpacesJobEvent

    class ToDisplay(BaseEventHandler):
        @classmethod
        def class_name(cls) -> str:
            return "HFSpacesCLIDisplay"

        def handle(self, event: Any, **kwargs: Any) -> None:
            if isinstance(event, HFSpacesJobEvent):
                name = _LLAMA_KINDS.get(event.kind, "")
                converted = event_from_custom(name, dict(event.data))
                if converted is not None:
                    display.event(converted)

    root = get_dispatcher()
    handler = ToDisplay()
    root.add_event_handler(handler)
    try:
        yield
    finally:
        with contextlib.suppress(ValueError):
            root.event_handlers.remove(handler)


# -- the steps --------------------------------------------------------------------------


def _langchain() -> Any:
    try:
        import langchain_hfspaces
        from langchain_hfspaces import ChatHFSpaces, HFSpacesImageTool  # noqa: F401
    except ImportError as exc:
        raise StepSkipped(f"LangChain wrapper not available ({exc})") from exc
    return langchain_hfspaces


def data_url(path: Path, mime_type: str) -> str:
    return f"data:{mime_type};base64,{base64.b64encode(path.read_bytes()).decode()}"


def step_langchain_chain(ctx: DemoContext) -> None:
    """prompt | ChatHFSpaces(janus-pro-7b) | StrOutputParser, asked about the image."""
    lc = _langchain()
    from langchain_core.output_parsers import StrOutputParser
    from langchain_core.prompts import ChatPromptTemplate

    prompt = ChatPromptTemplate.from_messages(
        [
            ("system", "You are a concise visual assistant."),
            (
                "human",
                [
                    {"type": "text", "text": "{question}"},
                    {"type": "image_url", "image_url": {"url": "{image_url}"}},
                ],
            ),
        ]
    )
    chain = (
        prompt
        | ctx.track(lc.ChatHFSpaces(model="janus-pro-7b", send_hf_token=True))
        | StrOutputParser()
    )
    question = "What is in this picture?"
    ctx.say("chain: prompt | ChatHFSpaces(model='janus-pro-7b') | StrOutputParser()")
    ctx.say(f"question: {question}  image: {ctx.image.name}")
    with ctx.display() as display:
        answer = chain.invoke(
            {"question": question, "image_url": data_url(ctx.image, "image/png")},
            config={"callbacks": display_callbacks(display)},
        )
    ctx.say(f"answer: {answer}", style="bold")


def step_llamaindex_query(ctx: DemoContext) -> None:
    """HFSpacesLLM(janus-pro-7b).chat with an ImageBlock: a question over the image."""
    try:
        from llama_index.core.base.llms.types import ChatMessage, ImageBlock, TextBlock

        from llama_index_hfspaces import HFSpacesLLM
    except ImportError as exc:
        raise StepSkipped(f"LlamaIndex wrapper not available ({exc})") from exc

    llm = ctx.track(HFSpacesLLM(model="janus-pro-7b", send_hf_token=True))
    question = "Which colours dominate this image?"
    ctx.say("llm: HFSpacesLLM(model='janus-pro-7b').chat([ChatMessage(blocks=[image, text])])")
    ctx.say(f"question: {question}  image: {ctx.image.name}")
    message = ChatMessage(
        role="user", blocks=[ImageBlock(path=ctx.image), TextBlock(text=question)]
    )
    with ctx.display() as display, llama_index_events(display):
        response = llm.chat([message])
    ctx.say(f"answer: {response.message.content!s}", style="bold")


def step_agent_tool(ctx: DemoContext) -> None:
    """The tool call an agent's model would emit, run by HFSpacesImageTool."""
    lc = _langchain()
    tool = ctx.track(lc.HFSpacesImageTool(output_dir=ctx.out, send_hf_token=True))
    call = {
        "name": tool.name,
        "args": {"prompt": "a lighthouse on a cliff at dusk", "seed": 7, "num_images": 2},
        "id": "call_demo_1",
        "type": "tool_call",
    }
    ctx.say(f"tool: {tool.name} (HFSpacesImageTool, output_dir={ctx.out})")
    ctx.say(f"tool call: {call['args']}")
    with ctx.display():
        message = tool.invoke(call)
    ctx.say(f"tool message: {message.content!s}", style="bold")
    paths = [img.get("path") for img in (message.artifact or {}).get("images", [])]
    for path in paths:
        if path:
            ctx.say(f"  saved {path}")
    ctx.results["images"] = str(ctx.out)


def step_phi4_audio(ctx: DemoContext) -> None:
    """ChatHFSpaces(phi-4-multimodal) streams an answer about an audio clip."""
    lc = _langchain()
    from langchain_core.messages import HumanMessage

    llm = ctx.track(lc.ChatHFSpaces(model="phi-4-multimodal", send_hf_token=True))
    audio = base64.b64encode(ctx.audio.read_bytes()).decode()
    message = HumanMessage(
        content=[
            {"type": "text", "text": "What do you hear in this clip?"},
            {"type": "audio", "base64": audio, "mime_type": "audio/wav"},
        ]
    )
    ctx.say(f"ChatHFSpaces(model='phi-4-multimodal').stream(text + audio {ctx.audio.name})")
    ctx.console.file.flush()
    with ctx.display() as display:
        config = {"callbacks": display_callbacks(display)}
        first = True
        for chunk in llm.stream([message], config=config):
            text = chunk.text if isinstance(chunk.text, str) else str(chunk.content)
            if not text:
                continue
            if first:
                display.close()  # the answer owns the terminal from the first token on
                first = False
            sys.stdout.write(text)
            sys.stdout.flush()
    sys.stdout.write("\n")
    sys.stdout.flush()


def step_unknown_space(ctx: DemoContext) -> None:
    """An agent uses two Spaces it was never told about, through HFSpacesToolkit."""
    from .demo_agent import step_unknown_space_agent

    step_unknown_space_agent(ctx)


STEPS: tuple[tuple[str, Callable[[DemoContext], None]], ...] = (
    ("LangChain chain about the bundled image (Janus-Pro-7B)", step_langchain_chain),
    ("LlamaIndex query over the image (Janus-Pro-7B)", step_llamaindex_query),
    ("Agent tool call drawing images (HFSpacesImageTool)", step_agent_tool),
    ("Phi-4-multimodal listening to an audio clip", step_phi4_audio),
    ("An agent using Spaces it was never told about (HFSpacesToolkit)", step_unknown_space),
)


def run_step(
    ctx: DemoContext, number: int, title: str, step: Callable[[DemoContext], None], debug: bool
) -> str:
    """Run one step; 'ok', 'skipped' or 'failed' (a failure does not stop the demo)."""
    ctx.console.rule(f"[bold]{number}. {escape(title)}", align="left")
    try:
        step(ctx)
    except StepSkipped as exc:
        ctx.say(f"skipped: {exc!s}", style="yellow")
        return "skipped"
    except Exception as exc:
        if debug:
            traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
        line, _ = describe_error(exc)
        ctx.say(f"failed: {line}", style="red")
        return "failed"
    finally:
        ctx.close_wrappers()
    return "ok"


def demo(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for the images the agent tool draws.")
    ] = DEFAULT_DEMO_OUT,
    port: Annotated[int, typer.Option("--port", help="Replica port (0: a free one).")] = 0,
    token_delay: Annotated[
        float, typer.Option("--token-delay", help="Seconds per streamed token (replica).")
    ] = 0.03,
    quiet: QuietOpt = False,
    debug: DebugOpt = False,
) -> None:
    """Start the embedded replica and show the product working (LangChain, LlamaIndex,
    an agent tool drawing images, Phi-4 with audio). Stops the replica on exit."""
    from ..replica.samples import sample_image_path, sample_wav_path

    # soft_wrap: long paths and URLs stay on one line when the output is a file or pipe
    console = Console(soft_wrap=True)
    ctx = DemoContext(console, out, sample_image_path(), sample_wav_path(), quiet)
    outcomes: list[str] = []
    try:
        with sigterm_as_interrupt(), running_replica(console, port, token_delay):
            for number, (title, step) in enumerate(STEPS, start=1):
                outcomes.append(run_step(ctx, number, title, step, debug))
    except KeyboardInterrupt:
        print("\ninterrupted: demo stopped", file=sys.stderr, flush=True)
        raise typer.Exit(EXIT_INTERRUPTED) from None
    except Exception as exc:  # the replica itself did not start
        line, code = describe_error(exc)
        if debug:
            traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
        print(f"error: {line}", file=sys.stderr, flush=True)
        raise typer.Exit(code) from None
    summary = ", ".join(f"{outcomes.count(k)} {k}" for k in ("ok", "skipped", "failed"))
    console.rule()
    console.print(f"demo finished: {summary}", highlight=False)
    if "images" in ctx.results:
        console.print(f"images saved in {ctx.results['images']}", highlight=False)
    if "failed" in outcomes:
        raise typer.Exit(EXIT_SPACE_ERROR)
