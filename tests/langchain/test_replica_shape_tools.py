"""The replica's four Space shapes as LangChain tools (`HFSpacesToolkit`, by Space id through
HFSPACES_ENDPOINTS): each tool's schema is the Space's own (types, enums, bounds, defaults,
required), files come back as blocks and saved files, and a spoken clip goes back in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hfspaces.replica.config import CHAT_SPACE, FLUX_SPACE, STT_SPACE, TTS_SPACE

from langchain_hfspaces.space_tools import HFSpacesToolkit


def call(tool: Any, **args: Any) -> Any:
    return tool.invoke({"name": tool.name, "args": args, "id": "c1", "type": "tool_call"})


def test_schemas_come_from_the_spaces(rep: Any, tmp_path: Path) -> None:
    toolkit = HFSpacesToolkit([FLUX_SPACE, TTS_SPACE, STT_SPACE, CHAT_SPACE])
    tools = {t.name: t for t in toolkit.get_tools()}
    assert set(tools) == {"infer", "generate", "transcribe", "respond"}
    infer = tools["infer"].tool_call_schema.model_json_schema()
    assert infer["required"] == ["prompt"]
    width = infer["properties"]["width"]
    assert (width["type"], width["minimum"], width["maximum"], width["default"]) == (
        "integer", 256, 2048, 1024,
    )  # fmt: skip
    assert infer["properties"]["randomize_seed"] == {
        "default": True, "description": "Randomize seed", "title": "Randomize Seed",
        "type": "boolean",
    }  # fmt: skip
    voice = tools["generate"].tool_call_schema.model_json_schema()["properties"]["voice"]
    assert voice["enum"] == ["af_heart", "af_bella", "am_michael", "bf_emma"]
    task = tools["transcribe"].tool_call_schema.model_json_schema()["properties"]["task"]
    assert (task["enum"], task["default"]) == (["transcribe", "translate"], "transcribe")
    temperature = tools["respond"].tool_call_schema.model_json_schema()["properties"]
    assert temperature["temperature"]["maximum"] == 2.0
    # Out of bounds: the agent reads what to fix; nothing reached the Space.
    message = call(tools["infer"], prompt="x", width=100)
    assert message.status == "error" and "width" in str(message.content)
    assert rep.stats()["joins_total"] == 0


def test_speak_then_listen_with_files_in_and_out(rep: Any, tmp_path: Path) -> None:
    tools = {
        t.name: t
        for t in HFSpacesToolkit(
            [TTS_SPACE, STT_SPACE, FLUX_SPACE], output_dir=tmp_path, input_dir=tmp_path
        ).get_tools()
    }
    spoken = call(tools["generate"], text="Tools from any Space", speed=1.5)
    text, audio = spoken.content
    assert "Output Tokens: tools from any space" in text["text"]
    # A `file` block with an audio type: langchain-core keeps no `audio` block in a tool message.
    assert audio["type"] == "file" and audio["mime_type"] == "audio/wav"
    (clip,) = [f["path"] for f in spoken.artifact["files"]]
    heard = call(tools["transcribe"], inputs=Path(clip).name, task="translate")
    assert "Transcript: [translated to English] tools from any space" in heard.content[0]["text"]
    drawn = call(tools["infer"], prompt="a fox", seed=5, randomize_seed=False, width=256,
                 height=320)  # fmt: skip
    assert "Seed: 5" in drawn.content[0]["text"] and drawn.content[1]["type"] == "image"
    assert sorted(p.suffix for p in tmp_path.iterdir()) == [".png", ".wav"]
