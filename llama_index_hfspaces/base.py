"""`HFSpacesLLM`: the registry's Space models (Janus-Pro-7B, Phi-4-multimodal) as a
LlamaIndex `LLM`, multimodal through `ChatMessage.blocks`.

Chat is the one code path: `_astream` runs `SpaceModel.stream()` in the caller's event
loop, `_stream` runs the same stream in the `hfspaces.sync` background loop; every other
method is derived from those two.
"""

from __future__ import annotations

import contextlib
from collections.abc import (
    AsyncGenerator,
    AsyncIterator,
    Generator,
    Iterable,
    Iterator,
    Sequence,
)
from typing import Any, Literal, NamedTuple, TypeVar, cast

from hfspaces import GenerationParams, InvalidInputError, Message, ModelSpec, SpaceModel, get_model
from hfspaces.settings_cache import ModelCache, env_token, token_for_pickle
from hfspaces.space_model import model_spec
from hfspaces.spaces import adapter_for
from hfspaces.structured import Outcome, StructuredRequest, adrive, drive, structured_attempts
from hfspaces.sync import iterate_sync
from llama_index.core.base.llms.types import (
    ChatMessage,
    ChatResponse,
    ChatResponseAsyncGen,
    ChatResponseGen,
    CompletionResponse,
    CompletionResponseAsyncGen,
    CompletionResponseGen,
    LLMMetadata,
    MessageRole,
)
from llama_index.core.bridge.pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    SecretStr,
    model_validator,
)
from llama_index.core.instrumentation.events.llm import (
    LLMStructuredPredictEndEvent,
    LLMStructuredPredictStartEvent,
)
from llama_index.core.instrumentation.span import active_span_id
from llama_index.core.llms.callbacks import llm_chat_callback, llm_completion_callback
from llama_index.core.llms.llm import LLM
from llama_index.core.prompts import BasePromptTemplate

from .events import announce, dispatcher
from .utils import (
    ChatStream,
    completion_response,
    input_errors,
    prompt_message,
    to_conversation,
    with_instructions,
)

DEFAULT_MODEL = "phi-4-multimodal"

#: Sampling settings; None means "not sent" (the Space's own default).
PARAM_NAMES = ("temperature", "top_p", "seed", "guidance", "num_images")


Model = TypeVar("Model", bound=BaseModel)


def _token_from_env() -> SecretStr | None:
    token = env_token()
    return SecretStr(token) if token else None


