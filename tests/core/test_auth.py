"""Identity against the replica: the HF token goes to a Space as `x-hf-authorization`
(only to `https://*.hf.space`, or where the caller opts in with `send_hf_token=True`),
never as `Authorization`; `hf_token=False` is anonymous whatever `HF_TOKEN` says; the
ZeroGPU JWT route is opt-in (`zerogpu_jwt=True`): cached, refreshed, sent as
`x-zerogpu-token`; a bad token is an AuthError before any join; an expired-token error →
one refresh and one retry; a failing Hub is named."""

from __future__ import annotations

import dataclasses
import time
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from hfspaces import Secret, SpaceClient, errors
from hfspaces.auth import ZeroGPUIdentity, ZeroGPUToken, jwt_expiry
from hfspaces.replica import JANUS_SPACE, PHI4_SPACE
from hfspaces.replica.phi4 import SAMPLING_DEFAULTS

TOKEN = "hf_core_tests_user"
#: Headers that carry who the caller is.
IDENTITY_HEADERS = ("authorization", "x-hf-authorization", "x-zerogpu-token", "x-ip-token")
#: The chat function's sampling inputs, in its order (the replica's Phi-4 demo).
SAMPLING = [
    SAMPLING_DEFAULTS[k]
    for k in ("top_p", "top_k", "temperature", "repetition_penalty", "max_new_tokens")
]


async def chat_once(client: SpaceClient, text: str = "hello") -> list[Any]:
    added = await client.predict("add_message", [[], {"text": text, "files": []}, None])
    job = await client.submit("chat", [added[0], *SAMPLING])
    return await job.result()


def sent(replica: Any) -> list[dict[str, str]]:
    """Headers of every request the client sent to the Spaces (before the proxy)."""
    return [r["received"] for r in replica.stats()["requests"]]


def to_app(replica: Any) -> list[dict[str, str]]:
    """Headers of every request as the Space's app got them (after the proxy)."""
    return [r["to_app"] for r in replica.stats()["requests"]]


def chat_calls(replica: Any) -> list[dict[str, Any]]:
    return [c for c in replica.stats()["calls"] if c["fn"] == "chat"]


def jwt_client(url: str, **kwargs: Any) -> SpaceClient:
    """The opt-in JWT route: the HF token to the Hub only, the JWT to the Space."""
    return SpaceClient(url, space_id=PHI4_SPACE, hf_token=TOKEN, zerogpu_jwt=True, **kwargs)


async def test_opted_in_endpoint_gets_x_hf_authorization_and_no_hub_call(
    fresh_replica: Any, phi4_url: str
) -> None:
    async with SpaceClient(
        phi4_url, space_id=PHI4_SPACE, hf_token=TOKEN, send_hf_token=True
    ) as client:
        assert client.caller == "token"
        await chat_once(client)
    stats = fresh_replica.stats()
    assert stats["hub_jwt_issued"] == 0 and stats["hub_jwt_rejected"] == 0
    # Every request carried the token as x-hf-authorization, never as Authorization ...
    assert all(h.get("x-hf-authorization") == f"Bearer {TOKEN}" for h in sent(fresh_replica))
    assert not any("authorization" in h or "x-zerogpu-token" in h for h in sent(fresh_replica))
    # ... and the proxy stand-in turned it into X-IP-Token: the app never saw the token.
    for headers in to_app(fresh_replica):
        assert TOKEN not in str(headers) and headers["x-ip-token"].count(".") == 2
        assert "x-hf-authorization" not in headers and "authorization" not in headers
    (call,) = chat_calls(fresh_replica)
    assert call["identity"].startswith("user:") and call["token_status"] == "valid"
    assert all(k.startswith("user:") for k in stats["quota_used"])


@pytest.mark.parametrize("hf_token", [TOKEN, None])
async def test_non_hf_endpoint_gets_no_token_unless_opted_in(
    fresh_replica: Any, phi4_url: str, monkeypatch: pytest.MonkeyPatch, hf_token: Any
) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    async with SpaceClient(phi4_url, space_id=PHI4_SPACE, hf_token=hf_token) as client:
        assert client.caller == "token_withheld" and client.hf_token is None
        await chat_once(client)
    stats = fresh_replica.stats()
    assert stats["hub_jwt_issued"] == 0 and stats["hub_jwt_rejected"] == 0
    for headers in sent(fresh_replica):
        assert not any(h in headers for h in IDENTITY_HEADERS) and TOKEN not in str(headers)
    (call,) = chat_calls(fresh_replica)
    assert call["identity"].startswith("anon:")  # the proxy's IP-based identity


