"""Any chat Space as a chat model: find its chat endpoint in `/config`, send the
conversation the way that endpoint can take it, stream the answer as text deltas.

Recognised endpoints (gradio 5 and 6; named, public and queued, as tools are):

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
from ..config import SpaceConfig
from ..conversation import AudioPart, Conversation, ImagePart, Message, TextPart
from ..errors import EndpointNotFoundError, InvalidInputError, ProtocolError, UnsupportedInputError
from ..events import Completed, Event
from ..generation import Generation, GenerationParams
from ..schema import DEFAULT, EndpointSchema, Parameter, SpaceSchema
from .base import Adapter, events, finished, gather_all
from .janus_pro import fold_question
from .phi4 import _key, build_history, message_text

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
    """How to talk to one chat endpoint: which input takes what (positions in its inputs;
    the others take the Space's declared defaults)."""

    schema: EndpointSchema
    #: The answer: a ChatInterface's JSON output, or a Chatbot's updated history.
    output: int
    output_kind: Literal["json", "chatbot"]
    gradio6: bool
    message: int | None = None
    multimodal: bool = False
    history: int | None = None
    tuples: bool = False
    system: int | None = None
    files: dict[str, int] = field(default_factory=dict)
    parameters: dict[str, Parameter] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.schema.label

    @property
    def takes(self) -> frozenset[str]:
        # A Chatbot history carries files itself when the turn is sent inside it.
        files = self.multimodal or (self.history is not None and self.message is None)
        return frozenset({"text", *({"image", "audio"} if files else self.files)})


def read_chat_endpoint(config: SpaceConfig, schema: EndpointSchema) -> ChatEndpoint | None:
    """The chat reading of an endpoint, or None if it is not a chat endpoint."""
    kinds = schema.input_types
    out_kinds = [o.component for o in schema.outputs]
    history = next((i for i, k in enumerate(kinds) if k == "chatbot"), None)
    output_kind: Literal["json", "chatbot"]
    if history is not None and "chatbot" in out_kinds:
        output, output_kind = out_kinds.index("chatbot"), "chatbot"
    elif history is None and "state" in kinds and out_kinds[:1] == ["json"]:
        output, output_kind = 0, "json"  # gr.ChatInterface's API endpoint
    else:
        return None
    by_position = {p.position: p for p in schema.parameters}
    labels = {i: " ".join((p.label or p.name).lower().split()) for i, p in by_position.items()}
    messages = [i for i, k in enumerate(kinds) if k in MESSAGE_TYPES]
    system = next((i for i in messages if SYSTEM_LABEL.search(labels.get(i, ""))), None)
    candidates = [i for i in messages if kinds[i] == "multimodaltextbox"] or [
        i for i in messages if i != system
    ]
    message = candidates[0] if candidates else None
    if output_kind == "json" and message != 0:
        return None  # ChatInterface's message is its first input
    files: dict[str, int] = {}
    parameters: dict[str, Parameter] = {}
    for i, p in by_position.items():
        if p.file_kind in ("image", "audio") and not p.multiple:
            files.setdefault(p.file_kind, i)
        elif p.json_type in ("number", "integer"):
            name = next((n for n, rx in PARAMETER_LABELS.items() if rx.search(labels[i])), None)
            if name is not None:
                parameters.setdefault(name, p)
    tuples = False
    if history is not None:
        props = config.components.get(schema.endpoint.inputs[history], {}).get("props")
        tuples = isinstance(props, dict) and props.get("type") == "tuples"
    return ChatEndpoint(
        schema=schema,
        output=output,
        output_kind=output_kind,
        gradio6=config.major_version >= 6,
        message=message,
        multimodal=message is not None and kinds[message] == "multimodaltextbox",
        history=history,
        tuples=tuples,
        system=system,
        files=files,
        parameters=parameters,
    )


def find_chat_endpoint(
    config: SpaceConfig, schema: SpaceSchema, api_name: str | None, space: str | None
) -> ChatEndpoint:
    """The chat endpoint named `api_name`, or the first public one the app offers."""
    if api_name is not None:
        found = config.find(api_name)
        if found is None:
            raise EndpointNotFoundError(
                f"the app has no endpoint {api_name!r}; available api_names: "
                f"{', '.join('/' + a for a in config.api_names) or '(none)'}",
                space=space,
                available=config.api_names,
            )
        chat = read_chat_endpoint(config, schema.endpoint(found.fn_index))
        if chat is None:
            raise EndpointNotFoundError(
                f"/{found.api_name} is not a chat endpoint (neither a gr.ChatInterface nor "
                "a Chatbot in and out); use it as a tool (HFSpacesTool) instead",
                space=space,
                available=config.api_names,
            )
        return chat
    # Offered endpoints only: named, public and queued (unqueued ones are UI helpers, such
    # as a step that only appends the user's turn to the Chatbot).
    for endpoint in schema.offered():
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
        self.validate_params(params)
        for message in conversation:
            for part in message.parts:
                if isinstance(part, ImagePart):
                    part.media.require("image")
                elif isinstance(part, AudioPart):
                    part.media.require("audio")

    def validate_params(self, params: GenerationParams) -> None:
        """Known parameter names only: their bounds are the Space's, checked in `check`."""
        unsupported = params.set_fields() - CHAT_PARAMETERS
        if unsupported:
            raise UnsupportedInputError(
                f"a chat Space takes no {', '.join(sorted(unsupported))} (only "
                f"{', '.join(sorted(CHAT_PARAMETERS))}, where the Space has such an input)"
            )

    def check(
        self, chat: ChatEndpoint, conversation: Conversation, params: GenerationParams
    ) -> None:
        """What needs the endpoint: files it can take, parameters it has, their bounds."""
        name = f"{self.spec.space} {chat.name}"
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
            chat.parameters[param].check(getattr(params, param), name)

    async def run(
        self, client: SpaceClient, conversation: Conversation, params: GenerationParams
    ) -> AsyncIterator[Event | Generation]:
        config = await client.config()
        schema = await client.schema()
        chat = find_chat_endpoint(config, schema, self.spec.api_name, client.space_id)
        self.check(chat, conversation, params)
        data = await self._inputs(client, chat, conversation, params)
        tuples = chat.tuples

        def text_of(outputs: list[Any]) -> str | None:
            value = outputs[chat.output] if len(outputs) > chat.output else None
            if chat.output_kind == "json":
                return answer_of(value)
            return history_answer(value, tuples=tuples)

        job = await client.submit(chat.schema.endpoint, data, text_of=text_of)
        async for event in events(job):
            if isinstance(event, Completed):
                text = text_of(event.outputs)
                if text is None:
                    raise ProtocolError(
                        f"{chat.name} answered without an assistant message",
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
        data: list[Any] = [DEFAULT] * len(chat.schema.input_types)  # the client fills these
        system = "\n".join(m.text for m in conversation if m.role == "system" and m.text)
        if chat.system is not None:
            if system:  # else the Space's own default system prompt stays
                data[chat.system] = system
            conversation = [m for m in conversation if m.role != "system"]
        for param, parameter in chat.parameters.items():
            value = getattr(params, param)
            if value is not None:
                data[parameter.position] = parameter.check(value, chat.name)
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
