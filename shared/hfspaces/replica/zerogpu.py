"""ZeroGPU emulation: proxy-token JWTs, caller identity and the daily GPU quota.

The runtime reads the caller only from ``X-IP-Token``, which the Hub-proxy stand-in
(``proxy``) adds: a user token (``sub``, ``pro``) for a valid HF token, else an IP-based
anonymous one (``ip``, optionally the ``error`` that made the proxy fall back to IP quotas).
An expired user token fails with "Expired ZeroGPU proxy token". No X-IP-Token at all (which
only a request that bypassed the proxy could have) is charged to the Space itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def user_id_for(hf_token: str) -> str:
    """Stable user id derived from an HF token."""
    return "user-" + hashlib.sha256(hf_token.encode()).hexdigest()[:12]


def valid_hf_token(token: str, bad_tokens: frozenset[str]) -> bool:
    """The Hub stub's rule: ``hf_`` tokens are valid unless listed as bad."""
    return token.startswith("hf_") and token not in bad_tokens


def user_claims(hf_token: str, pro_tokens: frozenset[str], exp: float, space: str,
                now: float) -> dict[str, object]:
    """The claims of a user's ZeroGPU JWT (the Hub's ``/jwt`` answer and the proxy's token)."""
    return {
        "sub": user_id_for(hf_token), "exp": int(exp), "iat": int(now), "space": space,
        "pro": hf_token in pro_tokens or hf_token.startswith("hf_pro"),
    }


def bearer(value: str | None) -> str:
    """The token of an ``Authorization``-style ``Bearer <token>`` value, else ""."""
    value = value or ""
    return value[7:].strip() if value.lower().startswith("bearer ") else ""


def sign_jwt(payload: Mapping[str, object], secret: str) -> str:
    header = _b64(json.dumps({"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    body = _b64(json.dumps(dict(payload), separators=(",", ":"), sort_keys=True).encode())
    sig = hmac.new(secret.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{_b64(sig)}"


def decode_jwt(token: str, secret: str) -> dict[str, object] | None:
    """Payload if the signature is ours, else None (expiry is checked by the caller)."""
    try:
        header, body, sig = token.split(".")
        want = hmac.new(secret.encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
        if not hmac.compare_digest(want, _unb64(sig)):
            return None
        payload = json.loads(_unb64(body))
    except (ValueError, TypeError):
        return None
    return payload if isinstance(payload, dict) else None


@dataclass(frozen=True)
class Identity:
    """Who a GPU call is charged to, read from the ``X-IP-Token`` the proxy stand-in adds."""

    key: str  # "user:<sub>", "anon:<ip>" or "space" (no X-IP-Token at all)
    auth: str | None = None  # None (anonymous), "regular" or "pro": the device API's levels
    token_status: str = "absent"  # absent | anonymous | valid | invalid | expired
    token_error: str | None = None  # the proxy's reason for falling back to IP quotas

    @property
    def authenticated(self) -> bool:
        return self.auth is not None

    @property
    def pro(self) -> bool:
        return self.auth == "pro"


def resolve_identity(headers: Mapping[str, str], secret: str,
                     now: float | None = None) -> Identity:
    """The identity the ZeroGPU runtime reads: the ``X-IP-Token`` header, nothing else."""
    token = headers.get("x-ip-token")
    if not token:
        return Identity("space")
    payload = decode_jwt(token, secret)
    if payload is None:
        return Identity("space", token_status="invalid")
    sub, ip = payload.get("sub"), payload.get("ip")
    error = payload.get("error")
    if not sub:
        return Identity(f"anon:{ip or 'unknown'}", None, "anonymous",
                        str(error) if error else None)
    auth = "pro" if payload.get("pro") else "regular"
    exp = payload.get("exp")
    expired = isinstance(exp, (int, float)) and exp < (time.time() if now is None else now)
    return Identity(f"user:{sub}", auth, "expired" if expired else "valid")


@dataclass
class QuotaBook:
    """Charges per identity over a sliding window (emulated seconds, real timestamps)."""

    window: float = 86_400.0
    _charges: dict[str, list[tuple[float, float]]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _live(self, key: str, now: float) -> list[tuple[float, float]]:
        live = [(t, s) for t, s in self._charges.get(key, []) if t + self.window > now]
        self._charges[key] = live
        return live

    def used(self, key: str, now: float | None = None) -> float:
        with self._lock:
            return sum(s for _, s in self._live(key, time.time() if now is None else now))

    def try_charge(self, key: str, seconds: float, limit: float,
                   now: float | None = None) -> tuple[bool, float, float]:
        """Charge if it fits. Returns (ok, seconds left before, wait until it would fit)."""
        now = time.time() if now is None else now
        with self._lock:
            live = self._live(key, now)
            used = sum(s for _, s in live)
            left = max(0.0, limit - used)
            if seconds <= left:
                live.append((now, seconds))
                return True, left, 0.0
            # Wait until enough old charges leave the window.
            need, wait = seconds - left, self.window
            for t, s in sorted(live):
                need -= s
                if need <= 0:
                    wait = t + self.window - now
                    break
            return False, left, wait

    def refund(self, key: str, seconds: float) -> None:
        """Take back the latest charge of ``seconds`` (a call that never got a GPU)."""
        with self._lock:
            charges = self._charges.get(key, [])
            for i in range(len(charges) - 1, -1, -1):
                if charges[i][1] == seconds:
                    del charges[i]
                    return

    def snapshot(self) -> dict[str, float]:
        now = time.time()
        with self._lock:
            return {k: sum(s for _, s in self._live(k, now)) for k in list(self._charges)}

    def clear(self) -> None:
        with self._lock:
            self._charges.clear()
