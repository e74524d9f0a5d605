"""The Janus-Pro adapter: conversation folding (pure), gallery shapes (pure), and the
adapter against the replica (one image per call, never one dropped)."""

from __future__ import annotations

from typing import Any

import pytest
from _support import solid_png
from hfspaces import Media, Message, SpaceModel, UnsupportedInputError
from hfspaces.spaces.janus_pro import fold_question, gallery_files


def test_single_question_unchanged() -> None:
    assert fold_question([Message.user("What is this?")]) == "What is this?"


def test_system_and_history_folded() -> None:
    convo = [
        Message.system("Answer in French."),
        Message.user("What is this?"),
        Message.assistant("A red square."),
        Message.user("And the stripe?"),
    ]
    assert fold_question(convo) == (
        "Answer in French.\n\n"
        "Conversation so far:\nUser: What is this?\nAssistant: A red square.\n\n"
        "Question: And the stripe?"
    )


def test_only_system_prompt() -> None:
    assert fold_question([Message.system("Be brief."), Message.user("Why?")]) == (
        "Be brief.\n\nQuestion: Why?"
    )


def test_trailing_assistant_message_is_history() -> None:
    convo = [Message.user("Q1"), Message.assistant("A1")]
    assert fold_question(convo) == "Q1"


def test_media_only_turns_skipped_in_history(png_bytes: bytes) -> None:
    convo = [Message.user("", Media.of(png_bytes)), Message.user("Describe")]
    assert fold_question(convo) == "Describe"


def test_gallery_shapes() -> None:
    fd = {"path": "/tmp/a.webp", "meta": {"_type": "gradio.FileData"}}
    assert gallery_files([{"image": fd, "caption": None}]) == [fd]  # gradio 5/6
    assert gallery_files([[fd, "caption"]]) == [fd]  # gradio 4
    assert gallery_files([fd]) == [fd]
    assert gallery_files(None) == [] and gallery_files([1, "x"]) == []


async def test_a_second_image_in_the_history_is_refused_not_dropped(fresh_replica: Any) -> None:
    """Janus reads one image per call: an earlier turn's image would be dropped silently,
    so the registry's max_images refuses the call before any request (issue 12)."""
    red = Media.of(solid_png(32, 24, (220, 20, 20)))
    blue = Media.of(solid_png(48, 40, (30, 60, 220)))
    model = SpaceModel("janus-pro-7b")
    with pytest.raises(UnsupportedInputError, match="earlier messages count too"):
        await model.generate(
            [
                Message.user("first", red),
                Message.assistant("It is red."),
                Message.user("and this one?", blue),
            ]
        )
    await model.aclose()
    assert fresh_replica.stats()["uploads"] == 0 and fresh_replica.stats()["joins_total"] == 0


async def test_image_in_earlier_turn_is_used(fresh_replica: Any, png_bytes: bytes) -> None:
    model = SpaceModel("janus-pro-7b")
    gen = await model.generate(
        [
            Message.user("look", Media.of(png_bytes)),
            Message.assistant("ok"),
            Message.user("colour?"),
        ]
    )
    await model.aclose()
    assert "32×24" in gen.text
