"""Stand-in for the Hugging Face proxy in front of every ``*.hf.space`` request.

What it does, and the evidence (docs/real_spaces.md, "Identity"):

- strips ``Authorization`` and ``x-hf-authorization`` before the Space's code (gradio_client
  sends the HF token as ``x-hf-authorization``, which the proxy strips: gradio PR #11700);
- adds ``X-IP-Token``, the only identity the ZeroGPU runtime reads (``spaces`` TOKEN_HEADER):
  a user token for a valid HF token sent as ``x-hf-authorization: Bearer hf_...``; otherwise an
  IP-based anonymous token (the runtime's "Falling back to IP-based quotas" warning and the
  anonymous daily quota imply the proxy identifies anonymous callers by IP) — carrying an
  ``error`` when the HF token was refused;
- translates ``x-zerogpu-token`` carrying a Hub-issued JWT (``/api/spaces/{id}/jwt``) to
  ``X-IP-Token`` — **inferred** from the browser path, no source confirms it;
- drops any ``X-IP-Token`` the caller sent (a caller cannot choose its identity).

Each request's headers, as received and as passed to the app, go to the stats
(``requests``), so a test can prove which headers reach app code.
"""

from __future__ import annotations

import time
from collections.abc import MutableMapping
from typing import Any

from .runtime import ReplicaState
from .zerogpu import bearer, decode_jwt, sign_jwt, user_claims, valid_hf_token

# Never passed to the Space: the HF token (both spellings), the Hub JWT, a forged X-IP-Token.
STRIPPED = frozenset({"authorization", "x-hf-authorization", "x-zerogpu-token", "x-ip-token"})


class HubProxy:
    """Rewrites the headers of one request on its way to a Space."""

    def __init__(self, state: ReplicaState) -> None:
        self.state = state

    def ip_token(self, space: str, headers: dict[str, str], client_ip: str) -> str:
        config, stats = self.state.config, self.state.stats
        now = time.time()
        anonymous: dict[str, object] = {"ip": client_ip, "iat": int(now), "space": space}
        hf_token = bearer(headers.get("x-hf-authorization"))
        if hf_token:
            if valid_hf_token(hf_token, config.bad_tokens):
                stats.bump("proxy_user_tokens")
                claims = user_claims(hf_token, config.pro_tokens, now + config.jwt_lifetime,
                                     space, now)
                return sign_jwt(claims, config.jwt_secret)
            stats.bump("proxy_tokens_refused")
            anonymous["error"] = "Invalid credentials in x-hf-authorization header"
        elif headers.get("x-zerogpu-token"):
            payload = decode_jwt(headers["x-zerogpu-token"], config.jwt_secret)
            if payload is not None and payload.get("sub"):
                stats.bump("proxy_jwt_translated")
                return headers["x-zerogpu-token"]  # as issued, expired or not
            stats.bump("proxy_tokens_refused")
            anonymous["error"] = "Invalid ZeroGPU token"
        return sign_jwt(anonymous, config.jwt_secret)

    def rewrite(self, space: str, scope: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
        """The scope the Space's app gets: credentials removed, X-IP-Token added."""
        raw: list[tuple[bytes, bytes]] = list(scope.get("headers") or [])
        received = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in raw}
        client = scope.get("client") or ("unknown", 0)
        token = self.ip_token(space, received, str(client[0]))
        kept = [(k, v) for k, v in raw if k.decode("latin-1").lower() not in STRIPPED]
        kept.append((b"x-ip-token", token.encode()))
        if STRIPPED & set(received) - {"x-ip-token"}:
            self.state.stats.bump("proxy_credentials_stripped")
        to_app = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in kept}
        self.state.stats.request(space, scope.get("method", "GET"), scope.get("path", ""),
                                 received, to_app)
        return {**scope, "headers": kept}
