"""microsoft/phi-4-multimodal: multi-turn chat over text, images and audio.

Two steps, as the Space's UI does: `run/predict` fn 10 adds the user turn (not queued),
then the queued chat function fn 11 streams the answer into the chat history.
Gradio 5 messages carry string / `{"file": FileData}` content; gradio 6 a list of parts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from ..client import SpaceClient
from ..conversation import AudioPart, Conversation, ImagePart, TextPart
from ..errors import InvalidInputError, ProtocolError
from ..events import Completed, Event
from ..generation import Generation, GenerationParams
from .base import Adapter, Call, events, finished, gather_all

# history, box {"text", "files"}, audio -> history with the turn (unqueued)
ADD_TURN = Call("add_message", 10, ("chatbot", "multimodaltextbox", "audio"), ("chatbot",))
# history (+ sampling controls with defaults, filled by the client) -> answered history
CHAT = Call("chat", 11, ("chatbot",), ("chatbot",))


def message_text(content: Any) -> str | None:
    """Text of a chat message's content in gradio 5 (str) or 6 (list of parts) shape."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [p.get("text") for p in content if isinstance(p, dict) and p.get("type") == "text"]
        return "".join(t for t in texts if isinstance(t, str))
    return None


def answer_text(outputs: list[Any]) -> str | None:
    """The assistant's answer: the last message of the chat history output."""
    history = outputs[0] if outputs else None
    if not isinstance(history, list) or not history:
        return None
    last = history[-1]
    if not isinstance(last, dict) or last.get("role") != "assistant":
        return None
    return message_text(last.get("content"))


class Phi4Adapter(Adapter):
    async def run(
        self, client: SpaceClient, conversation: Conversation, params: GenerationParams
    ) -> AsyncIterator[Event | Generation]:
        if conversation[-1].role != "user":
            raise InvalidInputError("the last message must be from the user")
        config = await client.config()
        gradio6 = config.major_version >= 6
        # Upload every attachment of the conversation once (the client dedupes by hash).
        media = [
            p.media for m in conversation for p in m.parts if isinstance(p, (ImagePart, AudioPart))
        ]
        uploaded = await gather_all(client.upload(m) for m in media)
        files = {_key(m): fd for m, fd in zip(media, uploaded, strict=True)}
        history = build_history(conversation, files, gradio6=gradio6)

        # Every part of a message becomes one chat entry, so the last turn is the tail.
        tail = len(conversation[-1].parts)
        prior, turn_entries = history[:-tail], history[-tail:]
        turn = {
            "text": "\n".join(t for e in turn_entries if (t := _entry_text(e)) is not None),
            "files": [fd for e in turn_entries if (fd := _entry_file(e)) is not None],
        }
        added = await ADD_TURN.predict(client, [prior, turn, None])
        if added and isinstance(added[0], list) and added[0]:
            history = added[0]  # the Space's own rendering of the turn, when it gives one

        job = await CHAT.submit(client, [history], text_of=answer_text)
        async for event in events(job):
            if isinstance(event, Completed):
                text = answer_text(event.outputs)
                if text is None:
                    raise ProtocolError(
                        "Phi-4 answered without an assistant message", space=self.spec.space
                    )
                yield finished(self.spec, client, event, text=text)
            else:
                yield event


def _key(media: Any) -> str:
    return str(media.digest() if media.url is None else media.url)


def _entry_text(entry: dict[str, Any]) -> str | None:
    content = entry["content"]
    return (
        content
        if isinstance(content, str)
        else (
            content[0].get("text")
            if isinstance(content, list) and content[0].get("type") == "text"
            else None
        )
    )


def _entry_file(entry: dict[str, Any]) -> dict[str, Any] | None:
    content = entry["content"]
    if isinstance(content, list) and content and content[0].get("type") == "file":
        content = content[0]
    found = content.get("file") if isinstance(content, dict) else None
    return found if isinstance(found, dict) else None


def build_history(
    conversation: Conversation, files: dict[str, dict[str, Any]], *, gradio6: bool
) -> list[dict[str, Any]]:
    """Neutral conversation → Chatbot messages. The system prompt becomes the first user
    text (the Space's chat template has no system slot in its UI)."""
    system = "\n".join(m.text for m in conversation if m.role == "system" and m.text)
    out: list[dict[str, Any]] = []
    for message in conversation:
        if message.role == "system":
            continue
        for part in message.parts:
            if isinstance(part, TextPart):
                text = part.text
                if system and message.role == "user" and not any(o["role"] == "user" for o in out):
                    text = f"{system}\n\n{text}"
                content: Any = [{"type": "text", "text": text}] if gradio6 else text
            else:
                fd = files[_key(part.media)]
                content = [{"type": "file", "file": fd}] if gradio6 else {"file": fd}
            out.append({"role": message.role, "content": content})
    return out