async def test_hf_token_false_is_anonymous_whatever_the_environment(
    fresh_replica: Any, phi4_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    async with SpaceClient(
        phi4_url, space_id=PHI4_SPACE, hf_token=False, send_hf_token=True
    ) as client:
        assert client.caller == "anonymous" and client.identity.anonymous
        await chat_once(client)
    stats = fresh_replica.stats()
    assert stats["hub_jwt_issued"] == 0 and stats["hub_jwt_rejected"] == 0
    for headers in sent(fresh_replica):
        assert not any(h in headers for h in IDENTITY_HEADERS) and TOKEN not in str(headers)
    (call,) = chat_calls(fresh_replica)
    assert call["identity"].startswith("anon:")


@pytest.mark.parametrize("hf_token", [None, ""])
def test_none_and_empty_read_hf_token(monkeypatch: pytest.MonkeyPatch, hf_token: Any) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    client = SpaceClient(PHI4_SPACE, hf_token=hf_token)
    assert client.hf_token == Secret(TOKEN) and client.caller == "token"
    monkeypatch.delenv("HF_TOKEN")
    assert SpaceClient(PHI4_SPACE, hf_token=hf_token).caller == "anonymous"


def test_token_goes_only_to_https_hf_space_origins_as_x_hf_authorization() -> None:
    on_hf = SpaceClient(PHI4_SPACE, hf_token=TOKEN)._space_headers()
    assert on_hf == {"x-hf-authorization": f"Bearer {TOKEN}"}  # never Authorization
    for target in (
        "https://proxy.example/phi",
        "http://microsoft-phi-4-multimodal.hf.space",  # not https
        "https://evil.hf.space.example",
        "https://hf.space.evil.example",
        "http://127.0.0.1:7860",
    ):
        client = SpaceClient(target, space_id=PHI4_SPACE, hf_token=TOKEN)
        assert client._space_headers() == {}, target
        assert client.caller == "token_withheld"
    opted = SpaceClient("https://proxy.example/phi", hf_token=TOKEN, send_hf_token=True)
    assert opted._space_headers() == {"x-hf-authorization": f"Bearer {TOKEN}"}
    refused = SpaceClient(PHI4_SPACE, hf_token=TOKEN, send_hf_token=False)
    assert refused._space_headers() == {} and refused.caller == "token_withheld"


def test_zerogpu_jwt_needs_a_space_id_and_a_token() -> None:
    with pytest.raises(errors.InvalidInputError, match="zerogpu_jwt"):
        SpaceClient("http://127.0.0.1:1", hf_token=TOKEN, zerogpu_jwt=True)
    with pytest.raises(errors.InvalidInputError, match="zerogpu_jwt"):
        SpaceClient(PHI4_SPACE, hf_token=False, zerogpu_jwt=True)


async def test_a_dead_hub_does_not_matter_without_the_jwt_route(
    fresh_replica: Any, phi4_url: str
) -> None:
    async with SpaceClient(
        phi4_url,
        space_id=PHI4_SPACE,
        hf_token=TOKEN,
        send_hf_token=True,
        hub_url="http://127.0.0.1:9",
    ) as client:
        await chat_once(client)


async def test_a_dead_hub_is_named_on_the_jwt_route(fresh_replica: Any, phi4_url: str) -> None:
    async with jwt_client(phi4_url, hub_url="http://127.0.0.1:9", max_retries=0) as client:
        with pytest.raises(errors.ConnectError, match=r"the Hub \(http://127.0.0.1:9\)"):
            await client.submit("chat", [[]])
    assert fresh_replica.stats()["joins_total"] == 0


async def test_jwt_route_gets_jwt_once_and_sends_it(fresh_replica: Any, phi4_url: str) -> None:
    async with jwt_client(phi4_url) as client:
        for i in range(3):
            await chat_once(client, f"turn {i}")
    stats = fresh_replica.stats()
    assert stats["hub_jwt_issued"] == 1  # one Hub call for three joins (and the predicts)
    calls = chat_calls(fresh_replica)
    assert len(calls) == 3
    for call in calls:
        assert call["token_status"] == "valid" and call["identity"].startswith("user:")
    requests = sent(fresh_replica)
    joins = [h for h in requests if "x-zerogpu-token" in h]  # 3 joins, 3 add-turn predicts
    assert len(joins) == 6 and all(h["x-zerogpu-token"].count(".") == 2 for h in joins)
    assert not any("x-hf-authorization" in h or "authorization" in h for h in requests)
    assert all("x-zerogpu-token" not in h for h in to_app(fresh_replica))
    assert all(k.startswith("user:") for k in stats["quota_used"])


async def test_jwt_route_concurrent_joins_share_one_hub_call(
    fresh_replica: Any, janus_url: str
) -> None:
    import asyncio

    async with SpaceClient(
        janus_url, space_id=JANUS_SPACE, hf_token=TOKEN, zerogpu_jwt=True
    ) as client:
        jobs = await asyncio.gather(
            *(client.submit("generate_image", [f"p{i}", i, 5.0, 1.0]) for i in range(4))
        )
        await asyncio.gather(*(j.result() for j in jobs))
    assert fresh_replica.stats()["hub_jwt_issued"] == 1


async def test_hub_url_from_hf_endpoint(replica: Any) -> None:
    # The session fixture points HF_ENDPOINT at the stub, as huggingface_hub reads it.
    identity = ZeroGPUIdentity(PHI4_SPACE, Secret(TOKEN))
    assert identity.hub_url == replica.hub_url
    assert ZeroGPUIdentity(PHI4_SPACE, None, "https://hub.example/").hub_url == (
        "https://hub.example"
    )


async def test_bad_token_is_auth_error_before_any_join(fresh_replica: Any, phi4_url: str) -> None:
    async with SpaceClient(
        phi4_url, space_id=PHI4_SPACE, hf_token="hf_bad", zerogpu_jwt=True
    ) as client:
        with pytest.raises(errors.AuthError, match="refused the HF token") as info:
            await client.submit("chat", [[]])
    assert "hf_bad" not in str(info.value) and "hf_token=False" in str(info.value)
    stats = fresh_replica.stats()
    assert stats["hub_jwt_rejected"] == 1 and stats["joins_total"] == 0


async def test_refreshed_after_expiry(fresh_replica: Any, phi4_url: str) -> None:
    async with jwt_client(phi4_url) as client:
        await chat_once(client)
        cached = client.identity._token
        assert cached is not None and cached.fresh()
        # Age the cached token past its refresh point (as if minutes had passed).
        client.identity._token = dataclasses.replace(cached, expires_at=time.time() + 5)
        assert not client.identity._token.fresh()
        await chat_once(client)
        await chat_once(client)
    assert fresh_replica.stats()["hub_jwt_issued"] == 2
    assert all(c["token_status"] == "valid" for c in chat_calls(fresh_replica))


async def expired_jwt(replica: Any) -> str:
    """A JWT the Hub stub signed with an expiry in the past."""
    past = quote("2020-01-01T00:00:00+00:00")
    url = f"{replica.hub_url}/api/spaces/microsoft/phi-4-multimodal/jwt?expiration={past}"
    async with (
        aiohttp.ClientSession() as session,
        session.get(url, headers={"Authorization": f"Bearer {TOKEN}"}) as resp,
    ):
        body = await resp.json()
    token: str = body["token"]
    return token


async def test_expired_token_error_refreshes_once_and_retries(
    fresh_replica: Any, phi4_url: str
) -> None:
    stale = await expired_jwt(fresh_replica)
    async with jwt_client(phi4_url) as client:
        # The client believes its token is good (clock skew); the Space says it expired.
        client.identity._token = ZeroGPUToken(Secret(stale), time.time() + 3600)
        outputs = await chat_once(client)
    assert outputs[0][-1]["role"] == "assistant"
    statuses = [c["token_status"] for c in chat_calls(fresh_replica)]
    assert statuses == ["expired", "valid"]
    stats = fresh_replica.stats()
    assert stats["hub_jwt_issued"] == 2 and stats["joins_total"] == 2


async def test_jwt_expiry_and_token_freshness() -> None:
    from hfspaces.replica.zerogpu import sign_jwt

    jwt = sign_jwt({"sub": "u", "exp": 2_000_000_000}, "s")
    assert jwt_expiry(jwt) == 2_000_000_000
    assert jwt_expiry("not-a-jwt") is None
    token = ZeroGPUToken(Secret(jwt), 1000.0)
    assert token.fresh(now=900.0) and not token.fresh(now=990.0)  # refreshed 30 s early


def test_secret_never_prints() -> None:
    secret = Secret(TOKEN)
    client = SpaceClient("http://127.0.0.1:1", space_id=PHI4_SPACE, hf_token=secret)
    for text in (repr(secret), str(secret), f"{secret}", repr(client), repr(client.identity)):
        assert TOKEN not in text
    assert "token" in repr(client)
    with pytest.raises(TypeError):
        import pickle

        pickle.dumps(secret)
    with pytest.raises(TypeError):
        SpaceClient("http://127.0.0.1:1", space_id=PHI4_SPACE, hf_token=12345)


@pytest.mark.parametrize(
    ("kwargs", "advice"),
    [
        ({"hf_token": False}, "HF_TOKEN"),
        ({"hf_token": TOKEN}, "send_hf_token=True"),
        ({"hf_token": TOKEN, "send_hf_token": True}, "has no access"),
    ],
)
async def test_a_refused_config_gives_advice_the_caller_can_use(
    kwargs: dict[str, Any], advice: str
) -> None:
    """Hostile server (the replica serves no private Space): /config answers 401."""
    from aiohttp import web

    async def refuse(request: web.Request) -> web.StreamResponse:
        return web.json_response({"error": "private"}, status=401)

    app = web.Application()
    app.router.add_get("/config", refuse)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        async with SpaceClient(url, space_id=PHI4_SPACE, **kwargs) as client:
            with pytest.raises(errors.AuthError, match=advice) as info:
                await client.config()
        assert TOKEN not in str(info.value)
    finally:
        await runner.cleanup()
