"""Any chat Space as a chat model: find its chat endpoint in `/config`, send the
conversation the way that endpoint can take it, stream the answer as text deltas.

Recognised endpoints (gradio 5 and 6):

- `gr.ChatInterface` (`/chat` on gradio 5, the function's name on gradio 6): a Textbox or
  MultimodalTextbox message, the history as a session `State`, additional inputs; the
  answer in a JSON output. The history cannot be sent (State is server-side, and every
  call is a new session), so earlier turns are **folded into the message** as
  "Conversation so far: ..." — as for Janus.
- Blocks with a `gr.Chatbot` input and output (optionally a Textbox/MultimodalTextbox
  message): the history **is** an input, so it is sent as Chatbot messages (or pairs, for a
  gradio 5 `type="tuples"` Chatbot).

A system prompt goes to an input labelled "system" where there is one; otherwise it leads
the folded message (or the first user message of a Chatbot history). Images and audio go
in the MultimodalTextbox's files, or to separate Image / Audio inputs (the newest of each);
a Space with neither takes text only, and files are refused, not dropped. Sampling
parameters go to inputs labelled temperature / top-p / seed, within their slider bounds.
Everything above is checked against the (cached) `/config` before any upload or job.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any, Literal

from ..client import SpaceClient
from ..config import Endpoint, SpaceConfig
from ..conversation import AudioPart, Conversation, ImagePart, Message, TextPart
from ..errors import EndpointNotFoundError, InvalidInputError, ProtocolError, UnsupportedInputError
from ..events import Completed, Event
from ..generation import Generation, GenerationParams
from ..media import Media
from .base import Adapter, finished, gather_all
from .janus_pro import _events, fold_question
from .phi4 import build_history, message_text

MESSAGE_TYPES = ("textbox", "multimodaltextbox")
FILE_INPUTS = {"image": "image", "audio": "audio"}
#: Sampling parameters a chat Space may expose, by the label of their input.
PARAMETER_LABELS: dict[str, re.Pattern[str]] = {
    "temperature": re.compile(r"^temp(erature)?$"),
    "top_p": re.compile(r"^(top[ _-]?p|nucleus( sampling)?)\b"),
    "seed": re.compile(r"^(random )?seed$"),
}
SYSTEM_LABEL = re.compile(r"system")
CHAT_PARAMETERS = frozenset(PARAMETER_LABELS)


@dataclass(frozen=True)
class ChatEndpoint:
    """How to talk to one chat endpoint: which input takes what (positions in `inputs`)."""

    endpoint: Endpoint
    #: The answer: a ChatInterface's JSON output, or a Chatbot's updated history.
    output: int
    output_kind: Literal["json", "chatbot"]
    message: int | None = None
    multimodal: bool = False
    history: int | None = None
    tuples: bool = False
    system: int | None = None
    files: dict[str, int] = field(default_factory=dict)
    parameters: dict[str, int] = field(default_factory=dict)
    #: The value each input gets unless the conversation fills it (declared defaults;
    #: None for State, which the server keeps).
    defaults: tuple[Any, ...] = ()
    bounds: dict[int, tuple[float | None, float | None]] = field(default_factory=dict)
    gradio6: bool = True

    @property
    def takes(self) -> frozenset[str]:
        # A Chatbot history carries files itself when the turn is sent inside it.
        files = self.multimodal or (self.history is not None and self.message is None)
        return frozenset({"text", *({"image", "audio"} if files else self.files)})


def _props(config: SpaceConfig, component: int) -> dict[str, Any]:
    props = config.components.get(component, {}).get("props")
    return props if isinstance(props, dict) else {}


def _label(config: SpaceConfig, component: int) -> str:
    label = _props(config, component).get("label")
    return " ".join(label.lower().split()) if isinstance(label, str) else ""


def read_chat_endpoint(config: SpaceConfig, endpoint: Endpoint) -> ChatEndpoint | None:
    """The chat reading of `endpoint`, or None if it is not a chat endpoint."""
    kinds = [config.component_type(c) or "" for c in endpoint.inputs]
    out_kinds = [config.component_type(c) or "" for c in endpoint.outputs]
    history = next((i for i, k in enumerate(kinds) if k == "chatbot"), None)
    if history is not None and "chatbot" in out_kinds:
        output, output_kind = out_kinds.index("chatbot"), "chatbot"
    elif history is None and "state" in kinds and out_kinds[:1] == ["json"]:
        output, output_kind = 0, "json"  # gr.ChatInterface's API endpoint
    else:
        return None
    messages = [i for i, k in enumerate(kinds) if k in MESSAGE_TYPES]
    system = next(
        (i for i in messages if SYSTEM_LABEL.search(_label(config, endpoint.inputs[i]))), None
    )
    multimodal = [i for i in messages if kinds[i] == "multimodaltextbox"]
    candidates: list[int] = multimodal or [i for i in messages if i != system]
    message = candidates[0] if candidates else None
    if output_kind == "json" and message != 0:
        return None  # ChatInterface's message is its first input
    files: dict[str, int] = {}
    parameters: dict[str, int] = {}
    bounds: dict[int, tuple[float | None, float | None]] = {}
    defaults: list[Any] = []
    for i, (component, kind) in enumerate(zip(endpoint.inputs, kinds, strict=True)):
        props = _props(config, component)
        defaults.append(None if kind == "state" else props.get("value"))
        if kind in FILE_INPUTS:
            files.setdefault(FILE_INPUTS[kind], i)
        elif kind in ("slider", "number"):
            label = _label(config, component)
            name = next((n for n, p in PARAMETER_LABELS.items() if p.search(label)), None)
            if name is not None:
                parameters.setdefault(name, i)
                low, high = props.get("minimum"), props.get("maximum")
                bounds[i] = (
                    low if isinstance(low, (int, float)) else None,
                    high if isinstance(high, (int, float)) else None,
                )
    tuples = (
        history is not None and _props(config, endpoint.inputs[history]).get("type") == "tuples"
    )
    return ChatEndpoint(
        endpoint=endpoint,
        output=output,
        output_kind=output_kind,  # type: ignore[arg-type]
        message=message,
        multimodal=message is not None and kinds[message] == "multimodaltextbox",
        history=history,
        tuples=tuples,
        system=system,
        files=files,
        parameters=parameters,
        defaults=tuple(defaults),
        bounds=bounds,
        gradio6=config.major_version >= 6,
    )


def find_chat_endpoint(
    config: SpaceConfig, api_name: str | None, space: str | None
) -> ChatEndpoint:
    """The chat endpoint named `api_name`, or the first public one the app offers."""
    if api_name is not None:
        endpoint = config.find(api_name)
        if endpoint is None:
            raise EndpointNotFoundError(
                f"the app has no endpoint {api_name!r}; available api_names: "
                f"{', '.join('/' + a for a in config.api_names) or '(none)'}",
                space=space,
                available=config.api_names,
            )
        chat = read_chat_endpoint(config, endpoint)
        if chat is None:
            raise EndpointNotFoundError(
                f"/{endpoint.api_name} is not a chat endpoint (neither a gr.ChatInterface nor "
                "a Chatbot in and out); use it as a tool (HFSpacesTool) instead",
                space=space,
                available=config.api_names,
            )
        return chat
    for endpoint in config.endpoints:
        if endpoint.public and endpoint.api_name:
            chat = read_chat_endpoint(config, endpoint)
            if chat is not None:
                return chat
    raise EndpointNotFoundError(
        "the app has no chat endpoint (a gr.ChatInterface, or a Chatbot in and out); its "
        f"api_names: {', '.join('/' + a for a in config.api_names) or '(none)'}",
        space=space,
        available=config.api_names,
    )


# -- reading answers -------------------------------------------------------------------


def answer_of(value: Any) -> str | None:
    """Text of a ChatInterface answer: a string, a message dict, or a list of messages."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict):
        return message_text(value.get("content"))
    if isinstance(value, list):
        texts = [answer_of(m) for m in value if isinstance(m, dict)]
        return "\n\n".join(t for t in texts if t)
    return None


