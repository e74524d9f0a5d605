"""`ChatHFSpaces`: LangChain chat model over Hugging Face Spaces (Phi-4-multimodal,
Janus-Pro-7B understanding and text-to-image) through `hfspaces.SpaceModel`."""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterator, Sequence
from contextlib import aclosing
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, cast
from uuid import UUID, uuid4

from hfspaces import (
    Event,
    Generation,
    GenerationParams,
    InvalidInputError,
    SpaceModel,
    UnsupportedInputError,
)
from hfspaces import get_model as _get_model
from hfspaces.conversation import Conversation
from hfspaces.models import ModelSpec
from hfspaces.space_model import model_spec, resolve_endpoint
from hfspaces.spaces import adapter_for
from hfspaces.sync import iterate_sync
from hfspaces.tokens import count_message, count_text
from langchain_core.callbacks import (
    AsyncCallbackManager,
    AsyncCallbackManagerForLLMRun,
    CallbackManager,
    CallbackManagerForLLMRun,
)
from langchain_core.language_models import BaseChatModel, LangSmithParams, ModelProfile
from langchain_core.language_models.base import LanguageModelInput
from langchain_core.language_models.chat_models import agenerate_from_stream, generate_from_stream
from langchain_core.messages import AIMessage, AIMessageChunk, BaseMessage
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableConfig, ensure_config
from langchain_core.tools import BaseTool
from pydantic import BaseModel, Field, field_validator, model_validator
from typing_extensions import Self

from ._convert import PROVIDER, ChunkStream, convert_messages
from ._events import Manager, run_event_sink
from ._settings import SpaceSettings
from ._structured import structured_runnable

DEFAULT_MODEL = "phi-4-multimodal"

#: Accepted by `with_structured_output`; all mean the same prompt-based path.
STRUCTURED_METHODS = ("json_schema", "function_calling", "json_mode")

NO_TOOL_CALLING = (
    "ChatHFSpaces cannot bind tools: the Spaces' models (Phi-4-multimodal, Janus-Pro) do not "
    "call tools. Instead: drive the agent with a tool-calling chat model and give it "
    "HFSpacesImageTool (or any Space as a tool); for typed answers use "
    "ChatHFSpaces.with_structured_output(Schema), which is prompt-based"
)

#: Sampling controls passed to the Space as they are (None: the Space's own default).
_SAMPLING = ("temperature", "top_p", "seed", "guidance", "num_images")
#: Keyword arguments a call (`invoke(..., **kwargs)`, `.bind(...)`) may override.
_CALL_KWARGS = frozenset({*_SAMPLING, "max_tokens", "model"})
#: Private keyword that carries a `stream()`/`astream()` run to `_stream`/`_astream`.
_STREAM_RUN = "_hfspaces_stream_run"

_RunManager = CallbackManagerForLLMRun | AsyncCallbackManagerForLLMRun

#: The run manager of a call langchain-core is about to stream through `_stream` /
#: `_astream` without handing it over (`invoke` with `streaming=True`, or a model call
#: inside `astream_events`): `_should_stream` sees it just before, in the same context.
_STREAMED_RUN: ContextVar[_RunManager | None] = ContextVar("_hfspaces_streamed_run", default=None)


