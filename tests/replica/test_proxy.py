"""The Hub-proxy stand-in, over raw HTTP: which headers reach the Space's app code and which
identity the ZeroGPU emulation sees."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
from hfspaces.replica import PHI4_SPACE
from replica_wire import chat_inputs, completed, run_job, text_message

SECRET = "hf_PROXYsecret0123456789"


async def _chat(http: aiohttp.ClientSession, rep: Any,
                headers: dict[str, str] | None = None) -> dict[str, Any]:
    msgs = await run_job(http, rep.url_for(PHI4_SPACE), 11, chat_inputs([text_message("x")]),
                         None, headers)
    done = completed(msgs)
    assert done["success"], done
    call: dict[str, Any] = rep.stats()["calls"][-1]
    return call


async def _hub_jwt(http: aiohttp.ClientSession, rep: Any, token: str) -> str:
    url = f"{rep.hub_url}/api/spaces/{PHI4_SPACE}/jwt"
    async with http.get(url, headers={"Authorization": f"Bearer {token}"}) as resp:
        return str((await resp.json())["token"])


async def test_hf_token_never_reaches_app_code(rep: Any, http: aiohttp.ClientSession) -> None:
    both = {"x-hf-authorization": f"Bearer {SECRET}", "Authorization": f"Bearer {SECRET}"}
    call = await _chat(http, rep, both)
    assert call["identity"].startswith("user:user-") and call["token_status"] == "valid"
    assert "authorization" not in call["headers"] and "x-hf-authorization" not in call["headers"]
    assert call["headers"]["x-ip-token"].count(".") == 2
    # Over the control route: every request (join, stream) arrived with the token, none of
    # them passed it on.
    async with http.get(f"{rep.base_url}/_replica/stats") as resp:
        stats = await resp.json()
    requests = [r for r in stats["requests"] if r["space"] == PHI4_SPACE]
    assert len(requests) == 2 and all(SECRET in json.dumps(r["received"]) for r in requests)
    assert SECRET not in json.dumps([r["to_app"] for r in stats["requests"]])
    assert SECRET not in json.dumps(stats["calls"])
    assert stats["proxy_credentials_stripped"] == 2 and stats["proxy_user_tokens"] == 2


async def test_authorization_alone_is_stripped_not_an_identity(
    rep: Any, http: aiohttp.ClientSession
) -> None:
    call = await _chat(http, rep, {"Authorization": f"Bearer {SECRET}"})
    assert call["identity"] == "anon:127.0.0.1" and call["token_status"] == "anonymous"
    assert "authorization" not in call["headers"]


async def test_no_header_is_anonymous_by_ip(rep: Any, http: aiohttp.ClientSession) -> None:
    call = await _chat(http, rep)
    assert (call["identity"], call["token_status"]) == ("anon:127.0.0.1", "anonymous")
    request = rep.stats()["requests"][-1]
    assert not {"authorization", "x-hf-authorization", "x-zerogpu-token"} & set(
        request["received"])
    assert set(request["to_app"]) - set(request["received"]) == {"x-ip-token"}


async def test_pro_token_gets_pro(rep: Any, http: aiohttp.ClientSession) -> None:
    rep.configure(quota_seconds_authenticated=10, quota_seconds_pro=1000)
    call = await _chat(http, rep, {"x-hf-authorization": "Bearer hf_pro"})
    assert call["token_status"] == "valid" and call["charged"] == 60.0


async def test_hub_jwt_in_x_zerogpu_token_is_translated(
    rep: Any, http: aiohttp.ClientSession
) -> None:
    jwt = await _hub_jwt(http, rep, "hf_dave")
    call = await _chat(http, rep, {"x-zerogpu-token": jwt})
    assert call["headers"]["x-ip-token"] == jwt and "x-zerogpu-token" not in call["headers"]
    assert call["token_status"] == "valid"
    # The same user through x-hf-authorization: the same quota key.
    same = await _chat(http, rep, {"x-hf-authorization": "Bearer hf_dave"})
    assert same["identity"] == call["identity"]
    assert rep.stats()["proxy_jwt_translated"] == 2  # join and stream


async def test_forged_tokens_give_no_identity(rep: Any, http: aiohttp.ClientSession) -> None:
    jwt = await _hub_jwt(http, rep, "hf_erin")
    # An X-IP-Token chosen by the caller is dropped; a JWT not signed by the Hub is refused.
    call = await _chat(http, rep, {"x-ip-token": jwt})
    assert call["identity"] == "anon:127.0.0.1" and call["headers"]["x-ip-token"] != jwt
    call = await _chat(http, rep, {"x-zerogpu-token": jwt[:-2] + "xx"})
    assert call["identity"] == "anon:127.0.0.1"
    assert rep.stats()["proxy_tokens_refused"] == 2
