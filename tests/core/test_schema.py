"""The schema layer on recorded `/config` + `/info` of real gradio 5.50 and 6.31 apps (pure).

Recordings: `tests/core/recordings/gradio{5,6}_{image,stt,chat}.json`, made by `record.py`
there from the apps in `tests/space_apps.py` and a ChatInterface.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hfspaces import InvalidInputError, Media, SpaceChangedError
from hfspaces.config import parse_config
from hfspaces.schema import DEFAULT, SpaceSchema, build_schema, identifier

RECORDINGS = Path(__file__).parent / "recordings"
VERSIONS = (5, 6)


def recording(version: int, app: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((RECORDINGS / f"gradio{version}_{app}.json").read_text())
    return data


def schema(version: int, app: str, *, with_info: bool = True) -> SpaceSchema:
    rec = recording(version, app)
    return build_schema(parse_config(rec["config"], "test/app"), rec["info"] if with_info else None)


@pytest.mark.parametrize("version", VERSIONS)
def test_flux_style_endpoint_is_fully_typed(version: int) -> None:
    space = schema(version, "image")
    assert space.title == "FLUX.1 test app"
    assert [e.label for e in space.offered()] == ["/infer"]  # hidden + unqueued left out
    infer = space.endpoint("/infer")
    props = infer.json_schema()["properties"]
    assert list(props) == [
        "prompt", "seed", "randomize_seed", "width", "height", "num_inference_steps", "style",
    ]  # fmt: skip
    assert infer.json_schema()["required"] == ["prompt"]
    assert props["prompt"] == {
        "type": "string",
        "description": "Prompt. What the picture should show",
    }
    assert props["seed"] == {
        "type": "integer", "minimum": 0, "maximum": 2**31 - 1, "description": "Seed", "default": 0,
    }  # fmt: skip
    assert props["width"]["multipleOf"] == 32 and props["width"]["default"] == 512
    assert props["randomize_seed"] == {
        "type": "boolean", "description": "Randomize seed", "default": True,
    }  # fmt: skip
    assert props["style"]["enum"] == ["photo", "anime", "sketch"]
    assert [(o.name, o.kind) for o in infer.outputs] == [
        ("result", "image"),
        ("seed_used", "number"),
    ]


@pytest.mark.parametrize("version", VERSIONS)
def test_speech_to_text_endpoint(version: int) -> None:
    space = schema(version, "stt")
    assert [e.label for e in space.offered()] == ["/transcribe", "/slow_echo"]
    stt = space.endpoint("transcribe")
    audio, task, language = stt.parameters
    assert (audio.name, audio.file_kind, audio.required) == ("audio", "audio", True)
    assert audio.json_schema() == {
        "type": "string", "format": "audio file", "description": "Audio file",
    }  # fmt: skip
    assert task.enum == ("transcribe", "translate") and task.default == "transcribe"
    assert language.enum == ("english", "french", "german")
    assert [(o.name, o.kind) for o in stt.outputs] == [("transcript", "text"), ("details", "json")]


@pytest.mark.parametrize("version", VERSIONS)
def test_chat_interface_state_slot_is_not_a_parameter(version: int) -> None:
    space = schema(version, "chat")
    (chat,) = space.offered()
    assert chat.api_name == ("chat" if version == 5 else "respond")  # gradio #12086
    assert chat.input_types == ("textbox", "state", "textbox", "slider")
    assert [p.name for p in chat.parameters] == ["message", "system_prompt", "max_tokens"]
    assert [o.hidden for o in chat.outputs] == [False, True]
    # The state slot goes as None; the others take their defaults.
    assert chat.bind({"message": "hi"}) == ["hi", None, "You are helpful.", 512]
    assert chat.fill(["hi"]) == ["hi", None, "You are helpful.", 512]


@pytest.mark.parametrize("version", VERSIONS)
def test_names_without_info_come_from_labels(version: int) -> None:
    stt = schema(version, "stt", with_info=False).endpoint("transcribe")
    assert [p.name for p in stt.parameters] == ["audio_file", "task", "language"]
    chat = schema(version, "chat", with_info=False).offered()[0]
    assert [p.name for p in chat.parameters] == ["textbox_0", "system_prompt", "max_new_tokens"]


@pytest.mark.parametrize("version", VERSIONS)
def test_bind_validates_before_any_request(version: int) -> None:
    infer = schema(version, "image").endpoint("infer")
    data = infer.bind({"prompt": "a fox", "width": 768.0, "style": "anime"})
    assert data == ["a fox", 0, True, 768, 512, 4, "anime"]
    cases = {
        "needs prompt": {},
        "must be one of 'photo', 'anime', 'sketch'": {"prompt": "x", "style": "oil"},
        "between 256 and 1024": {"prompt": "x", "width": 4096},
        "whole number": {"prompt": "x", "num_inference_steps": 2.5},
        "true or false": {"prompt": "x", "randomize_seed": "yes"},
        "must be a string": {"prompt": 3},
        "does not take colour": {"prompt": "x", "colour": "red"},
    }
    for message, arguments in cases.items():
        with pytest.raises(InvalidInputError, match=message):
            infer.bind(arguments)


@pytest.mark.parametrize("version", VERSIONS)
def test_file_arguments(version: int, wav_bytes: bytes, tmp_path: Path) -> None:
    stt = schema(version, "stt").endpoint("transcribe")
    path = tmp_path / "a.wav"
    path.write_bytes(wav_bytes)
    assert stt.bind({"audio": path})[0] == path
    url = stt.bind({"audio": "https://example.org/a.wav"})[0]
    assert isinstance(url, Media) and url.url == "https://example.org/a.wav"
    with pytest.raises(InvalidInputError, match="audio is not a usable file"):
        stt.bind({"audio": "/etc/passwd"})  # a bare string is never read as a local path
    with pytest.raises(InvalidInputError, match="needs audio"):
        stt.bind({"task": "translate"})


@pytest.mark.parametrize("version", VERSIONS)
def test_fill_positional_payload(version: int) -> None:
    infer = schema(version, "image").endpoint("infer")
    assert infer.fill(["cat", 5]) == ["cat", 5, True, 512, 512, 4, "photo"]
    assert infer.fill(["cat", DEFAULT, False]) == ["cat", 0, False, 512, 512, 4, "photo"]
    with pytest.raises(InvalidInputError, match="input 1 'prompt'"):
        infer.fill([])
    with pytest.raises(InvalidInputError, match="takes 7 inputs, got 8"):
        infer.fill([1] * 8)


@pytest.mark.parametrize("version", VERSIONS)
def test_require_says_what_changed(version: int) -> None:
    infer = schema(version, "image").endpoint("infer")
    infer.require(("textbox", "slider"), ("image",))  # a prefix with defaults after it: fine
    with pytest.raises(
        SpaceChangedError, match=r"inputs were \(textbox, number\), now \(textbox, slider"
    ):
        infer.require(("textbox", "number"), ("image",))
    with pytest.raises(SpaceChangedError, match=r"outputs were \(gallery\), now \(image, number\)"):
        infer.require(("textbox",), ("gallery",))
    with pytest.raises(SpaceChangedError, match="new inputs without defaults: prompt"):
        infer.require((), ("image",))


def test_visibility_in_gradio5_and_6() -> None:
    g5 = parse_config(recording(5, "image")["config"], None)
    g6 = parse_config(recording(6, "image")["config"], None)
    for config in (g5, g6):
        assert {e.api_name: e.visibility for e in config.endpoints} == {
            "infer": "public",
            "internal_reset": "undocumented" if config is g5 else "private",
            "toggle_panel": "public",
        }
    old = parse_config({"dependencies": [{"api_name": False, "inputs": [], "outputs": []}]}, None)
    assert old.endpoints[0].visibility == "private"  # gradio 4 / 5.0 `api_name=False`


def test_identifiers() -> None:
    assert identifier("Number of inference steps") == "number_of_inference_steps"
    assert identifier("2nd image") == "p_2nd_image"
    assert identifier("class") == "class_"
    assert identifier("Größe / size") == "gr_e_size"
    assert identifier("  ") == "value"


@pytest.mark.parametrize("version", VERSIONS)
def test_every_input_and_output_kind(version: int) -> None:
    kinds = schema(version, "kinds").endpoint("kinds")
    by_name = {p.name: p for p in kinds.parameters}
    # `lambda *a`: /info names them param_0.. so the labels name them instead
    assert list(by_name) == [
        "count", "ratio", "batch", "tags", "free", "colours", "documents", "references",
        "mesh", "clip", "photo", "message",
    ]  # fmt: skip
    count = by_name["count"]
    assert (count.json_type, count.minimum, count.maximum, count.default) == ("integer", 1, 9, 3)
    assert (
        by_name["ratio"].json_type == "number" and by_name["ratio"].description == "Ratio. a float"
    )
    assert by_name["batch"].json_schema()["enum"] == [1, 2, 4]
    assert by_name["batch"].json_type == "integer"
    assert by_name["tags"].json_schema()["type"] == "array"
    assert by_name["tags"].json_schema()["items"]["enum"] == ["a", "b", "c"]
    assert by_name["free"].enum is None  # allow_custom_value: any string
    assert by_name["colours"].multiple and by_name["colours"].enum == ("red", "green")
    files = {n: (by_name[n].file_kind, by_name[n].multiple) for n in
             ("documents", "references", "mesh", "clip", "photo")}  # fmt: skip
    assert files == {
        "documents": ("file", True), "references": ("image", True), "mesh": ("model3d", False),
        "clip": ("video", False), "photo": ("image", False),
    }  # fmt: skip
    assert by_name["message"].required
    assert kinds.bind({"message": "hi", "mesh": {"path": "m.glb"}, "clip": {"path": "c.mp4"},
                       "photo": {"path": "p.png"}, "documents": [{"path": "d.txt"}]})[11] == {
        "text": "hi", "files": [],
    }  # fmt: skip
    with pytest.raises(InvalidInputError, match="between 1 and 9"):
        kinds.parameter("count").check(10, "/kinds")
    with pytest.raises(InvalidInputError, match="must be one of 1, 2, 4"):
        kinds.parameter("batch").check(3, "/kinds")
    assert [(o.name, o.kind) for o in kinds.outputs] == [
        ("video_out", "video"), ("mesh_out", "model3d"), ("gallery_out", "gallery"),
        ("file_out", "file"), ("audio_out", "audio"), ("chat_out", "chat"),
        ("label_out", "json"), ("html_out", "text"),
    ]  # fmt: skip
