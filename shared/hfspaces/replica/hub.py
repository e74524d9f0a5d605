"""Stub of the Hugging Face Hub route that hands out ZeroGPU proxy tokens (JWTs)."""

from __future__ import annotations

import time
from datetime import datetime, timezone

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from .runtime import ReplicaState
from .zerogpu import sign_jwt, user_id_for


def _parse_expiration(value: str | None) -> float | None:
    if not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    return when.timestamp()


def hub_router(state: ReplicaState) -> APIRouter:
    router = APIRouter()

    @router.get("/api/spaces/{owner}/{name}/jwt")
    async def space_jwt(owner: str, name: str, request: Request) -> JSONResponse:
        auth = request.headers.get("authorization", "")
        token = auth[7:].strip() if auth.lower().startswith("bearer ") else ""
        config = state.config
        if not token.startswith("hf_") or token in config.bad_tokens:
            state.stats.bump("hub_jwt_rejected")
            return JSONResponse({"error": "Invalid credentials in Authorization header"}, 401)
        now = time.time()
        requested = _parse_expiration(request.query_params.get("expiration"))
        exp = int(requested if requested is not None else now + config.jwt_lifetime)
        payload = {
            "sub": user_id_for(token), "exp": exp, "iat": int(now),
            "pro": token in config.pro_tokens or token.startswith("hf_pro"),
            "space": f"{owner}/{name}",
        }
        jwt = sign_jwt(payload, config.jwt_secret)
        state.stats.bump("hub_jwt_issued")
        return JSONResponse({"token": jwt, "accessToken": jwt, "exp": exp})

    return router
