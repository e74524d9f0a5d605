"""Registry, aliases and declared capabilities; the stop-sequence scanner; the neutral
conversation type. Pure."""

from __future__ import annotations

import pytest
from hfspaces import MODELS, Message, errors, get_model
from hfspaces.conversation import AudioPart, ImagePart, TextPart, last_user_text
from hfspaces.generation import Generation, GenerationParams
from hfspaces.media import Media
from hfspaces.stops import StopScanner
from hypothesis import given, settings
from hypothesis import strategies as st


def test_three_models_with_capabilities() -> None:
    assert set(MODELS) == {"janus-pro-7b", "janus-pro-7b-image", "phi-4-multimodal"}
    janus = get_model("janus-pro-7b")
    assert janus.space == "deepseek-ai/Janus-Pro-7B"
    assert janus.inputs == {"text", "image"} and janus.outputs == {"text"}
    assert janus.requires_image and not janus.streams_tokens and not janus.multi_turn
    assert janus.defaults == {"seed": 42, "top_p": 0.95, "temperature": 0.1}
    image = get_model("janus-pro-7b-image")
    assert image.inputs == {"text"} and image.outputs == {"image"}
    assert image.defaults["num_images"] == 5 and image.defaults["guidance"] == 5.0
    phi = get_model("phi-4-multimodal")
    assert phi.space == "microsoft/phi-4-multimodal"
    assert phi.inputs == {"text", "image", "audio"}
    assert phi.streams_tokens and phi.multi_turn and not phi.requires_image


@pytest.mark.parametrize(
    ("alias", "model"),
    [
        ("janus", "janus-pro-7b"),
        ("Janus-Pro", "janus-pro-7b"),
        ("deepseek-ai/Janus-Pro-7B", "janus-pro-7b"),
        ("  JANUS-PRO-7B ", "janus-pro-7b"),
        ("janus-image", "janus-pro-7b-image"),
        ("phi4", "phi-4-multimodal"),
        ("microsoft/phi-4-multimodal", "phi-4-multimodal"),
        ("Phi-4", "phi-4-multimodal"),
    ],
)
def test_aliases(alias: str, model: str) -> None:
    assert get_model(alias).id == model


def test_aliases_unique() -> None:
    names = [a for m in MODELS.values() for a in (m.id, *m.aliases)]
    assert len(names) == len({n.lower() for n in names})


def test_unknown_model_lists_known() -> None:
    with pytest.raises(errors.UnknownModelError) as info:
        get_model("gpt-5")
    assert isinstance(info.value, ValueError)
    assert "janus-pro-7b" in str(info.value) and "phi-4-multimodal" in str(info.value)


def test_spec_passthrough() -> None:
    spec = get_model("phi4")
    assert get_model(spec) is spec


# -- stop sequences --------------------------------------------------------------


def run_scanner(stops: list[str], deltas: list[str]) -> tuple[str, StopScanner]:
    scanner = StopScanner(stops)
    out = ""
    for d in deltas:
        out += scanner.feed(d)
        if scanner.stopped:
            break
    out += scanner.flush()
    return out, scanner


def test_no_stops_passes_through() -> None:
    out, s = run_scanner([], ["a", "b"])
    assert out == "ab" and not s.stopped


def test_stop_inside_one_delta() -> None:
    out, s = run_scanner(["END"], ["hello END world"])
    assert out == "hello " and s.stopped and s.text == "hello "


def test_stop_split_across_deltas_is_held_back() -> None:
    scanner = StopScanner(["</s>"])
    assert scanner.feed("answer <") == "answer "  # only "<" might start the stop
    assert scanner.feed("/") == ""
    assert scanner.feed("s> tail") == ""
    assert scanner.stopped and scanner.text == "answer "


def test_false_alarm_released() -> None:
    out, s = run_scanner(["STOP"], ["a ST", "ART b"])
    assert out == "a START b" and not s.stopped


def test_earliest_of_several_stops() -> None:
    out, _ = run_scanner(["bb", "a"], ["xxbba"])
    assert out == "xx"
    # Overlapping stops: the one that completes first wins, however the text is split.
    assert run_scanner(["<", "><<"], ["><<"])[0] == ">"
    assert run_scanner(["<", "><<"], ["><", "<"])[0] == ">"


def test_empty_stop_strings_ignored() -> None:
    out, s = run_scanner(["", ""], ["abc"])
    assert out == "abc" and not s.stopped


def test_feed_after_stop_returns_nothing() -> None:
    scanner = StopScanner(["x"])
    scanner.feed("ax")
    assert scanner.feed("more") == "" and scanner.flush() == ""


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(alphabet="abc<>/ ", max_size=40),
    stops=st.lists(st.text(alphabet="abc<>/", min_size=1, max_size=4), max_size=3),
    cuts=st.lists(st.integers(0, 40), max_size=10),
)
def test_scanner_equals_cutting_the_whole_text(
    text: str, stops: list[str], cuts: list[int]
) -> None:
    points = sorted({c for c in cuts if c <= len(text)})
    deltas = [text[a:b] for a, b in zip([0, *points], [*points, len(text)], strict=True)]
    # Token-by-token semantics: the stop that completes first cuts the text.
    hits = [(i + len(s), i) for s, i in ((s, text.find(s)) for s in stops) if i >= 0]
    expected = text[: min(hits)[1]] if hits else text
    out, scanner = run_scanner(stops, deltas)
    assert out == expected
    assert scanner.stopped == bool(hits)


# -- conversation -------------------------------------------------------------------


def test_message_user_sorts_media_by_kind(png_bytes: bytes, wav_bytes: bytes) -> None:
    image, audio = Media.of(png_bytes), Media.of(wav_bytes)
    msg = Message.user("hi", image, audio)
    assert msg.role == "user" and msg.text == "hi"
    assert [type(p) for p in msg.parts] == [TextPart, ImagePart, AudioPart]
    assert msg.images == [image] and msg.audio == [audio]
    assert Message.user("", image).parts == (ImagePart(image),)


def test_last_user_text() -> None:
    convo = [Message.system("s"), Message.user("q1"), Message.assistant("a"), Message.user("q2")]
    assert last_user_text(convo) == "q2"
    assert last_user_text([Message.system("s")]) == ""


def test_generation_metadata_is_flat_and_rounded() -> None:
    gen = Generation(model="m", space="o/n", text="t", duration=1.23456, seed=3)
    meta = gen.metadata()
    assert meta == {
        "model": "m",
        "space": "o/n",
        "finish_reason": "stop",
        "seed": 3,
        "duration": 1.235,
    }
    assert GenerationParams(temperature=0.5, stop=("x",)).set_fields() == {"temperature"}
