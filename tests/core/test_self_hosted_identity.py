"""A self-hosted Gradio server (a real gradio app on loopback, no Hub proxy in front) sees
exactly the headers the client sends: with `HF_TOKEN` set and a token passed, no identity
header at all and no Hub call, unless the caller opts in for that endpoint."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import gradio as gr
import pytest
from _support import closed_port
from hfspaces import SpaceClient

TOKEN = "hf_self_hosted_user"
IDENTITY = ("authorization", "x-hf-authorization", "x-zerogpu-token", "x-zerogpu-uuid")


@pytest.fixture(scope="module")
def echo_headers_url() -> Iterator[str]:
    def headers(text: str, request: gr.Request) -> str:
        return json.dumps({k.lower(): v for k, v in request.headers.items()})

    with gr.Blocks(analytics_enabled=False) as demo:
        box, out = gr.Textbox(), gr.Textbox()
        gr.Button().click(headers, box, out, api_name="headers")
    port = closed_port()
    demo.queue().launch(
        prevent_thread_lock=True, server_name="127.0.0.1", server_port=port, quiet=True
    )
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        demo.close()


async def seen(client: SpaceClient) -> dict[str, str]:
    (text,) = await client.run("headers", ["x"])
    result: dict[str, str] = json.loads(text)
    return result


@pytest.mark.parametrize("hf_token", [TOKEN, None, False])
async def test_self_hosted_server_sees_no_identity(
    echo_headers_url: str, replica: Any, monkeypatch: pytest.MonkeyPatch, hf_token: Any
) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    issued = replica.stats()["hub_jwt_issued"]
    async with SpaceClient(
        echo_headers_url, space_id="owner/app", hf_token=hf_token, hub_url=replica.hub_url
    ) as client:
        headers = await seen(client)
    assert not any(h in headers for h in IDENTITY) and TOKEN not in str(headers)
    assert replica.stats()["hub_jwt_issued"] == issued  # no Hub call


async def test_opt_in_sends_x_hf_authorization_only(echo_headers_url: str) -> None:
    async with SpaceClient(echo_headers_url, hf_token=TOKEN, send_hf_token=True) as client:
        headers = await seen(client)
    assert headers["x-hf-authorization"] == f"Bearer {TOKEN}"
    assert "authorization" not in headers and "x-zerogpu-token" not in headers
