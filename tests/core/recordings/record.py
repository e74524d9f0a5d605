"""Record `/config` and `/gradio_api/info` of the test apps (`tests/space_apps.py`) with the
installed gradio, trimmed to what the schema layer reads, into `gradio<major>_<app>.json`.

    PYTHONPATH=tests python tests/core/recordings/record.py   # once per gradio major
"""

from __future__ import annotations

import json
import sys
import urllib.request
from pathlib import Path
from typing import Any

import gradio as gr

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent.parent))

from space_apps import build_image_app, build_stt_app, serve  # noqa: E402

CONFIG_KEYS = ("version", "api_prefix", "protocol", "title", "components", "dependencies")
DEP_KEYS = (
    "id", "api_name", "api_visibility", "show_api", "api_description", "description",
    "queue", "inputs", "outputs", "targets", "types", "backend_fn", "js",
)  # fmt: skip


def build_chat_app() -> gr.Blocks:
    """A streaming ChatInterface with additional inputs: its history is a `gr.State`."""

    def respond(message: str, history: list[Any], system_prompt: str, max_tokens: float) -> Any:
        yield f"echo {message}"

    extra = [
        gr.Textbox("You are helpful.", label="System prompt"),
        gr.Slider(1, 2048, value=512, step=1, label="Max new tokens"),
    ]
    chat: gr.Blocks = gr.ChatInterface(respond, additional_inputs=extra, title="Chat test app")
    return chat


def build_kinds_app() -> gr.Blocks:
    """One endpoint with every input kind the schema layer types, and one per output kind."""
    with gr.Blocks(title="Kinds test app") as demo:
        inputs = [
            gr.Number(label="Count", precision=0, minimum=1, maximum=9, value=3),
            gr.Number(label="Ratio", info="a float", value=0.5),
            gr.Dropdown([1, 2, 4], value=2, label="Batch"),
            gr.Dropdown(["a", "b", "c"], multiselect=True, value=["a"], label="Tags"),
            gr.Dropdown(["x", "y"], allow_custom_value=True, value="x", label="Free"),
            gr.CheckboxGroup(["red", "green"], label="Colours"),
            gr.File(file_count="multiple", label="Documents"),
            gr.Gallery(label="References"),
            gr.Model3D(label="Mesh"),
            gr.Video(label="Clip"),
            gr.Image(label="Photo"),
            gr.MultimodalTextbox(label="Message"),
        ]
        outputs = [
            gr.Video(label="Video out"),
            gr.Model3D(label="Mesh out"),
            gr.Gallery(label="Gallery out"),
            gr.File(label="File out"),
            gr.Audio(label="Audio out"),
            gr.Chatbot(label="Chat out"),
            gr.Label(label="Label out"),
            gr.HTML(label="HTML out"),
        ]
        gr.Button().click(lambda *a: [None] * 8, inputs, outputs, api_name="kinds")
    blocks: gr.Blocks = demo
    return blocks


def trim(config: dict[str, Any]) -> dict[str, Any]:
    out = {k: config[k] for k in CONFIG_KEYS if k in config}
    out["dependencies"] = [{k: d[k] for k in DEP_KEYS if k in d} for d in config["dependencies"]]
    return out


def fetch(url: str) -> Any:
    with urllib.request.urlopen(url) as reply:
        return json.load(reply)


def main() -> None:
    major = gr.__version__.split(".")[0]
    for name, build in (
        ("image", build_image_app),
        ("stt", build_stt_app),
        ("chat", build_chat_app),
        ("kinds", build_kinds_app),
    ):
        with serve(build()) as url:
            config = fetch(f"{url}/config")
            prefix = config.get("api_prefix") or ""
            info = fetch(f"{url}{prefix}/info")
        for endpoint in info.get("named_endpoints", {}).values():
            endpoint.pop("code_snippets", None)
        record = {"gradio": gr.__version__, "config": trim(config), "info": info}
        path = HERE / f"gradio{major}_{name}.json"
        path.write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
        print("wrote", path)


if __name__ == "__main__":
    main()
