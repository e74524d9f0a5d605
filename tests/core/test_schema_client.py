"""`SpaceClient` on the schema layer, against plain gradio apps on loopback: inputs filled
from the declared defaults, `Path`/`Media` uploaded, schemas with `/info` names, and a seed
adapter meeting a Space whose API changed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import gradio as gr
import pytest
from hfspaces import InvalidInputError, Media, Message, SpaceChangedError, SpaceClient, SpaceModel
from hfspaces.schema import DEFAULT
from media_samples import make_wav
from space_apps import image_app_url, serve, stt_app_url  # noqa: F401 - fixtures


async def test_missing_inputs_take_the_declared_defaults(image_app_url: str) -> None:  # noqa: F811
    async with SpaceClient(image_app_url) as client:
        # prompt only: seed 0, randomize on (the app's "random" seed is 7), 512x512, photo
        assert (await (await client.submit("infer", ["cat"])).result())[1] == 7
        job = await client.submit("infer", ["cat", 11, False, DEFAULT, 256])
        assert job.data[1:] == [11, False, 512, 256, 4, "photo"]
        assert (await job.result())[1] == 11
        with pytest.raises(InvalidInputError, match=r"input 1 'prompt'.*no default"):
            await client.submit("infer", [])
        assert not client._jobs  # refused before joining


async def test_path_and_media_inputs_are_uploaded(stt_app_url: str, tmp_path: Path) -> None:  # noqa: F811
    wav = tmp_path / "speech.wav"
    wav.write_bytes(make_wav())
    async with SpaceClient(stt_app_url) as client:
        for audio in (wav, Media.from_path(wav)):
            text, _ = await (await client.submit("transcribe", [audio])).result()
            assert text == "hello world (transcribed 1.00 s of english speech)"
        # Same content: uploaded once.
        assert len(client._uploads) == 1


async def test_schema_has_the_function_parameter_names(stt_app_url: str) -> None:  # noqa: F811
    async with SpaceClient(stt_app_url) as client:
        schema = await client.schema()
        assert [e.label for e in schema.offered()] == ["/transcribe", "/slow_echo"]
        stt = await client.endpoint_schema("/transcribe")
        assert [p.name for p in stt.parameters] == ["audio", "task", "language"]


@pytest.fixture(scope="module")
def changed_janus_url() -> Iterator[str]:
    """A Janus whose `generate_image` seed became a Textbox and which gained a required
    input: the adapter must say so instead of sending the old payload."""
    with gr.Blocks() as demo:
        prompt, seed = gr.Textbox(label="Prompt"), gr.Textbox(label="Seed")
        cfg, temp = gr.Slider(1, 10, value=5, label="CFG"), gr.Slider(0, 1, value=1, label="T")
        size = gr.Image(label="Reference")
        gallery = gr.Gallery()
        gr.Button().click(lambda *a: [], [prompt, seed, cfg, temp, size], gallery,
                          api_name="generate_image")  # fmt: skip
    with serve(demo) as url:
        yield url


async def test_a_changed_space_fails_saying_what_changed(changed_janus_url: str) -> None:
    model = SpaceModel("janus-pro-7b-image", endpoint=changed_janus_url)
    with pytest.raises(SpaceChangedError) as info:
        await model.generate([Message.user("a cat")])
    await model.aclose()
    message = str(info.value)
    assert "/generate_image changed" in message
    assert (
        "inputs were (textbox, number, slider, slider), "
        "now (textbox, textbox, slider, slider, image)"
    ) in message
    assert "new inputs without defaults: reference" in message
