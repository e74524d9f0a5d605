"""The Phi-4 adapter: chat history in gradio 5 and 6 shapes (pure), reading answers in both
shapes (pure), and the two-step call against the replica with images and audio."""

from __future__ import annotations

from typing import Any

import gradio as gr
import pytest
from hfspaces import Media, Message, SpaceClient, SpaceModel, errors
from hfspaces.spaces.phi4 import answer_text, build_history, message_text

GRADIO6 = int(gr.__version__.split(".")[0]) >= 6
FD_IMG = {"path": "/tmp/i.png", "meta": {"_type": "gradio.FileData"}}
FD_WAV = {"path": "/tmp/a.wav", "meta": {"_type": "gradio.FileData"}}


def convo_and_files(png: bytes, wav: bytes) -> tuple[list[Message], dict[str, Any]]:
    image, audio = Media.of(png), Media.of(wav)
    convo = [
        Message.system("Be brief."),
        Message.user("Look", image),
        Message.assistant("A square."),
        Message.user("Listen", audio),
    ]
    return convo, {image.digest(): FD_IMG, audio.digest(): FD_WAV}


def test_history_gradio6(png_bytes: bytes, wav_bytes: bytes) -> None:
    convo, files = convo_and_files(png_bytes, wav_bytes)
    assert build_history(convo, files, gradio6=True) == [
        {"role": "user", "content": [{"type": "text", "text": "Be brief.\n\nLook"}]},
        {"role": "user", "content": [{"type": "file", "file": FD_IMG}]},
        {"role": "assistant", "content": [{"type": "text", "text": "A square."}]},
        {"role": "user", "content": [{"type": "text", "text": "Listen"}]},
        {"role": "user", "content": [{"type": "file", "file": FD_WAV}]},
    ]


def test_history_gradio5(png_bytes: bytes, wav_bytes: bytes) -> None:
    convo, files = convo_and_files(png_bytes, wav_bytes)
    assert build_history(convo, files, gradio6=False) == [
        {"role": "user", "content": "Be brief.\n\nLook"},
        {"role": "user", "content": {"file": FD_IMG}},
        {"role": "assistant", "content": "A square."},
        {"role": "user", "content": "Listen"},
        {"role": "user", "content": {"file": FD_WAV}},
    ]


def test_reading_answers_in_both_shapes() -> None:
    g5 = [[{"role": "user", "content": "q"}, {"role": "assistant", "content": "Hello"}]]
    g6 = [
        [
            {"role": "user", "content": [{"type": "text", "text": "q"}]},
            {
                "role": "assistant",
                "content": [{"type": "text", "text": "Hel"}, {"type": "text", "text": "lo"}],
            },
        ]
    ]
    assert answer_text(g5) == "Hello" and answer_text(g6) == "Hello"
    assert answer_text([[{"role": "user", "content": "q"}]]) is None  # no answer yet
    assert answer_text([]) is None and answer_text([None]) is None
    assert message_text({"file": FD_IMG}) is None
    assert message_text([{"type": "file", "file": FD_IMG}]) == ""


async def test_two_step_call_with_image_and_audio(
    fresh_replica: Any, png_bytes: bytes, wav_bytes: bytes
) -> None:
    model = SpaceModel("phi-4-multimodal")
    gen = await model.generate(
        [Message.user("What do you see and hear?", Media.of(png_bytes), Media.of(wav_bytes))]
    )
    await model.aclose()
    assert "32×24" in gen.text and "mostly red" in gen.text
    assert "1.00 seconds" in gen.text
    stats = fresh_replica.stats()
    assert stats["predicts"]["microsoft/phi-4-multimodal"] == {"10": 1}
    assert stats["joins"]["microsoft/phi-4-multimodal"] == {"11": 1}


async def test_multi_turn_history_with_media(
    fresh_replica: Any, png_bytes: bytes, wav_bytes: bytes
) -> None:
    convo, _ = convo_and_files(png_bytes, wav_bytes)
    model = SpaceModel("phi-4-multimodal")
    gen = await model.generate(convo)
    await model.aclose()
    assert gen.text.startswith("Turn 2.")  # one assistant turn before
    assert "Listen" in gen.text and "1.00 seconds" in gen.text


async def test_other_majors_history_shape_refused_by_the_space(
    fresh_replica: Any, phi4_url: str, png_bytes: bytes
) -> None:
    # The seeds' library sends gradio 5 shapes; a gradio 6 Space refuses them (its Chatbot
    # validates strictly, as the replica's does), so the client must follow config.version.
    async with SpaceClient(phi4_url) as client:
        fd = await client.upload(Media.of(png_bytes))
        image = Media.of(png_bytes)
        history = build_history(
            [Message.user("old shape", image)], {image.digest(): fd}, gradio6=not GRADIO6
        )
        job = await client.submit("chat", [history], text_of=answer_text)
        with pytest.raises(errors.AppError, match="hides its error messages"):
            await job.result()
