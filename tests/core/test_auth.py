"""ZeroGPU identity against the replica's Hub stub and ZeroGPU emulation: HF token → JWT,
cached, refreshed, sent as `x-zerogpu-token`; anonymous sends none; bad token → AuthError
before any join; an expired-token error → one refresh and one retry."""

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

TOKEN = "hf_core_tests_user"


async def chat_once(client: SpaceClient, text: str = "hello") -> list[Any]:
    added = await client.predict("add_message", [[], {"text": text, "files": []}, None])
    job = await client.submit("chat", [added[0]])
    return await job.result()


def chat_calls(replica: Any) -> list[dict[str, Any]]:
    return [c for c in replica.stats()["calls"] if c["fn"] == "chat"]


async def test_token_gets_jwt_once_and_sends_it(fresh_replica: Any, phi4_url: str) -> None:
    async with SpaceClient(phi4_url, space_id=PHI4_SPACE, hf_token=TOKEN) as client:
        for i in range(3):
            await chat_once(client, f"turn {i}")
    stats = fresh_replica.stats()
    assert stats["hub_jwt_issued"] == 1  # one Hub call for three joins (and the predicts)
    calls = chat_calls(fresh_replica)
    assert len(calls) == 3
    for call in calls:
        assert call["token_status"] == "valid" and call["identity"].startswith("user:")
        headers = call["headers"]
        assert headers["x-zerogpu-token"].count(".") == 2  # a JWT
        assert headers["x-zerogpu-uuid"]
        # The HF token itself goes only to the Hub, never to the Space.
        assert TOKEN not in str(headers)
        assert "authorization" not in headers and "x-hf-authorization" not in headers
    assert len({c["headers"]["x-zerogpu-uuid"] for c in calls}) == 1
    # Charged to the user, not to the anonymous pool.
    assert all(k.startswith("user:") for k in stats["quota_used"])


async def test_concurrent_joins_share_one_hub_call(fresh_replica: Any, janus_url: str) -> None:
    import asyncio

    async with SpaceClient(janus_url, space_id=JANUS_SPACE, hf_token=TOKEN) as client:
        jobs = await asyncio.gather(
            *(client.submit("generate_image", [f"p{i}", i, 5.0, 1.0]) for i in range(4))
        )
        await asyncio.gather(*(j.result() for j in jobs))
    assert fresh_replica.stats()["hub_jwt_issued"] == 1


async def test_anonymous_sends_no_token(fresh_replica: Any, phi4_url: str) -> None:
    async with SpaceClient(phi4_url, space_id=PHI4_SPACE) as client:
        assert client.identity.anonymous
        await chat_once(client)
    stats = fresh_replica.stats()
    assert stats["hub_jwt_issued"] == 0 and stats["hub_jwt_rejected"] == 0
    (call,) = chat_calls(fresh_replica)
    assert "x-zerogpu-token" not in call["headers"]
    assert call["identity"].startswith("anon:") and call["token_status"] == "absent"


async def test_url_target_without_space_id_is_anonymous(fresh_replica: Any, phi4_url: str) -> None:
    # Without a Space id there is no Hub identity to ask for: the token is not used at all.
    async with SpaceClient(phi4_url, hf_token=TOKEN) as client:
        assert client.identity.anonymous
        await chat_once(client)
    assert fresh_replica.stats()["hub_jwt_issued"] == 0


async def test_hf_token_from_environment(
    fresh_replica: Any, phi4_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HF_TOKEN", TOKEN)
    async with SpaceClient(phi4_url, space_id=PHI4_SPACE) as client:
        assert not client.identity.anonymous
        await chat_once(client)
    assert fresh_replica.stats()["hub_jwt_issued"] == 1


async def test_hub_url_from_hf_endpoint(replica: Any) -> None:
    # The session fixture points HF_ENDPOINT at the stub, as huggingface_hub reads it.
    identity = ZeroGPUIdentity(PHI4_SPACE, Secret(TOKEN))
    assert identity.hub_url == replica.hub_url
    assert ZeroGPUIdentity(PHI4_SPACE, None, "https://hub.example/").hub_url == (
        "https://hub.example"
    )


async def test_bad_token_is_auth_error_before_any_join(fresh_replica: Any, phi4_url: str) -> None:
    async with SpaceClient(phi4_url, space_id=PHI4_SPACE, hf_token="hf_bad") as client:
        with pytest.raises(errors.AuthError, match="refused the HF token") as info:
            await client.submit("chat", [[]])
    assert "hf_bad" not in str(info.value)
    stats = fresh_replica.stats()
    assert stats["hub_jwt_rejected"] == 1 and stats["joins_total"] == 0


async def test_refreshed_after_expiry(fresh_replica: Any, phi4_url: str) -> None:
    async with SpaceClient(phi4_url, space_id=PHI4_SPACE, hf_token=TOKEN) as client:
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
    async with SpaceClient(phi4_url, space_id=PHI4_SPACE, hf_token=TOKEN) as client:
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


def test_token_sent_raw_only_to_real_space_hosts() -> None:
    on_hf = SpaceClient(PHI4_SPACE, hf_token=TOKEN)
    assert on_hf._space_headers()["Authorization"] == f"Bearer {TOKEN}"
    proxy = SpaceClient("https://proxy.example/phi", space_id=PHI4_SPACE, hf_token=TOKEN)
    assert "Authorization" not in proxy._space_headers()
    plain = SpaceClient("http://evil.hf.space.example", space_id=PHI4_SPACE, hf_token=TOKEN)
    assert "Authorization" not in plain._space_headers()
