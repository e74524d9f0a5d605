"""Message shapes and input counts are validated by the installed gradio itself, as on a real
Space: the other gradio major's chat shape and a chat join with too few inputs both fail with
gradio's hidden error (``error: null``); the declared defaults are in ``/config``."""

from __future__ import annotations

from typing import Any

import aiohttp
from hfspaces.replica import PHI4_SPACE
from replica_wire import (
    CHAT_DEFAULTS,
    chat_inputs,
    completed,
    message_text,
    other_shape,
    run_job,
    text_message,
)

HIDDEN_ERROR = {"error": None}


async def test_other_gradio_majors_chat_shape_is_refused(
    rep: Any, http: aiohttp.ClientSession
) -> None:
    base = rep.url_for(PHI4_SPACE)
    good = text_message("hello")
    done = completed(await run_job(http, base, 11, chat_inputs([good])))
    assert done["success"] and message_text(done["output"]["data"][0][-1]).startswith("Turn 1.")
    bad = completed(await run_job(http, base, 11, chat_inputs([other_shape(good)])))
    assert not bad["success"] and bad["output"] == HIDDEN_ERROR
    assert rep.stats()["jobs_started"] == 1  # refused before the function ran


async def test_chat_with_too_few_inputs_fails_like_gradio(
    rep: Any, http: aiohttp.ClientSession
) -> None:
    base = rep.url_for(PHI4_SPACE)
    history = [text_message("hello")]
    for data in ([history], [history, 0.95]):  # the seeds' one value; two of six
        done = completed(await run_job(http, base, 11, data))
        assert not done["success"] and done["output"] == HIDDEN_ERROR
    assert rep.stats()["jobs_started"] == 0


async def test_chat_inputs_and_defaults_in_config(rep: Any, http: aiohttp.ClientSession) -> None:
    async with http.get(rep.url_for(PHI4_SPACE) + "/config") as resp:
        config = await resp.json()
    components = {c["id"]: c for c in config["components"]}
    chat = next(d for d in config["dependencies"] if d.get("api_name") == "chat")
    assert chat["id"] == 11 and len(chat["inputs"]) == 6
    assert components[chat["inputs"][0]]["type"] == "chatbot"
    sliders = [components[i]["props"] for i in chat["inputs"][1:]]
    assert [p["label"] for p in sliders] == [
        "Top-p", "Top-k", "Temperature", "Repetition Penalty", "Max New Tokens"]
    assert [p["value"] for p in sliders] == CHAT_DEFAULTS


async def test_max_new_tokens_caps_the_answer(rep: Any, http: aiohttp.ClientSession) -> None:
    rep.configure(answer_words=50, phi4_stream=False)
    data = [[text_message("long")], 0.95, 50, 0.8, 1.05, 7]
    done = completed(await run_job(http, rep.url_for(PHI4_SPACE), 11, data))
    assert len(message_text(done["output"]["data"][0][-1]).split()) == 7
