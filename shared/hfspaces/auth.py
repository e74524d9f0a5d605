"""Who a call is made as.

The default route, like the official gradio_client: the HF token goes to a Space's own
`https://*.hf.space` origin as `x-hf-authorization: Bearer hf_…` (the Hub's proxy strips
that header before the Space's code and hands the Space the caller's identity as
`X-IP-Token`, the only identity the ZeroGPU runtime reads). Other endpoints get it only
when the caller opts in per endpoint (`send_hf_token=True`). `caller_headers` holds
that rule.

The JWT route (`zerogpu_jwt=True`, opt-in): the HF token is exchanged at the Hub for a
short-lived JWT that each `queue/join` carries as `x-zerogpu-token`. No source confirms
that the proxy translates that header (see docs/architecture.md, "Identity"), so it is
not the default. The HF token then goes to the Hub; the JWT only to the Space's host.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

from . import errors
from .secret import Secret

if TYPE_CHECKING:
    from .transport import Transport

DEFAULT_HUB_URL = "https://huggingface.co"
#: Refresh this long before the JWT's expiry, so a join never carries a dying token.
REFRESH_MARGIN = 30.0
#: Lifetime we ask the Hub for.
REQUESTED_LIFETIME = timedelta(minutes=10)


def hub_url_from_env() -> str:
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_HUB_URL).rstrip("/")


def is_hf_space_origin(url: str) -> bool:
    """A Space's own origin: `https://<sub>.hf.space` (the Hub's proxy is in front)."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    return parts.scheme == "https" and host.endswith(".hf.space") and host != ".hf.space"


def caller_headers(hf_token: Secret | None) -> dict[str, str]:
    """The header carrying the HF token to a Space, as gradio_client sends it (never
    `Authorization`, which would reach the Space's own code on a self-hosted server)."""
    return {"x-hf-authorization": hf_token.header("Bearer ")} if hf_token else {}


@dataclass(frozen=True)
class ZeroGPUToken:
    jwt: Secret
    expires_at: float  # time.time() seconds

    def fresh(self, now: float | None = None) -> bool:
        return (now or time.time()) < self.expires_at - REFRESH_MARGIN


def jwt_expiry(token: str) -> float | None:
    """The `exp` claim of a JWT, without verifying it (the Space does that)."""
    try:
        payload = token.split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        exp = claims.get("exp")
        return float(exp) if isinstance(exp, (int, float)) else None
    except (IndexError, ValueError, TypeError):
        return None


class ZeroGPUIdentity:
    """Fetches and caches the ZeroGPU JWT for one Space and one HF token."""

    def __init__(self, space_id: str, hf_token: Secret | None, hub_url: str | None = None):
        self.space_id = space_id
        self.hf_token = hf_token
        self.hub_url = (hub_url or hub_url_from_env()).rstrip("/")
        #: Stable per identity object, like the browser's per-tab uuid.
        self.uuid = str(uuid.uuid4())
        self._token: ZeroGPUToken | None = None
        self._lock = asyncio.Lock()

    def __repr__(self) -> str:
        state = "token" if self.hf_token else "anonymous"
        return f"ZeroGPUIdentity({self.space_id!r}, {state}, hub={self.hub_url!r})"

    @property
    def anonymous(self) -> bool:
        return self.hf_token is None

    def invalidate(self) -> None:
        self._token = None

    async def headers(self, transport: Transport) -> dict[str, str]:
        """Headers for a join: the JWT when we have a token, nothing when anonymous."""
        if self.hf_token is None:
            return {}
        token = self._token
        if token is None or not token.fresh():
            async with self._lock:  # one Hub request however many joins wait for it
                token = self._token
                if token is None or not token.fresh():
                    token = self._token = await self._fetch(transport)
        return {"x-zerogpu-token": token.jwt.header(), "x-zerogpu-uuid": self.uuid}

    async def _fetch(self, transport: Transport) -> ZeroGPUToken:
        assert self.hf_token is not None
        owner, name = self.space_id.split("/", 1)
        expiration = (datetime.now(timezone.utc) + REQUESTED_LIFETIME).isoformat()
        url = (
            f"{self.hub_url}/api/spaces/{quote(owner)}/{quote(name)}/jwt"
            f"?expiration={quote(expiration)}&include_pro_status=true"
        )
        headers = {"Authorization": self.hf_token.header("Bearer ")}
        try:
            status, body = await transport.get_json(url, headers=headers, trusted_host=self.hub_url)
        except (errors.ConnectError, errors.SpaceTimeoutError, errors.SessionLostError) as exc:
            raise type(exc)(
                f"the Hub ({self.hub_url}) could not be reached for a ZeroGPU token "
                f"(zerogpu_jwt=True): {exc.message}. The Space was not called; retry, or "
                "drop zerogpu_jwt to send the HF token to the Space directly.",
                space=self.space_id,
            ) from exc
        if status in (401, 403):
            raise errors.AuthError(
                f"the Hub ({self.hub_url}) refused the HF token (HTTP {status}) when asking "
                "for a ZeroGPU token for this Space. Check HF_TOKEN (a read token from "
                "huggingface.co/settings/tokens), or pass hf_token=False to call anonymously.",
                space=self.space_id,
            )
        if status == 404:
            raise errors.AuthError(
                f"the Hub ({self.hub_url}) has no Space {self.space_id!r} (or it is private "
                "to another account).",
                space=self.space_id,
            )
        if status == 429:
            raise errors.RateLimitError(
                f"the Hub ({self.hub_url}) rate-limited the ZeroGPU token request; wait a "
                "minute and retry.",
                space=self.space_id,
            )
        if status != 200 or not isinstance(body, dict):
            raise errors.AuthError(
                f"the Hub ({self.hub_url}) answered HTTP {status} to the ZeroGPU token "
                "request; retry later, or drop zerogpu_jwt.",
                space=self.space_id,
            )
        jwt = body.get("token") or body.get("accessToken")
        if not isinstance(jwt, str) or not jwt:
            raise errors.ProtocolError(
                f"the Hub's ({self.hub_url}) JWT answer has no 'token'", space=self.space_id
            )
        exp = jwt_expiry(jwt) or _num(body.get("exp")) or time.time() + 60
        return ZeroGPUToken(Secret(jwt), exp)


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) else None