class HFSpacesLLM(LLM):
    """A Hugging Face Space model as a LlamaIndex chat LLM.

    >>> llm = HFSpacesLLM(model="phi-4-multimodal")
    >>> llm.chat([ChatMessage(role="user", blocks=[TextBlock(text="What is this?"),
    ...                                            ImageBlock(path="cat.png")])])

    Models: "phi-4-multimodal" (text, images, audio; multi-turn, streams tokens),
    "janus-pro-7b" (a question about one image), "janus-pro-7b-image" (text → images: the
    answer carries `ImageBlock`s). No network I/O happens until the first call.

    Settings the Space cannot take (a temperature for Phi-4, `max_tokens`) fail at
    construction. Bad input to a call (an unsupported block, audio for Janus, two images
    for Janus) raises `HFSpacesInputError` before any request: deliberately *not* a
    `ValueError`, because LlamaIndex's response synthesizers catch `ValueError`/`TypeError`
    from the LLM and answer "Empty Response"; the `hfspaces.InvalidInputError` is its
    `.error` and `__cause__`. Space failures raise `hfspaces.SpaceError` subclasses.
    `structured_predict` / `as_structured_llm` answer with the output class, prompt-based
    (one re-ask, then `hfspaces.structured.StructuredOutputError` with the raw text).
    Queue/progress/log updates are dispatched as `HFSpacesJobEvent` instrumentation events.

    Keyword arguments of a call (`temperature`, `top_p`, `seed`, `guidance`, `num_images`,
    `stop`) override the fields for that call; other keyword arguments LlamaIndex passes
    along are ignored. Streams: every chunk has the cumulative message and a non-empty
    `delta`; the last one also carries the run metadata (`raw`, `additional_kwargs`) and,
    for janus-pro-7b-image, the images.
    """

    model: str = Field(
        default=DEFAULT_MODEL,
        description="Registry model id or alias: phi-4-multimodal, janus-pro-7b, "
        "janus-pro-7b-image.",
    )
    space: str | None = Field(
        default=None,
        description="Any chat Space instead of a registry model: a Space id or URL whose chat "
        "endpoint (gr.ChatInterface, or a Chatbot in and out) is found in its /config.",
    )
    api_name: str | None = Field(
        default=None, description="The chat endpoint of `space`, when it has several."
    )
    endpoint: str | list[str] | dict[str, str | list[str]] | None = Field(
        default=None,
        description="Space URL or id, a list of them (a pool of copies of one Space), or a "
        "mapping Space id/model id → either. Default: the HFSPACES_ENDPOINTS environment "
        "variable, else the model's Space on the Hub.",
    )
    hf_token: SecretStr | Literal[False] | None = Field(
        default_factory=_token_from_env,
        exclude=True,
        repr=False,
        description="Hugging Face token (ZeroGPU quota is per identity). Default: HF_TOKEN. "
        "False: anonymous whatever HF_TOKEN says. Sent only to https://*.hf.space unless "
        "send_hf_token=True.",
    )
    send_hf_token: bool | None = Field(
        default=None,
        description="Send the token to an endpoint that is not a *.hf.space address (a proxy "
        "in front of a Space, the replica). None: only to *.hf.space.",
    )
    max_queue_wait: float = Field(
        default=600.0,
        ge=0,
        description="Seconds to keep trying while the Space's queue is full (503), inside "
        "timeout; each wait is an HFSpacesJobEvent of kind 'queue_wait'.",
    )
    hub_url: str | None = Field(
        default=None, description="Hub URL for ZeroGPU tokens. Default: HF_ENDPOINT or the Hub."
    )
    temperature: float | None = Field(default=None, description="Sampling temperature.")
    top_p: float | None = Field(default=None, description="Nucleus sampling (Janus).")
    seed: int | None = Field(default=None, description="Random seed (Janus).")
    guidance: float | None = Field(default=None, description="CFG weight (Janus images).")
    num_images: int | None = Field(
        default=None, description="How many of the 5 drawn images to return (Janus images)."
    )
    timeout: float | None = Field(
        default=None,
        gt=0,
        description="Overall deadline of one call in seconds, queue wait included "
        "(default: hfspaces' 600 s).",
    )
    max_retries: int = Field(
        default=3, ge=0, description="Retries of transient failures (429, 503, resets)."
    )
    max_tokens: int | None = Field(
        default=None,
        description="Not supported: no registry Space has an output length control, so "
        "setting it fails at construction (rather than being silently ignored).",
    )

    _models: ModelCache | None = PrivateAttr(default=None)

    def __init__(self, **data: Any) -> None:
        # Fail on an unknown model name (or model and space both) now, with the core's
        # message (no network).
        model = data.get("model") or (None if data.get("space") else DEFAULT_MODEL)
        data["model"] = model_spec(model, data.get("space"), data.get("api_name")).id
        super().__init__(**data)

    def _spec(self) -> ModelSpec:
        """The registry model, or the chat endpoint of `space` (the core decides)."""
        return model_spec(None if self.space else self.model, self.space, self.api_name)

    @model_validator(mode="after")
    def _check_settings(self) -> HFSpacesLLM:
        """What can be checked without a conversation fails now, not at every call."""
        adapter_for(self._spec()).validate_params(self._params({}))
        _refuse_max_tokens(self._spec(), self.max_tokens)
        return self

    @classmethod
    def class_name(cls) -> str:
        return "HFSpacesLLM"

    @property
    def metadata(self) -> LLMMetadata:
        spec = self._spec()
        return LLMMetadata(
            context_window=spec.context_window,
            num_output=spec.max_output_tokens,
            is_chat_model=True,
            is_function_calling_model=False,
            model_name=spec.id,
        )

    # -- the neutral layer ------------------------------------------------------------------

    def _core_settings(self) -> dict[str, Any]:
        """`SpaceModel`'s keyword arguments from the current settings: the one place a
        setting reaches the core."""
        return {
            "endpoint": self.endpoint,
            "hf_token": self.hf_token,
            "send_hf_token": self.send_hf_token,
            "max_queue_wait": self.max_queue_wait,
            "hub_url": self.hub_url,
            "timeout": self.timeout,
            "max_retries": self.max_retries,
        }

    @property
    def space_model(self) -> SpaceModel:
        """The `hfspaces.SpaceModel` for the current settings: built on first use, rebuilt
        after any setting changed, never shared with a copy of this LLM."""
        self._models = ModelCache.owned(self, self._models)
        return self._models.get(self._spec(), self._core_settings())

    async def aclose(self) -> None:
        """Close the HTTP session this LLM opened in the running event loop."""
        if self._models is not None:
            await ModelCache.owned(self, self._models).aclose()

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        fields = dict(state["__dict__"])
        # Never the token: the copy reads HF_TOKEN again (see settings_cache.token_for_pickle).
        token = token_for_pickle(self.hf_token)
        if token is None:
            fields.pop("hf_token", None)
        else:
            fields["hf_token"] = token
        return {**state, "__dict__": fields}

    def _params(self, kwargs: dict[str, Any]) -> GenerationParams:
        """Sampling settings: the fields, overridden per call by keyword arguments."""
        values = {name: kwargs.get(name, getattr(self, name)) for name in PARAM_NAMES}
        stop = kwargs.get("stop") or ()
        return GenerationParams(**values, stop=(stop,) if isinstance(stop, str) else tuple(stop))

    def _prepare(self, messages: Sequence[ChatMessage], kwargs: dict[str, Any]) -> _Call:
        """Convert and validate now, so bad input fails at the call, before any request
        (and before a stream is first iterated)."""
        with input_errors():
            _refuse_max_tokens(self.model, kwargs.get("max_tokens"))
            model = self.space_model
            conversation = to_conversation(messages)
            params = self._params(kwargs)
            model.validate(conversation, params)
        return _Call(model, conversation, params, active_span_id.get())

    def _prepare_prompt(
        self, prompt: str, image_documents: Iterable[Any] | None, kwargs: dict[str, Any]
    ) -> _Call:
        with input_errors():
            message = prompt_message(prompt, image_documents)
        return self._prepare([message], kwargs)

    # -- the one code path, async and sync ------------------------------------------------

    @staticmethod
    async def _astream(call: _Call) -> AsyncIterator[ChatResponse]:
        chunks = ChatStream()
        stream = call.model.stream(call.conversation, call.params)
        with input_errors():
            async with contextlib.aclosing(stream) as items:
                async for item in items:
                    call.announce(item)
                    for chunk in chunks.feed(item):
                        yield chunk

    @staticmethod
    def _stream(call: _Call) -> Iterator[ChatResponse]:
        chunks = ChatStream()
        # Closing early closes the async stream in the background loop: the job is cancelled.
        stream = call.model.stream(call.conversation, call.params)
        with input_errors(), contextlib.closing(iterate_sync(stream)) as items:
            for item in items:
                call.announce(item)
                yield from chunks.feed(item)

    # -- chat: primary --------------------------------------------------------------------

    @llm_chat_callback()
    def chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return _final(self._stream(self._prepare(messages, kwargs)))

    @llm_chat_callback()
    def stream_chat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponseGen:
        return self._stream(self._prepare(messages, kwargs))  # type: ignore[return-value]

    @llm_chat_callback()
    async def achat(self, messages: Sequence[ChatMessage], **kwargs: Any) -> ChatResponse:
        return await _afinal(self._astream(self._prepare(messages, kwargs)))

    @llm_chat_callback()
    async def astream_chat(
        self, messages: Sequence[ChatMessage], **kwargs: Any
    ) -> ChatResponseAsyncGen:
        # An `async def` that returns the generator: the callback decorator wraps it.
        return self._astream(self._prepare(messages, kwargs))  # type: ignore[return-value]

    # -- completion: derived (the prompt, plus legacy image_documents, as one user turn) ----

    @llm_completion_callback()
    def complete(
        self,
        prompt: str,
        formatted: bool = False,
        image_documents: Iterable[Any] | None = None,
        **kwargs: Any,
    ) -> CompletionResponse:
        """Complete `prompt`; `image_documents` (ImageBlock / ImageNode / ImageDocument) is
        the entry point of LlamaIndex's legacy multimodal LLM classes."""
        call = self._prepare_prompt(prompt, image_documents, kwargs)
        return completion_response(_final(self._stream(call)))

    @llm_completion_callback()
    def stream_complete(
        self,
        prompt: str,
        formatted: bool = False,
        image_documents: Iterable[Any] | None = None,
        **kwargs: Any,
    ) -> CompletionResponseGen:
        chunks = self._stream(self._prepare_prompt(prompt, image_documents, kwargs))
        return (completion_response(chunk) for chunk in chunks)

    @llm_completion_callback()
    async def acomplete(
        self,
        prompt: str,
        formatted: bool = False,
        image_documents: Iterable[Any] | None = None,
        **kwargs: Any,
    ) -> CompletionResponse:
        call = self._prepare_prompt(prompt, image_documents, kwargs)
        return completion_response(await _afinal(self._astream(call)))

    @llm_completion_callback()
    async def astream_complete(
        self,
        prompt: str,
        formatted: bool = False,
        image_documents: Iterable[Any] | None = None,
        **kwargs: Any,
    ) -> CompletionResponseAsyncGen:
        call = self._prepare_prompt(prompt, image_documents, kwargs)
        return _completions(self._astream(call))

    # -- structured output: prompt-based (hfspaces.structured) ----------------------------

    def structured_predict(
        self,
        output_cls: type[Model],
        prompt: BasePromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Model:
        """An `output_cls` instance from the prompt (its chat messages may carry images):
        the JSON schema goes into the last user message, the answer is parsed and
        validated, a failure is asked about once more, then `StructuredOutputError`."""
        run = self._attempts(output_cls, prompt, prompt_args)
        answer = drive(run, lambda m: self.chat(m, **(llm_kwargs or {})))
        return _structured_result(answer)

    async def astructured_predict(
        self,
        output_cls: type[Model],
        prompt: BasePromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Model:
        run = self._attempts(output_cls, prompt, prompt_args)
        answer = await adrive(run, lambda m: self.achat(m, **(llm_kwargs or {})))
        return _structured_result(answer)

    def stream_structured_predict(
        self,
        output_cls: type[Model],
        prompt: BasePromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> Generator[Model, None, None]:
        """One item, the whole object (an answer is only valid JSON once complete)."""
        yield self.structured_predict(output_cls, prompt, llm_kwargs, **prompt_args)

    async def astream_structured_predict(
        self,
        output_cls: type[Model],
        prompt: BasePromptTemplate,
        llm_kwargs: dict[str, Any] | None = None,
        **prompt_args: Any,
    ) -> AsyncGenerator[Model, None]:
        async def one() -> AsyncGenerator[Model, None]:
            yield await self.astructured_predict(output_cls, prompt, llm_kwargs, **prompt_args)

        return one()

    def _attempts(
        self, output_cls: type[Model], prompt: BasePromptTemplate, prompt_args: dict[str, Any]
    ) -> Generator[list[ChatMessage], ChatResponse, Outcome[ChatResponse, Model]]:
        # LlamaIndex's own start/end events, as its default structured_predict sends them.
        dispatcher.event(
            LLMStructuredPredictStartEvent(
                output_cls=output_cls, template=prompt, template_args=prompt_args
            )
        )
        request = StructuredRequest(output_cls.model_json_schema(), output_cls.model_validate)
        messages = with_instructions(
            prompt.format_messages(llm=self, **prompt_args), request.instructions()
        )
        return structured_attempts(request, messages, _retry, _answer_text, self._spec().space)


def _retry(sent: list[ChatMessage], answer: ChatResponse, reask: str) -> list[ChatMessage]:
    return [*sent, answer.message, ChatMessage(role=MessageRole.USER, content=reask)]


def _answer_text(answer: ChatResponse) -> str:
    return answer.message.content or ""


def _structured_result(outcome: Outcome[ChatResponse, Model]) -> Model:
    _, value, error = outcome
    if error is not None:
        raise error
    dispatcher.event(LLMStructuredPredictEndEvent(output=value))
    return cast("Model", value)


def _refuse_max_tokens(model: str | ModelSpec, max_tokens: Any) -> None:
    if max_tokens is not None:
        raise InvalidInputError(
            f"{get_model(model).id} does not take max_tokens: its Space has no output length "
            "control (leave max_tokens unset)"
        )


class _Call(NamedTuple):
    """One validated call: what to send, where, and the LLM span it belongs to."""

    model: SpaceModel
    conversation: list[Message]
    params: GenerationParams
    span_id: str | None

    def announce(self, item: object) -> None:
        announce(item, model=self.model.spec.id, space=self.model.spec.space, span_id=self.span_id)


#: The name users of LlamaIndex's legacy `MultiModalLLM` classes look for.
HFSpacesMultiModal = HFSpacesLLM


def _final(chunks: Iterable[ChatResponse]) -> ChatResponse:
    last: ChatResponse | None = None
    for last in chunks:  # noqa: B007 - the last chunk is the whole answer
        pass
    return _whole(last)


async def _afinal(chunks: AsyncIterator[ChatResponse]) -> ChatResponse:
    last: ChatResponse | None = None
    async for last in chunks:  # noqa: B007
        pass
    return _whole(last)


def _whole(last: ChatResponse | None) -> ChatResponse:
    if last is None:  # pragma: no cover - a stream ends with its Generation or raises
        raise RuntimeError("the Space stream ended without an answer")
    # A non-streamed response has no delta.
    return ChatResponse(
        message=last.message, raw=last.raw, additional_kwargs=last.additional_kwargs
    )


async def _completions(chunks: AsyncIterator[ChatResponse]) -> CompletionResponseAsyncGen:
    async for chunk in chunks:
        yield completion_response(chunk)
