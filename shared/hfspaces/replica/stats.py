"""Counters the tests and benchmarks read: what reached the server and what it did."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Mapping
from typing import Any

# Keys counted with ``bump``; all start at zero.
COUNTERS = (
    "joins_total", "joins_rejected", "predicts_total", "uploads", "upload_bytes",
    "uploads_rejected", "cancels", "streams_opened", "streams_cut", "streams_stalled",
    "malformed_sent", "unexpected_errors_sent", "jobs_started", "jobs_completed", "jobs_failed",
    "jobs_cancelled", "generator_stopped_early", "hub_jwt_issued", "hub_jwt_rejected",
    "quota_rejections", "gpu_errors", "gpu_waits", "duration_warnings", "proxy_user_tokens",
    "proxy_jwt_translated", "proxy_tokens_refused", "proxy_credentials_stripped",
)

MAX_CALLS = 1000  # keep the per-call log bounded under load tests


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0  # a gauge: jobs in flight survive clear()
        self.clear()

    def clear(self) -> None:
        with self._lock:
            self._counters: dict[str, int] = dict.fromkeys(COUNTERS, 0)
            self._joins: dict[str, dict[str, int]] = {}
            self._predicts: dict[str, dict[str, int]] = {}
            self._calls: list[dict[str, Any]] = []
            self._requests: list[dict[str, Any]] = []

    def bump(self, key: str, n: int = 1) -> None:
        with self._lock:
            self._counters[key] = self._counters.get(key, 0) + n

    def join(self, space: str, fn_index: object, predict: bool = False) -> None:
        with self._lock:
            table = self._predicts if predict else self._joins
            per = table.setdefault(space, {})
            per[str(fn_index)] = per.get(str(fn_index), 0) + 1
            self._counters["predicts_total" if predict else "joins_total"] += 1

    def running(self, delta: int) -> None:
        with self._lock:
            self._running += delta

    def call(self, space: str, fn: str, identity: str, token_status: str,
             headers: Mapping[str, str], charged: float) -> None:
        with self._lock:
            self._calls.append({
                "space": space, "fn": fn, "identity": identity, "token_status": token_status,
                "headers": dict(headers), "charged": charged, "time": time.time(),
            })
            del self._calls[:-MAX_CALLS]

    def request(self, space: str, method: str, path: str, received: Mapping[str, str],
                to_app: Mapping[str, str]) -> None:
        """One request through the proxy stand-in: headers as sent and as the app got them."""
        with self._lock:
            self._requests.append({
                "space": space, "method": method, "path": path, "received": dict(received),
                "to_app": dict(to_app),
            })
            del self._requests[:-MAX_CALLS]

    def snapshot(self, quota_used: Mapping[str, float]) -> dict[str, Any]:
        with self._lock:
            out: dict[str, Any] = dict(self._counters)
            out["joins"] = copy.deepcopy(self._joins)
            out["predicts"] = copy.deepcopy(self._predicts)
            out["calls"] = copy.deepcopy(self._calls)
            out["requests"] = copy.deepcopy(self._requests)
            out["running"] = self._running
        out["quota_used"] = dict(quota_used)
        return out