def history_answer(history: Any, *, tuples: bool) -> str | None:
    """The assistant's messages after the last user message of a Chatbot history."""
    if not isinstance(history, list) or not history:
        return None
    if tuples:
        last = history[-1]
        bot = last[1] if isinstance(last, (list, tuple)) and len(last) == 2 else None
        return bot if isinstance(bot, str) else None
    tail: list[str] = []
    for msg in reversed(history):
        if not isinstance(msg, dict) or msg.get("role") != "assistant":
            break
        text = message_text(msg.get("content"))
        if text:
            tail.append(text)
    return "\n\n".join(reversed(tail)) if tail else None


class ChatAdapter(Adapter):
    """The generic chat adapter (`SpaceModel(space=...)`)."""

    def validate(self, conversation: Conversation, params: GenerationParams) -> None:
        """What needs no `/config`: a user turn to answer, known parameters, readable media."""
        if not conversation:
            raise InvalidInputError("the conversation is empty: send at least one message")
        if conversation[-1].role != "user":
            raise InvalidInputError("the last message must be from the user")
        unsupported = params.set_fields() - CHAT_PARAMETERS
        if unsupported:
            raise UnsupportedInputError(
                f"a chat Space takes no {', '.join(sorted(unsupported))} (only "
                f"{', '.join(sorted(CHAT_PARAMETERS))}, where the Space has such an input)"
            )
        for message in conversation:
            for part in message.parts:
                if isinstance(part, ImagePart):
                    part.media.require("image")
                elif isinstance(part, AudioPart):
                    part.media.require("audio")

    def check(
        self, chat: ChatEndpoint, conversation: Conversation, params: GenerationParams
    ) -> None:
        """What needs the endpoint: files it can take, parameters it has, their bounds."""
        name = f"{self.spec.space} /{chat.endpoint.api_name}"
        for message in conversation:
            for part in message.parts:
                kind = (
                    "image"
                    if isinstance(part, ImagePart)
                    else ("audio" if isinstance(part, AudioPart) else None)
                )
                if kind is not None and kind not in chat.takes:
                    raise UnsupportedInputError(
                        f"{name} does not take {kind} (it takes {', '.join(sorted(chat.takes))})"
                    )
        for param in params.set_fields():
            if param not in chat.parameters:
                raise UnsupportedInputError(
                    f"{name} has no {param} input (it exposes "
                    f"{', '.join(sorted(chat.parameters)) or 'no sampling parameters'})"
                )
            value = getattr(params, param)
            low, high = chat.bounds.get(chat.parameters[param], (None, None))
            if (low is not None and value < low) or (high is not None and value > high):
                raise InvalidInputError(
                    f"{param} must be between {low:g} and {high:g} for {name}, got {value!r}"
                )

    async def run(
        self, client: SpaceClient, conversation: Conversation, params: GenerationParams
    ) -> AsyncIterator[Event | Generation]:
        config = await client.config()
        chat = find_chat_endpoint(config, self.spec.api_name, client.space_id)
        self.check(chat, conversation, params)
        data = await self._inputs(client, chat, conversation, params)
        tuples = chat.tuples

        def text_of(outputs: list[Any]) -> str | None:
            value = outputs[chat.output] if len(outputs) > chat.output else None
            if chat.output_kind == "json":
                return answer_of(value)
            return history_answer(value, tuples=tuples)

        job = await client.submit(chat.endpoint, data, text_of=text_of)
        async for event in _events(job):
            if isinstance(event, Completed):
                text = text_of(event.outputs)
                if text is None:
                    raise ProtocolError(
                        f"/{chat.endpoint.api_name} answered without an assistant message",
                        space=client.space_id,
                    )
                yield finished(self.spec, client, event, text=text)
            else:
                yield event

    async def _inputs(
        self,
        client: SpaceClient,
        chat: ChatEndpoint,
        conversation: Conversation,
        params: GenerationParams,
    ) -> list[Any]:
        data = list(chat.defaults)
        system = "\n".join(m.text for m in conversation if m.role == "system" and m.text)
        if chat.system is not None:
            if system:  # else the Space's own default system prompt stays
                data[chat.system] = system
            conversation = [m for m in conversation if m.role != "system"]
        for param, index in chat.parameters.items():
            value = getattr(params, param)
            if value is not None:
                data[index] = value
        media = [
            p.media for m in conversation for p in m.parts if isinstance(p, (ImagePart, AudioPart))
        ]
        uploaded = await gather_all(client.upload(m) for m in media)
        files = {_key(m): fd for m, fd in zip(media, uploaded, strict=True)}
        last = conversation[-1]
        if chat.history is not None:
            # The history is an input: send it (the new turn too, when there is no message box).
            prior = conversation[:-1] if chat.message is not None else conversation
            data[chat.history] = (
                _pairs(prior) if chat.tuples else build_history(prior, files, gradio6=chat.gradio6)
            )
            text = last.text
            if system and chat.system is None and not any(m.role == "user" for m in prior):
                text = f"{system}\n\n{text}"  # no earlier user message to carry it
            turn_media = [p.media for p in last.parts if isinstance(p, (ImagePart, AudioPart))]
        else:
            # Session State: the Space cannot take a history, so it is folded into the text
            # and every file of the conversation comes along with the message.
            text = fold_question(conversation)
            turn_media = media
        if chat.message is not None:
            data[chat.message] = (
                {"text": text, "files": [files[_key(m)] for m in turn_media]}
                if chat.multimodal
                else text
            )
        if not chat.multimodal:
            for kind, index in chat.files.items():
                newest = next((m for m in reversed(media) if m.kind == kind), None)
                if newest is not None:
                    data[index] = files[_key(newest)]
        return data


def _key(media: Media) -> str:
    return str(media.digest() if media.url is None else media.url)


def _pairs(conversation: Conversation) -> list[list[str | None]]:
    """A gradio 5 `type="tuples"` Chatbot history: [user, assistant] text pairs (files are
    named in the text, as a tuples history has no typed file slot per message)."""
    pairs: list[list[str | None]] = []
    system = "\n".join(m.text for m in conversation if m.role == "system" and m.text)
    for message in conversation:
        if message.role == "system":
            continue
        text = _with_markers(message)
        if message.role == "user":
            if system and not pairs:
                text = f"{system}\n\n{text}"
            pairs.append([text, None])
        elif pairs and pairs[-1][1] is None:
            pairs[-1][1] = text
        else:
            pairs.append([None, text])
    return pairs


def _with_markers(message: Message) -> str:
    marks = [
        f"[{'image' if isinstance(p, ImagePart) else 'audio'}]"
        for p in message.parts
        if not isinstance(p, TextPart)
    ]
    return " ".join([message.text, *marks]).strip()
