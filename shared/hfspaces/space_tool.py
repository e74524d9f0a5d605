"""`SpaceTool`: one endpoint of any Space as a typed, callable tool — the neutral layer the
LangChain and LlamaIndex tools translate. `SpaceConnection`: a Space and the client options
its tools share (one `SpaceClient` per event loop).

A call validates the arguments against the endpoint's schema before any request, turns
file arguments into media (URLs, data URLs, base64, framework blocks; local paths only
inside `input_dir`), uploads them once, reports queue/progress events, and returns every
output: text as text, files downloaded (and saved to `output_dir` without overwriting),
the raw values alongside.
"""

from __future__ import annotations

import asyncio
import binascii
import contextlib
import json
import logging
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

from . import errors
from .client import DEFAULT_MAX_QUEUE_WAIT, SpaceClient
from .config import Endpoint
from .copies import SpaceCopies
from .events import Completed, Event, Log, Progress, Queued, QueueFullWait, Rerouted, Started
from .image_files import write_new
from .media import Media, extension_for, safe_filename, sniff_mime
from .pool import split_endpoints
from .schema import EndpointSchema, Output, Parameter, SpaceSchema, identifier
from .space_model import endpoints_from_env
from .spaces.janus_pro import gallery_files
from .spaces.phi4 import answer_text
from .tasks import gather_all
from .transport import Timeouts, public_url

log = logging.getLogger("hfspaces")

#: Status events a tool reports while it waits or works.
StatusEvent = QueueFullWait | Rerouted | Queued | Started | Progress | Log
_STATUS = (QueueFullWait, Rerouted, Queued, Started, Progress, Log)
OnEvent = Callable[[StatusEvent], Awaitable[None] | None]

_BASE64 = re.compile(r"^[A-Za-z0-9+/\s]+={0,2}$")
#: Options of `SpaceConnection` (how to reach the Space) and of each `SpaceTool`.
CONNECTION_OPTIONS = (
    "hf_token", "send_hf_token", "zerogpu_jwt", "hub_url", "timeout", "max_retries",
    "max_quota_wait", "max_queue_wait",
)  # fmt: skip
TOOL_OPTIONS = ("output_dir", "input_dir")

#: Longest text of one output shown to the model (the artifact keeps it whole).
MAX_TEXT_CHARS = 20_000


@dataclass(frozen=True)
class OutputFile:
    """A file an endpoint returned: its bytes, where it was saved, where the Space has it."""

    output: str
    kind: str
    url: str
    mime_type: str | None
    data: bytes | None = field(default=None, repr=False)
    path: Path | None = None


@dataclass(frozen=True)
class ToolResult:
    """What one call returned. `text` is what an agent's model reads."""

    text: str
    files: tuple[OutputFile, ...]
    outputs: list[Any]
    space: str
    endpoint: str
    queue_wait: float | None = None
    duration: float | None = None
    #: The copy that ran the call (its URL, without a password): one of a pool's copies.
    served_by: str | None = None

    def artifact(self) -> dict[str, Any]:
        """Everything for the application: raw outputs, files (bytes, paths, URLs), timing."""
        return {
            "space": self.space,
            "endpoint": self.endpoint,
            "outputs": self.outputs,
            "files": [
                {
                    "output": f.output,
                    "kind": f.kind,
                    "mime_type": f.mime_type,
                    "url": f.url,
                    "path": str(f.path) if f.path else None,
                    "data": f.data,
                }
                for f in self.files
            ],
            "queue_wait": self.queue_wait,
            "duration": self.duration,
            "served_by": self.served_by,
        }


