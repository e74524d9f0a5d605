"""Secrets: the HF token never prints (repr/str, exceptions, tracebacks, log records at any
level, LangChain and LlamaIndex serialization) and is sent only to the Hub and the Space's
own host — never across a redirect to another host, never to output files elsewhere.

"Another host" is real: two loopback addresses (127.0.0.1 and 127.0.0.2) with a server on
each, so a leak would be a header that actually arrived.
"""

from __future__ import annotations

import logging
import pickle
import traceback
from typing import Any

import pytest
from aiohttp import web
from hfspaces import SpaceClient, errors
from hfspaces.auth import ZeroGPUIdentity
from hfspaces.replica import PHI4_SPACE
from hfspaces.secret import Secret
from hfspaces.space_model import SpaceModel
from rel_support import chat_text, fast_client, free_port, history

TOKEN = "hf_RELIABILITYsecret0123456789abcdefXYZ"
CREDENTIALS = ("authorization", "x-hf-authorization", "x-zerogpu-token", "x-zerogpu-uuid")
#: The opt-in JWT route, to a loopback endpoint standing for the Space.
JWT_ROUTE: dict[str, Any] = {"zerogpu_jwt": True}


def leaks(text: str, *secrets: str) -> bool:
    return any(s and s in text for s in (TOKEN, *secrets))


def no_credentials(headers: dict[str, str]) -> bool:
    lowered = {k.lower(): v for k, v in headers.items()}
    return not any(k in lowered for k in CREDENTIALS) and not leaks(repr(headers))


# -- printing -------------------------------------------------------------------------------


def test_secret_never_prints() -> None:
    secret = Secret(TOKEN)
    for text in (repr(secret), str(secret), f"{secret}", f"{secret!r}", repr([secret])):
        assert not leaks(text)
    assert secret.get_secret_value() == TOKEN
    with pytest.raises(TypeError):
        pickle.dumps(secret)


def test_objects_holding_the_token_never_print_it(phi4_url: str) -> None:
    objects: list[Any] = [
        SpaceClient(phi4_url, space_id=PHI4_SPACE, hf_token=TOKEN),
        SpaceClient("owner/name", hf_token=TOKEN),
        SpaceClient("owner/name", hf_token=Secret(TOKEN)),
        SpaceModel("phi-4-multimodal", endpoint=phi4_url, hf_token=TOKEN),
        ZeroGPUIdentity("owner/name", Secret(TOKEN)),
    ]
    for obj in objects:
        assert not leaks(repr(obj)), type(obj)
        assert not leaks(str(obj)), type(obj)
        assert not leaks(repr(vars(obj))), type(obj)  # one level down, as debuggers show it


async def test_exceptions_and_tracebacks_never_carry_the_token(rep: Any, phi4_url: str) -> None:
    rep.configure(bad_tokens=[TOKEN])
    try:
        client = fast_client(
            phi4_url, space_id=PHI4_SPACE, hf_token=TOKEN, hub_url=rep.hub_url, **JWT_ROUTE
        )
        with pytest.raises(errors.AuthError) as info:
            await client.submit("chat", history())
        await client.aclose()
    finally:
        rep.configure(bad_tokens=["hf_invalid", "hf_revoked", "hf_bad"])
    err = info.value
    for text in (str(err), repr(err), err.message, "".join(traceback.format_exception(err))):
        assert not leaks(text)


