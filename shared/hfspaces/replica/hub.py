"""Stub of the Hugging Face Hub route that hands out ZeroGPU proxy tokens (JWTs)."""

from __future__ import annotations

import time
from datetime import datetime, timezone

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from .runtime import ReplicaState
from .zerogpu import bearer, sign_jwt, user_claims, valid_hf_token


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
        token = bearer(request.headers.get("authorization"))
        config = state.config
        if not valid_hf_token(token, config.bad_tokens):
            state.stats.bump("hub_jwt_rejected")
            return JSONResponse({"error": "Invalid credentials in Authorization header"}, 401)
        now = time.time()
        requested = _parse_expiration(request.query_params.get("expiration"))
        exp = int(requested if requested is not None else now + config.jwt_lifetime)
        payload = user_claims(token, config.pro_tokens, exp, f"{owner}/{name}", now)
        jwt = sign_jwt(payload, config.jwt_secret)
        state.stats.bump("hub_jwt_issued")
        return JSONResponse({"token": jwt, "accessToken": jwt, "exp": exp})

    return router