def split_options(options: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """`**options` of the framework tools → (connection options, tool options)."""
    unknown = set(options) - {*CONNECTION_OPTIONS, *TOOL_OPTIONS}
    if unknown:
        raise TypeError(f"unknown option(s): {', '.join(sorted(unknown))}")
    connection = {k: v for k, v in options.items() if k in CONNECTION_OPTIONS}
    return connection, {k: v for k, v in options.items() if k in TOOL_OPTIONS}


class SpaceConnection:
    """A Space (id or URL) and how to call it (the options are `SpaceClient`'s). No
    network until a call.

    A Space id listed in `HFSPACES_ENDPOINTS` (`owner/name=http://...`) is reached at the
    mapped URL, keeping the id for its ZeroGPU identity (duplicates, the replica). Several
    copies (a list, `a|b`, or several in the mapping) form a pool: each call goes to the
    copy expected to start it soonest and moves off a failing copy before any output."""

    def __init__(
        self,
        target: str | Sequence[str],
        *,
        hf_token: Any = None,
        send_hf_token: bool | None = None,
        zerogpu_jwt: bool = False,
        hub_url: str | None = None,
        timeout: Timeouts | float | None = None,
        max_retries: int = 3,
        max_quota_wait: float = 0.0,
        max_queue_wait: float = DEFAULT_MAX_QUEUE_WAIT,
    ) -> None:
        given = split_endpoints(target)
        if not given:
            raise errors.InvalidInputError(
                "a Space target is a Space id ('owner/name'), an http(s) URL, or a list of them"
            )
        self.target = public_url(given[0])
        mapped = split_endpoints(endpoints_from_env().get(given[0], "")) if len(given) == 1 else []
        self.copies = SpaceCopies(
            mapped or given,
            space=self.target,
            hf_token=hf_token,
            send_hf_token=send_hf_token,
            zerogpu_jwt=zerogpu_jwt,
            hub_url=hub_url,
            timeout=timeout,
            max_retries=max_retries,
            max_quota_wait=max_quota_wait,
            max_queue_wait=max_queue_wait,
        )
        self.url = self.copies.endpoints[0]

    def __repr__(self) -> str:
        return f"SpaceConnection({self.target!r}, url={public_url(self.url)!r})"

    @property
    def client(self) -> SpaceClient:
        """The client of the (first) copy for the running event loop (sessions are bound
        to one loop)."""
        return self.copies.client

    async def aclose(self) -> None:
        """Close the clients of the running loop (others close with their loop)."""
        await self.copies.aclose()

    async def schema(self) -> SpaceSchema:
        """The Space's API, from the first copy that answers (a pool's copies are checked
        to be the same before any of them takes a call)."""
        *others, last = self.copies.endpoints
        for url in others:
            try:
                return await self.copies.client_for(url).schema()
            except (errors.ConnectError, errors.SpaceTimeoutError, errors.ServerError) as exc:
                log.info("reading the API from another copy: %s", exc)
        return await self.copies.client_for(last).schema()

    async def run_job(
        self, endpoint: Endpoint, data: Sequence[Any], on_event: OnEvent | None = None
    ) -> tuple[SpaceClient, Completed]:
        """Run a queued endpoint (on the best copy of a pool) and return the client that
        served it with its `Completed`; status events go to `on_event`."""
        serving = [self.client]

        def start(client: SpaceClient, label: str) -> AsyncIterator[Event]:
            serving[0] = client
            return _job_events(client, endpoint, data)

        events: AsyncIterator[Any] = self.copies.run(start)
        async with contextlib.aclosing(events) as stream:  # type: ignore[type-var]
            async for event in stream:
                if isinstance(event, Completed):
                    return serving[0], event
                if on_event is not None and isinstance(event, _STATUS):
                    maybe = on_event(event)
                    if maybe is not None:
                        await maybe
        raise errors.CancelledJobError("the job ended without a result", space=self.target)

    async def tools(
        self, api_names: Sequence[str] | None = None, **tool_options: Any
    ) -> list[SpaceTool]:
        """A tool per offered endpoint (named, public, queued), or per name in `api_names`
        (which may name any callable endpoint)."""
        schema = await self.schema()
        chosen = (
            [schema.endpoint(n) for n in api_names] if api_names is not None else schema.offered()
        )
        if not chosen:
            raise errors.InvalidInputError(
                f"{self.target} offers no endpoint a tool can call (all are hidden or unqueued)"
            )
        for endpoint in chosen:
            if endpoint.endpoint.visibility == "private":
                raise errors.InvalidInputError(f"{endpoint.label} of {self.target} is private")
        return [SpaceTool(self, e, title=schema.title, **tool_options) for e in chosen]


class SpaceTool:
    """One endpoint as a tool: `name`, `description`, `schema`, and `call`."""

    def __init__(
        self,
        connection: SpaceConnection,
        schema: EndpointSchema,
        *,
        title: str | None = None,
        name: str | None = None,
        description: str | None = None,
        output_dir: str | Path | None = None,
        input_dir: str | Path | None = None,
    ) -> None:
        self.connection = connection
        self.schema = schema
        self.name = identifier(name or schema.api_name or f"fn_{schema.endpoint.fn_index}")[:64]
        where = f"{title} ({connection.target})" if title else connection.target
        self.description = description or f"{schema.description} [Space: {where}]"
        self.output_dir = Path(output_dir) if output_dir is not None else None
        self.input_dir = Path(input_dir).resolve() if input_dir is not None else None

    def __repr__(self) -> str:
        return f"SpaceTool({self.name!r}, {self.connection.target}{self.schema.label})"

    def parameter_help(self, p: Parameter) -> str:
        """The description of a parameter as an agent needs it (how to give files)."""
        text = p.description or p.name
        if p.file_kind:
            local = (
                f", or a local file path inside {self.input_dir}"
                if self.input_dir
                else " (local files are not allowed)"
            )
            text += f". File ({p.file_kind}): an http(s) URL, a data: URL or base64{local}"
        if p.step is not None and p.json_type == "number":
            text += f" (step {p.step:g})"
        return text

    def bind(self, arguments: Mapping[str, Any]) -> list[Any]:
        """Validate and convert the arguments (no network). Raises `InvalidInputError`."""
        converted = {
            k: self._file_argument(self.schema.parameter(k), v)
            if k in self._file_names and v is not None
            else v
            for k, v in arguments.items()
        }
        return self.schema.bind(converted)

    @property
    def _file_names(self) -> set[str]:
        return {p.name for p in self.schema.parameters if p.file_kind}

    async def call(
        self, arguments: Mapping[str, Any], on_event: OnEvent | None = None
    ) -> ToolResult:
        """Run the endpoint. Bad arguments raise `InvalidInputError` before any request;
        Space failures raise typed `SpaceError`s (see `agent_message`). Cancelling the
        calling task cancels the job on the Space."""
        data = self.bind(arguments)
        if not self.schema.endpoint.queued:  # a helper named explicitly: run/predict
            client = self.connection.client
            outputs = await client.predict(self.schema.endpoint, data)
            return await self._result(client, Completed(outputs))
        client, completed = await self.connection.run_job(self.schema.endpoint, data, on_event)
        return await self._result(client, completed)

    async def _result(self, client: SpaceClient, done: Completed) -> ToolResult:
        lines: list[str] = []
        pending: list[tuple[Output, dict[str, Any]]] = []
        for output, value in zip(self.schema.outputs, done.outputs, strict=False):
            if output.hidden or value is None:
                continue
            if output.kind in ("image", "audio", "video", "model3d", "file"):
                files = value if isinstance(value, list) else [value]
                # gradio 4+ Video outputs wrap the file: {"video": FileData, "subtitles": ..}
                files = [
                    f.get("video") if isinstance(f, dict) and "video" in f else f for f in files
                ]
                pending += [(output, f) for f in files if isinstance(f, dict)]
            elif output.kind == "gallery":
                pending += [(output, f) for f in gallery_files(value)]
            else:
                lines.append(f"{output.label or output.name}: {_as_text(output, value)}")
        blobs = await gather_all(client.download(f) for _, f in pending)
        files = [
            OutputFile(
                output=o.name,
                kind="image" if o.kind == "gallery" else o.kind,
                url=client.file_url(f),
                mime_type=sniff_mime(blob[:32]) or f.get("mime_type"),
                data=blob,
            )
            for (o, f), blob in zip(pending, blobs, strict=True)
        ]
        if self.output_dir is not None:
            files = await asyncio.to_thread(self._save, files)
        for f in files:
            where = f"saved to {f.path}" if f.path else "attached"
            lines.append(f"{f.output} ({f.kind}, {f.mime_type or 'unknown type'}): {where}")
        head = f"{self.connection.target} {self.schema.label} returned"
        return ToolResult(
            text=head + (":\n" + "\n".join(lines) if lines else " nothing."),
            files=tuple(files),
            outputs=done.outputs,
            space=self.connection.target,
            endpoint=self.schema.label,
            queue_wait=done.queue_wait,
            duration=done.duration,
            served_by=public_url(client.base_url),
        )

    def _save(self, files: list[OutputFile]) -> list[OutputFile]:
        assert self.output_dir is not None
        self.output_dir.mkdir(parents=True, exist_ok=True)
        saved = []
        for f in files:
            stem = safe_filename(f"{self.name}-{f.output}")
            path = write_new(self.output_dir, stem, extension_for(f.mime_type), f.data or b"")
            saved.append(OutputFile(f.output, f.kind, f.url, f.mime_type, f.data, path))
        return saved

    def _file_argument(self, p: Parameter, value: Any) -> Any:
        if p.multiple and isinstance(value, (list, tuple)):
            return [self._one_file(p, v) for v in value]
        return self._one_file(p, value)

    def _one_file(self, p: Parameter, value: Any) -> Media:
        """A file argument as `Media`: URL, data URL, base64, a framework block, or a
        local path inside `input_dir`. Checked to be the right kind (image, audio)."""
        media = self._media(p, value)
        if p.file_kind in ("image", "audio"):
            media.require(p.file_kind)
        return media

    def _media(self, p: Parameter, value: Any) -> Media:
        if isinstance(value, Media):
            return value
        if isinstance(value, (bytes, bytearray)):
            return Media.from_bytes(bytes(value))
        if isinstance(value, os.PathLike):
            return self._local(p, os.fspath(value))
        if isinstance(value, Mapping):
            return self._block(p, value)
        if hasattr(value, "block_type"):  # a LlamaIndex ImageBlock / AudioBlock
            return self._llama_block(p, value)
        if not isinstance(value, str) or not value.strip():
            raise errors.MediaError(f"{p.name} must be a file, got {type(value).__name__}")
        text = value.strip()
        if text.lower().startswith(("http://", "https://", "data:")):
            return Media.from_url(text)
        if len(text) >= 64 and _BASE64.match(text):
            with contextlib.suppress(errors.MediaError, binascii.Error):
                return Media.from_base64(text)
        return self._local(p, text)

    def _local(self, p: Parameter, path: str) -> Media:
        if self.input_dir is None:
            raise errors.MediaError(
                f"{p.name}: local files are not allowed for this tool (no input_dir set); "
                "give an http(s) URL, a data: URL or base64 instead"
            )
        file = (self.input_dir / Path(path).expanduser()).resolve()
        if not file.is_relative_to(self.input_dir):
            raise errors.MediaError(
                f"{p.name}: {path} is outside the allowed input folder {self.input_dir}"
            )
        return Media.from_path(file)

    def _block(self, p: Parameter, block: Mapping[str, Any]) -> Media:
        """LangChain standard blocks (`base64`/`url`/`data`), OpenAI `image_url` /
        `input_audio` parts."""
        nested = block.get("image_url") or block.get("input_audio")
        if isinstance(nested, Mapping):
            block = {**block, **nested}
        elif isinstance(nested, str):
            block = {**block, "url": nested}
        data = block.get("base64") or block.get("data")
        mime = block.get("mime_type")
        if isinstance(data, str):
            return Media.from_base64(data, mime_type=mime if isinstance(mime, str) else None)
        url = block.get("url")
        if isinstance(url, str):
            return self._media(p, url)
        raise errors.MediaError(
            f"{p.name}: a content block needs base64 data or a url; got keys {sorted(block)}"
        )

    def _llama_block(self, p: Parameter, block: Any) -> Media:
        url = getattr(block, "url", None)
        if url:
            return Media.from_url(str(url))
        path = getattr(block, "path", None)
        if path:
            return self._local(p, str(path))
        resolve = getattr(block, "resolve_image", None) or getattr(block, "resolve_audio", None)
        if resolve is None:
            raise errors.MediaError(f"{p.name}: cannot read a {type(block).__name__}")
        return Media.from_bytes(resolve().read())


async def _job_events(
    client: SpaceClient, endpoint: Endpoint, data: Sequence[Any]
) -> AsyncIterator[Event]:
    """One job's events, ending with its `Completed`; a job that ends without one raises
    (its error, or `CancelledJobError`), so a pool never reads it as 'nothing happened'."""
    job = await client.submit(endpoint, data)
    async with contextlib.aclosing(job.__aiter__()) as events:  # type: ignore[type-var]
        async for event in events:
            yield event
            if isinstance(event, Completed):
                return
    await job.result()
    raise errors.CancelledJobError("the job ended without a result", space=client.space_id)


def agent_message(exc: BaseException, what: str) -> str:
    """A failure in words an agent can act on: fix the arguments, wait, or give up."""
    if isinstance(exc, errors.InvalidInputError):
        said = str(exc).rstrip(". ")
        return f"Invalid arguments for {what}: {said}. Fix the arguments and call again."
    message = exc.message.rstrip(". ") if isinstance(exc, errors.SpaceError) else str(exc)
    if isinstance(exc, errors.GPUQuotaExceededError):
        wait = in_words(exc.retry_after)
        when = f"it can be called again in {wait}" if wait else "it can be called again later"
        # The core's message already says what this caller can do (a token, PRO, wait).
        return (
            f"{what} ran out of GPU quota ({message}); {when}. "
            "Tell the user what the message advises."
        )
    if isinstance(exc, errors.QueueFullError):
        return (
            f"{what} stayed busy for as long as hfspaces waits in its queue ({message}). "
            "Tell the user the Space is overloaded; do not call it again right away."
        )
    if isinstance(exc, errors.SpaceTimeoutError):
        return f"{what} did not answer in time ({message}); tell the user."
    if isinstance(exc, errors.AppError):
        return (
            f"{what} failed while running: {message}. Check the arguments; calling again "
            "with the same arguments will likely fail the same way."
        )
    if isinstance(exc, errors.SpaceError):
        hint = "it may work later" if exc.retryable else "do not call it again with the same input"
        return f"{what} failed: {message}; {hint}."
    return f"{what} failed: {exc}"


def in_words(delay: timedelta | None) -> str | None:
    if delay is None:
        return None
    seconds = max(0, round(delay.total_seconds()))
    if seconds < 90:
        return f"{seconds} seconds"
    minutes = round(seconds / 60)
    return f"{minutes} minutes" if minutes < 90 else f"{round(minutes / 60)} hours"


def _as_text(output: Output, value: Any) -> str:
    if output.kind == "chat":
        text = answer_text([value]) or ""
    elif isinstance(value, str):
        text = value
    else:
        text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= MAX_TEXT_CHARS else text[:MAX_TEXT_CHARS] + "… (cut)"


__all__ = ["OutputFile", "SpaceConnection", "SpaceTool", "ToolResult", "agent_message"]