async def test_tracebacks_with_locals_never_carry_the_token(rep: Any, phi4_url: str) -> None:
    """Error trackers and `pytest -l` print every frame's locals, aiohttp's included: the
    header values holding the token or the JWT are masked there too."""
    dead_hub = f"http://127.0.0.1:{free_port()}"
    client = fast_client(
        phi4_url,
        space_id=PHI4_SPACE,
        hf_token=TOKEN,
        hub_url=dead_hub,
        max_retries=0,
        **JWT_ROUTE,
    )
    with pytest.raises(errors.ConnectError) as refused:
        await client.identity.headers(client.transport)  # fails inside aiohttp's frames
    await client.aclose()
    rep.configure(app_error=True)
    client = fast_client(
        phi4_url, space_id=PHI4_SPACE, hf_token=TOKEN, hub_url=rep.hub_url, **JWT_ROUTE
    )
    with pytest.raises(errors.AppError) as failed:
        await (await client.submit("chat", history())).result()  # a join carried the JWT
    jwt = (await client.identity.headers(client.transport))["x-zerogpu-token"]
    await client.aclose()
    for err in (refused.value, failed.value):
        report = traceback.TracebackException.from_exception(err, capture_locals=True)
        assert not leaks("".join(report.format()), jwt)


async def test_log_records_never_carry_the_token(
    rep: Any, phi4_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """Everything logged at DEBUG by every logger (hfspaces, aiohttp, tenacity, asyncio,
    the in-process replica) during calls with a token: a retried join, a streamed job,
    a refused token."""
    caplog.set_level(logging.DEBUG)
    for name in ("hfspaces", "aiohttp", "aiohttp.client", "tenacity", "asyncio"):
        caplog.set_level(logging.DEBUG, logger=name)
    rep.configure(join_status=502, join_fail_count=1, retry_after=0)
    client = fast_client(
        phi4_url, space_id=PHI4_SPACE, hf_token=TOKEN, hub_url=rep.hub_url, **JWT_ROUTE
    )
    job = await client.submit("chat", history(), text_of=chat_text)
    assert chat_text(await job.result())
    jwt = (await client.identity.headers(client.transport))["x-zerogpu-token"]
    rep.configure(bad_tokens=[TOKEN])
    try:
        client.identity.invalidate()
        with pytest.raises(errors.AuthError):
            await client.submit("chat", history())
    finally:
        rep.configure(bad_tokens=["hf_invalid", "hf_revoked", "hf_bad"])
    await client.aclose()
    assert any("retrying after HTTP 502" in r.getMessage() for r in caplog.records)
    formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
    for record in caplog.records:
        text = formatter.format(record) + repr(record.args) + repr(record.__dict__)
        assert not leaks(text, jwt), record.name


async def test_space_gets_the_zerogpu_token_never_the_hf_token(rep: Any, phi4_url: str) -> None:
    client = fast_client(
        phi4_url, space_id=PHI4_SPACE, hf_token=TOKEN, hub_url=rep.hub_url, **JWT_ROUTE
    )
    job = await client.submit("chat", history(), text_of=chat_text)
    await job.result()
    await client.aclose()
    stats = rep.stats()
    assert stats["calls"] and all(c["token_status"] == "valid" for c in stats["calls"])
    sent = [r["received"] for r in stats["requests"]]
    joins = [h for h in sent if h.get("x-zerogpu-token")]
    assert joins  # the Hub-issued JWT went to the Space (its proxy stand-in)
    for headers in sent:
        assert not leaks(repr(headers))  # the HF token did not
        assert "authorization" not in headers and "x-hf-authorization" not in headers
    for headers in (r["to_app"] for r in stats["requests"]):
        assert "x-zerogpu-token" not in headers and not leaks(repr(headers))


def test_token_only_for_the_spaces_own_https_host() -> None:
    """The HF token goes as `x-hf-authorization` (never `Authorization`) only to
    `https://*.hf.space`, unless the caller opts in for an endpoint."""
    on_hub = SpaceClient("owner/name", hf_token=TOKEN)._space_headers()
    assert on_hub == {"x-hf-authorization": f"Bearer {TOKEN}"}
    for target in (
        "http://127.0.0.1:9",
        "http://owner-name.hf.space",  # plain http: never
        "https://evil.example/owner-name.hf.space",
        "https://owner-name.hf.space.evil.example",
    ):
        headers = SpaceClient(target, space_id="owner/name", hf_token=TOKEN)._space_headers()
        assert no_credentials(headers), target


# -- where the token goes -----------------------------------------------------------------


async def test_hub_redirect_to_another_host_drops_the_token(fake_space: Any) -> None:
    elsewhere = await fake_space(host="127.0.0.2")

    async def refuse(request: web.Request) -> web.StreamResponse:
        return web.json_response({"error": "who are you"}, status=401)

    elsewhere.routes["/jwt"] = refuse
    hub = await fake_space()

    async def redirect(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(f"{elsewhere.url}/jwt")

    hub.routes["/api/spaces/owner/name/jwt"] = redirect
    client = fast_client(
        "http://127.0.0.1:9", space_id="owner/name", hf_token=TOKEN, hub_url=hub.url, **JWT_ROUTE
    )
    with pytest.raises(errors.AuthError):
        await client.identity.headers(client.transport)
    await client.aclose()
    (to_hub,) = hub.hits("/api/spaces/owner/name/jwt")
    assert to_hub.headers["Authorization"] == f"Bearer {TOKEN}"  # the Hub itself: yes
    (to_other,) = elsewhere.hits("/jwt")
    assert no_credentials(to_other.headers)  # another host: no


async def test_space_redirect_to_another_host_drops_credentials(rep: Any, fake_space: Any) -> None:
    """Join redirected (307) to another host: neither the JWT, the uuid nor a caller's own
    Authorization header follows; the same request to the Space itself carried them."""
    elsewhere = await fake_space(host="127.0.0.2")
    space = await fake_space()

    async def join(request: web.Request) -> web.StreamResponse:
        raise web.HTTPTemporaryRedirect(f"{elsewhere.url}/gradio_api/queue/join")

    space.join = join
    client = fast_client(
        space.url,
        space_id="owner/name",
        hf_token=TOKEN,
        hub_url=rep.hub_url,
        headers={"Authorization": f"Bearer {TOKEN}"},
        **JWT_ROUTE,
    )
    job = await client.submit("predict", ["x"])
    # The other host answered the join; events come from the Space's own stream.
    await job.result()
    await client.aclose()
    (at_space,) = space.hits("/gradio_api/queue/join")
    assert at_space.headers.get("x-zerogpu-token")
    assert at_space.headers.get("Authorization") == f"Bearer {TOKEN}"
    (at_other,) = elsewhere.hits("/gradio_api/queue/join")
    assert no_credentials(at_other.headers)
    assert at_other.body == at_space.body  # 307 keeps the body; only credentials dropped


async def test_config_redirect_to_another_host_drops_credentials(fake_space: Any) -> None:
    elsewhere = await fake_space(host="127.0.0.2")
    space = await fake_space()

    async def moved(request: web.Request) -> web.StreamResponse:
        raise web.HTTPMovedPermanently(f"{elsewhere.url}/config")

    space.routes["/config"] = moved
    client = fast_client(space.url, headers={"Authorization": f"Bearer {TOKEN}"})
    config = await client.config()
    assert config.find("predict") is not None
    await client.aclose()
    assert space.hits("/config")[0].headers.get("Authorization") == f"Bearer {TOKEN}"
    assert no_credentials(elsewhere.hits("/config")[0].headers)


async def test_output_file_on_another_host_gets_no_credentials(rep: Any, fake_space: Any) -> None:
    elsewhere = await fake_space(host="127.0.0.2")
    space = await fake_space()

    async def image(request: web.Request) -> web.StreamResponse:
        return web.Response(body=b"\x89PNG\r\n\x1a\n" + b"\0" * 32, content_type="image/png")

    elsewhere.routes["/files/out.png"] = image
    space.routes["/gradio_api/file=local.png"] = image
    client = fast_client(
        space.url,
        space_id="owner/name",
        hf_token=TOKEN,
        hub_url=rep.hub_url,
        headers={"Authorization": f"Bearer {TOKEN}"},
        file_origins=[elsewhere.url],  # files from another origin only when allowed
    )
    await client.config()
    # An output FileData pointing at another (allowed) host, by `path` or by `url`.
    assert await client.download({"path": f"{elsewhere.url}/files/out.png"})
    assert await client.download({"path": None, "url": f"{elsewhere.url}/files/out.png"})
    assert await client.download({"path": "local.png"})
    await client.aclose()
    for seen in elsewhere.hits("/files/out.png"):
        assert no_credentials(seen.headers)
    assert len(elsewhere.hits("/files/out.png")) == 2
    # Positive control: the Space's own host got the caller's header.
    assert space.hits("/gradio_api/file=local.png")[0].headers["Authorization"].endswith(TOKEN)


# -- framework wrappers -------------------------------------------------------------------


def test_langchain_serialization_keeps_the_token_secret(phi4_url: str) -> None:
    pytest.importorskip("langchain_core")
    lc = pytest.importorskip("langchain_hfspaces")
    if not hasattr(lc, "ChatHFSpaces"):
        pytest.skip("ChatHFSpaces not written yet")
    from langchain_core.load import dumpd, dumps

    llm = lc.ChatHFSpaces(model="phi-4-multimodal", endpoint=phi4_url, hf_token=TOKEN)
    assert "HF_TOKEN" in llm.lc_secrets.values()  # the token field is declared secret
    text = dumps(llm)
    assert not leaks(text)
    if llm.is_lc_serializable():
        assert '"HF_TOKEN"' in text  # serialized as a reference to the env variable
    assert not leaks(repr(dumpd(llm)))
    for printed in (repr(llm), str(llm), repr(llm.model_dump())):
        assert not leaks(printed)
    if hasattr(lc, "HFSpacesImageTool"):
        tool = lc.HFSpacesImageTool(endpoint=phi4_url, hf_token=TOKEN)
        assert not leaks(repr(tool))
        assert not leaks(repr(tool.model_dump()))


def test_llamaindex_to_dict_keeps_the_token_secret(phi4_url: str) -> None:
    pytest.importorskip("llama_index.core")
    li = pytest.importorskip("llama_index_hfspaces")
    if not hasattr(li, "HFSpacesLLM"):
        pytest.skip("HFSpacesLLM not written yet")
    llm = li.HFSpacesLLM(model="phi-4-multimodal", endpoint=phi4_url, hf_token=TOKEN)
    for printed in (
        repr(llm.to_dict()),
        llm.to_json(),
        repr(llm),
        str(llm),
        llm.model_dump_json(),
    ):
        assert not leaks(printed)


async def test_netrc_entry_for_the_hub_does_not_break_the_token_request(
    fake_space: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ~/.netrc entry for the Hub's host (git users often have one) must not turn the
    JWT request into aiohttp's "Cannot combine AUTHORIZATION header" ValueError, and the
    Hub gets the HF token, not the netrc password."""
    netrc = tmp_path / "netrc"
    netrc.write_text("machine 127.0.0.1 login bob password netrc-password\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("NETRC", str(netrc))

    async def jwt(request: web.Request) -> web.StreamResponse:
        return web.json_response({"token": "header.payload.sig", "exp": 4102444800})

    space = await fake_space(routes={"/api/spaces/owner/app/jwt": jwt})
    client = fast_client(
        space.url, space_id="owner/app", hf_token=TOKEN, hub_url=space.url, **JWT_ROUTE
    )
    try:
        assert await client.run("predict", ["x"]) == ["ok"]
    finally:
        await client.aclose()
    (hub,) = space.hits("/api/spaces/owner/app/jwt")
    assert hub.headers["Authorization"] == f"Bearer {TOKEN}"
    (join,) = space.hits("/gradio_api/queue/join")
    assert join.headers["x-zerogpu-token"] == "header.payload.sig"