class ChatHFSpaces(SpaceSettings, BaseChatModel):
    """Chat model backed by a Hugging Face Space.

    ```python
    from langchain_hfspaces import ChatHFSpaces

    llm = ChatHFSpaces(model="phi-4-multimodal")  # or "janus-pro-7b", "janus-pro-7b-image"
    llm.invoke([HumanMessage([{"type": "text", "text": "What is this?"},
                              {"type": "image", "url": "https://..."}])])
    ```

    Input: text, images (URL, base64, data URL, legacy `image_url`), audio (Phi-4),
    system messages, history, names. Input a model cannot take raises
    `hfspaces.UnsupportedInputError` (a `ValueError`) before any request. Space
    failures raise the typed `hfspaces.SpaceError` subclasses.

    Queue position, progress and Space log lines are dispatched as LangChain custom
    events named `hfspaces_queue`, `hfspaces_started`, `hfspaces_progress`,
    `hfspaces_log` (see `langchain_hfspaces._events` for their payloads).

    `janus-pro-7b-image` answers with a text block plus standard image blocks
    `{"type": "image", "base64": ..., "mime_type": ...}`; its prompt is the last
    human message.
    """

    model: str = Field(default=DEFAULT_MODEL, alias="model_name")
    """Registry id or alias: `phi-4-multimodal`, `janus-pro-7b`, `janus-pro-7b-image`."""

    space: str | None = None
    """Any chat Space instead of a registry model: a Space id or URL whose chat endpoint
    (a `gr.ChatInterface`, or a Chatbot in and out) is found in its /config. See
    `hfspaces.spaces.chat` for how history, files and sampling inputs are sent."""
    api_name: str | None = None
    """The chat endpoint of `space`, when the Space has several."""

    temperature: float | None = None
    """Sampling temperature, for Spaces that expose one (Janus). None: not sent."""
    top_p: float | None = None
    """Nucleus sampling, for Spaces that expose it (Janus understanding)."""
    seed: int | None = None
    """Random seed, for Spaces that expose it (Janus). Reported back in the metadata."""
    max_tokens: int | None = None
    """Output length cap. None of the registry's Spaces exposes one, so setting it makes
    calls fail with `UnsupportedInputError` rather than be silently ignored."""
    guidance: float | None = None
    """CFG weight for `janus-pro-7b-image` (1–10)."""
    num_images: int | None = None
    """How many of Janus' five images to return (1–5), for `janus-pro-7b-image`."""
    stop: list[str] | None = Field(default=None, alias="stop_sequences")
    """Stop sequences, applied client-side (a streaming job is cancelled on a match)."""
    streaming: bool = False
    """Make `invoke` stream internally (callbacks get tokens as they arrive)."""

    @field_validator("model")
    @classmethod
    def _known_model(cls, value: str) -> str:
        _get_model(value)  # UnknownModelError (a ValueError) lists the known models
        return value

    @model_validator(mode="after")
    def _check_settings(self) -> Self:
        """Sampling settings the Space cannot take fail at construction (e.g. a temperature
        for Phi-4, which takes none), not at every call; so do `space=` with `model=`, and
        `api_name` without `space`. (`max_tokens` fails at the first call: LangChain's
        standard tests and tracing construct models with it.)"""
        adapter_for(self._spec()).validate_params(self._sampling({}))
        return self

    def _spec(self, model: str | None = None) -> ModelSpec:
        """The registry model, or the chat endpoint of `space` (the core decides)."""
        given = model or (
            self.model if not self.space or "model" in self.model_fields_set else None
        )
        return model_spec(given, self.space, self.api_name)

    def _sampling(self, kwargs: dict[str, Any], stop: Sequence[str] = ()) -> GenerationParams:
        """The sampling settings: the fields, overridden by a call's keyword arguments."""
        values = {name: kwargs.get(name, getattr(self, name)) for name in _SAMPLING}
        return GenerationParams(**values, stop=tuple(stop))

    @staticmethod
    def _check_max_tokens(model: str | ModelSpec, max_tokens: int | None) -> None:
        if max_tokens is not None:
            raise UnsupportedInputError(
                f"{_get_model(model).id} does not take max_tokens: its Space has no output "
                "length control (leave max_tokens unset)"
            )

    # -- what the Spaces cannot do, and what to do instead -------------------------------

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, AIMessage]:
        """Not supported: the Spaces' models do not call tools."""
        raise NotImplementedError(NO_TOOL_CALLING)

    def with_structured_output(
        self,
        schema: dict[str, Any] | type,
        *,
        include_raw: bool = False,
        method: str = "json_schema",
        strict: bool | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, dict[str, Any] | BaseModel]:
        """Answers as an instance of `schema` (a pydantic class, a TypedDict or a JSON
        schema dict), **prompt-based**: the Spaces have no JSON mode or tool calling, so
        the schema goes into the last human message, the answer is parsed and checked, and
        a failure is asked about once more. If that fails too: `StructuredOutputError`
        (with `.raw_text`), or with `include_raw=True` a dict
        `{"raw": AIMessage, "parsed": ..., "parsing_error": ...}` that never raises on
        parsing. There is one path: `method` ("json_schema", "function_calling",
        "json_mode") and `strict` are accepted for compatibility and all mean this
        prompt-based JSON-schema path; every answer is checked against the schema, and
        nothing constrains the model's decoding."""
        if method not in STRUCTURED_METHODS or kwargs:
            extra = ", ".join(
                [f"method={method!r}"] * (method not in STRUCTURED_METHODS) + [*kwargs]
            )
            raise NotImplementedError(
                f"ChatHFSpaces.with_structured_output does not take {extra}: it is "
                "prompt-based; use method='json_schema' (the default)"
            )
        spec = self._spec()
        if "text" not in spec.outputs:
            raise UnsupportedInputError(
                f"{spec.id} draws images and answers no text, so it cannot give structured "
                "output; use phi-4-multimodal or janus-pro-7b"
            )
        return structured_runnable(self, schema, include_raw, method)

    # -- token counts without transformers (hfspaces.tokens: approximations per model) ---

    def get_num_tokens(self, text: str) -> int:
        """Approximate text tokens for this model (a per-model character rule, no
        tokenizer download; see `hfspaces.tokens`)."""
        return count_text(self._spec(), text)

    def get_num_tokens_from_messages(
        self, messages: list[BaseMessage], tools: Sequence[Any] | None = None
    ) -> int:
        """Approximate tokens of a conversation: text, a fixed cost per image/audio block
        (`ModelSpec.image_tokens`) and a few per message. Works with
        `trim_messages(token_counter=llm)`."""
        spec = self._spec()
        total = 0
        for message in messages:
            blocks = message.content_blocks
            media = sum(b.get("type") in ("image", "audio", "file", "video") for b in blocks)
            total += count_message(spec, message.text, media)
        return total

    def get_token_ids(self, text: str) -> list[int]:
        raise NotImplementedError(
            "ChatHFSpaces has no tokenizer (it counts tokens by an approximation): use "
            "get_num_tokens / get_num_tokens_from_messages"
        )

    @property
    def _llm_type(self) -> str:
        return "hfspaces-chat"

    @property
    def lc_secrets(self) -> dict[str, str]:
        return {"api_key": "HF_TOKEN"}

    @property
    def _identifying_params(self) -> dict[str, Any]:
        spec = self._spec()
        params: dict[str, Any] = {"model": spec.id, "space": spec.space}
        if isinstance(self.endpoint, (str, list)):
            params["endpoint"] = resolve_endpoint(spec, self.endpoint)  # passwords hidden
        for name in (*_SAMPLING, "max_tokens", "stop"):
            value = getattr(self, name)
            if value is not None:
                params[name] = value
        return params

    def _get_ls_params(self, stop: list[str] | None = None, **kwargs: Any) -> LangSmithParams:
        params = LangSmithParams(
            ls_provider=PROVIDER,
            ls_model_name=str(kwargs.get("model") or self.model),
            ls_model_type="chat",
        )
        temperature = kwargs.get("temperature", self.temperature)
        if temperature is not None:
            params["ls_temperature"] = temperature
        max_tokens = kwargs.get("max_tokens", self.max_tokens)
        if max_tokens is not None:
            params["ls_max_tokens"] = max_tokens
        stops = stop if stop is not None else self.stop
        if stops:
            params["ls_stop"] = list(stops)
        return params

    def _resolve_model_profile(self) -> ModelProfile | None:
        spec = self._spec()
        return ModelProfile(
            name=spec.id,
            open_weights=True,
            max_input_tokens=spec.context_window,
            max_output_tokens=spec.max_output_tokens,
            text_inputs="text" in spec.inputs,
            image_inputs="image" in spec.inputs,
            # http(s) image URLs are handed to the Space, which fetches them itself.
            image_url_inputs="image" in spec.inputs,
            audio_inputs="audio" in spec.inputs,
            pdf_inputs=False,
            video_inputs=False,
            text_outputs="text" in spec.outputs,
            image_outputs="image" in spec.outputs,
            audio_outputs=False,
            video_outputs=False,
            tool_calling=False,
            structured_output=True,  # prompt-based: with_structured_output
            temperature="temperature" in spec.parameters,
        )

    # -- the one path every call takes ------------------------------------

    def _prepare(
        self, messages: Sequence[BaseMessage], stop: list[str] | None, kwargs: dict[str, Any]
    ) -> tuple[SpaceModel, Conversation, GenerationParams]:
        """Resolve model and parameters and check the input. No network: everything
        the chosen Space cannot take fails here, before any request."""
        unknown = set(kwargs) - _CALL_KWARGS
        if unknown:
            raise InvalidInputError(
                f"ChatHFSpaces does not take {', '.join(sorted(unknown))}; "
                f"call options are {', '.join(sorted(_CALL_KWARGS))} and stop"
            )
        space_model = self._space_model(self._spec(kwargs.get("model")))
        self._check_max_tokens(space_model.spec, kwargs.get("max_tokens", self.max_tokens))
        stops = stop if stop is not None else self.stop
        params = self._sampling(kwargs, stops or ())
        conversation = convert_messages(messages)
        space_model.validate(conversation, params)
        return space_model, conversation, params

    def _should_stream(
        self, *, async_api: bool, run_manager: _RunManager | None = None, **kwargs: Any
    ) -> bool:
        should = super()._should_stream(async_api=async_api, run_manager=run_manager, **kwargs)
        # langchain-core then calls `_stream`/`_astream` without the run manager; keep it
        # for them, so the custom events of this run still reach its handlers.
        _STREAMED_RUN.set(run_manager if should else None)
        return should

    def _start_stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None,
        kwargs: dict[str, Any],
        run_manager: _RunManager | None,
        manager_class: type[Manager],
    ) -> tuple[AsyncGenerator[Event | Generation, None], ChunkStream, tuple[Manager, UUID] | None]:
        """What `_stream` and `_astream` share: validate and convert (before any request),
        pick the run the queue/progress events are reported on, and make the chunk builder."""
        stream_run = kwargs.pop(_STREAM_RUN, None)
        streamed_run = _STREAMED_RUN.get()
        _STREAMED_RUN.set(None)
        space_model, conversation, params = self._prepare(messages, stop, kwargs)
        spec = space_model.spec
        chunks = ChunkStream(spec.id, spec.space, image_output="image" in spec.outputs)
        events_run = run_manager or (streamed_run if stream_run is None else None)
        sink = self._event_sink(manager_class, events_run, stream_run)
        return space_model.stream(conversation, params), chunks, sink

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        stream, chunks, sink = self._start_stream(
            messages, stop, kwargs, run_manager, AsyncCallbackManager
        )
        # aclosing: leaving early (break, cancel) closes the job's stream, which cancels it.
        async with aclosing(stream) as items:
            async for item in items:
                for out in chunks.feed(item):
                    if isinstance(out, ChatGenerationChunk):
                        yield out
                    elif sink is not None:
                        manager, run_id = sink
                        await manager.on_custom_event(*out, run_id=run_id)

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        stream, chunks, sink = self._start_stream(
            messages, stop, kwargs, run_manager, CallbackManager
        )
        # The async core runs in hfspaces' background loop; this works inside a running
        # loop too (notebooks), and closing this generator cancels the job.
        for item in iterate_sync(stream):
            for out in chunks.feed(item):
                if isinstance(out, ChatGenerationChunk):
                    yield out
                elif sink is not None:
                    manager, run_id = sink
                    manager.on_custom_event(*out, run_id=run_id)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return await agenerate_from_stream(self._astream(messages, stop, run_manager, **kwargs))

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return generate_from_stream(self._stream(messages, stop, run_manager, **kwargs))

    def stream(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> Iterator[AIMessageChunk]:
        """As `BaseChatModel.stream`; custom events reach the run's callback handlers."""
        config, run = _with_stream_run(config)
        yield from super().stream(input, config, stop=stop, **kwargs, **{_STREAM_RUN: run})

    async def astream(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[AIMessageChunk]:
        """As `BaseChatModel.astream`; custom events reach the run's callback handlers."""
        config, run = _with_stream_run(config)
        # The base implementation is an async generator (typed as an iterator).
        chunks = cast(
            "AsyncGenerator[AIMessageChunk, None]",
            super().astream(input, config, stop=stop, **kwargs, **{_STREAM_RUN: run}),
        )
        async with aclosing(chunks):  # leaving early closes the stream now: the job is cancelled
            async for chunk in chunks:
                yield chunk

    def _get_invocation_params(
        self, stop: list[str] | None = None, **kwargs: Any
    ) -> dict[str, Any]:
        kwargs.pop(_STREAM_RUN, None)  # plumbing, not a parameter: keep it out of traces
        return super()._get_invocation_params(stop=stop, **kwargs)

    def _event_sink(
        self,
        manager_class: type[Manager],
        run_manager: _RunManager | None,
        stream_run: _StreamRun | None,
    ) -> tuple[Manager, UUID] | None:
        """The callback manager and run id custom events are sent with, if any."""
        if run_manager is not None:
            return run_event_sink(manager_class, run_manager)
        if stream_run is not None:
            config = stream_run.config
            manager = manager_class.configure(
                config.get("callbacks"),
                self.callbacks,
                self.verbose,
                config.get("tags"),
                self.tags,
                config.get("metadata"),
                self.metadata,
            )
            return manager, stream_run.run_id
        return None


# -- custom events ----------------------------------------------------------
# Queue/progress/log news goes to every handler of this model run, tagged with its run
# id (as `adispatch_custom_event` does inside a tool). `invoke` hands `_generate` its run
# manager; `stream`/`astream` do not hand it to `_stream`/`_astream` (langchain-core's
# choice since 0.1.14), so for those we fix the run id up front and carry the config.


@dataclass(frozen=True)
class _StreamRun:
    run_id: UUID
    config: RunnableConfig


def _with_stream_run(config: RunnableConfig | None) -> tuple[RunnableConfig, _StreamRun]:
    config = ensure_config(config)
    run_id = config.get("run_id") or uuid4()
    config = {**config, "run_id": run_id}  # the base class starts the run with this id
    return config, _StreamRun(run_id, config)
