"""ZeroGPU emulation: proxy-token JWTs, caller identity and the daily GPU quota.

Identity comes from the join request headers: ``x-zerogpu-token`` (as the seeds' library
sends it) or ``x-ip-token`` (as the Hub proxy forwards it). A valid JWT charges that user's
quota; no token charges an anonymous identity keyed by ``x-zerogpu-uuid`` (else client IP).
An expired JWT fails with "Expired ZeroGPU proxy token". A JWT with a bad signature or an
unparseable one is treated as anonymous (``token_status == "invalid"`` in the stats), which
is what a browser without a valid proxy token gets from the real runtime.
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
    """Who a GPU call is charged to."""

    key: str  # "user:<sub>" or "anon:<uuid or ip>"
    authenticated: bool
    pro: bool = False
    token_status: str = "absent"  # absent | valid | invalid | expired


def resolve_identity(headers: Mapping[str, str], client_host: str | None, secret: str,
                     now: float | None = None) -> Identity:
    token = headers.get("x-zerogpu-token") or headers.get("x-ip-token")
    anon_key = headers.get("x-zerogpu-uuid") or client_host or "unknown"
    if not token:
        return Identity(f"anon:{anon_key}", False)
    payload = decode_jwt(token, secret)
    if payload is None:
        return Identity(f"anon:{anon_key}", False, token_status="invalid")
    exp = payload.get("exp")
    if isinstance(exp, (int, float)) and exp < (time.time() if now is None else now):
        return Identity(f"user:{payload.get('sub')}", True, bool(payload.get("pro")), "expired")
    return Identity(f"user:{payload.get('sub')}", True, bool(payload.get("pro")), "valid")


def format_wait(seconds: float) -> str:
    """``H:MM:SS`` like the real message (``Try again in 0:09:48``)."""
    s = max(0, int(seconds + 0.999))
    return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"


def quota_message(requested: float, left: float, wait: float, anonymous: bool) -> str:
    text = (
        f"You have exceeded your free ZeroGPU quota ({int(requested)}s requested vs. "
        f"{int(left)}s left). Try again in {format_wait(wait)}."
    )
    if anonymous:
        text += (
            ' Unlogged user is running out of daily ZeroGPU quotas. <a href="https://huggingface.co'
            '/login">Sign in</a> or pass an HF token to get more ZeroGPU quota now.'
        )
    return text


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

    def snapshot(self) -> dict[str, float]:
        now = time.time()
        with self._lock:
            return {k: sum(s for _, s in self._live(k, now)) for k in list(self._charges)}

    def clear(self) -> None:
        with self._lock:
            self._charges.clear()
