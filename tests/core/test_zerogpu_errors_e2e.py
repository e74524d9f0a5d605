"""Every ZeroGPU failure the replica can produce (the `spaces` runtime's exact titles and
messages, `replica.spaces_messages`) maps to its typed error end to end, on both ways
gradio delivers errors (titled: gradio >= 5.2; gradio 5.1.0: no title, quoted repr) and
both `spaces` wordings the replica speaks (0.51, 0.47), with advice that fits the caller."""

from __future__ import annotations

from typing import Any

import pytest
from hfspaces import SpaceClient, errors
from hfspaces.replica import JANUS_SPACE
from hfspaces.replica.runtime import GRADIO_TITLES

EXPECTED: dict[str, type[errors.SpaceError]] = {
    "internal_error": errors.AppError,
    "expired_token": errors.ZeroGPUTokenExpiredError,
    "no_gpu": errors.GPUUnavailableError,
    "gpu_limit": errors.GPUQuotaExceededError,
    "illegal_duration": errors.GPUDurationError,
    "pending_credits": errors.GPUCreditsPendingError,
    "runs_limit": errors.GPUQuotaExceededError,
    "quota": errors.GPUQuotaExceededError,
    "queue_timeout": errors.GPUUnavailableError,
    "worker_error": errors.GPUWorkerError,
    "aborted": errors.GPUWorkerError,
}
TOKEN = "hf_e2e_user"


@pytest.fixture
def rep(fresh_replica: Any) -> Any:
    yield fresh_replica
    fresh_replica.configure(gradio_errors="installed", spaces_version="0.51")


@pytest.mark.parametrize("spaces_version", ["0.51", "0.47"])
@pytest.mark.parametrize("gradio_errors", ["installed", "5.1"])
@pytest.mark.parametrize("kind", sorted(EXPECTED))
@pytest.mark.parametrize("signed_in", [True, False], ids=["token", "anonymous"])
async def test_zerogpu_failure_is_typed(
    rep: Any, janus_url: str, kind: str, gradio_errors: str, spaces_version: str, signed_in: bool
) -> None:
    rep.configure(gpu_error=kind, gradio_errors=gradio_errors, spaces_version=spaces_version)
    token: dict[str, Any] = (
        {"hf_token": TOKEN, "send_hf_token": True} if signed_in else {"hf_token": False}
    )
    async with SpaceClient(janus_url, space_id=JANUS_SPACE, **token) as client:
        with pytest.raises(errors.SpaceError) as info:
            await client.run("generate_image", ["a cube", 1, 5.0, 1.0])
    err = info.value
    assert type(err) is EXPECTED[kind], f"{type(err).__name__}: {err}"
    # Titles exist only when the replica serves them the newer way on a gradio that has them.
    assert (err.title is None) == (gradio_errors == "5.1" or not GRADIO_TITLES)
    text = str(err)
    assert "<a" not in text and not text.split(": ", 1)[-1].startswith("'")
    if signed_in:  # never told to sign in when signed in
        assert "hf_token=..." not in text
    elif isinstance(err, errors.GPUQuotaExceededError):
        assert "HF_TOKEN" in text
