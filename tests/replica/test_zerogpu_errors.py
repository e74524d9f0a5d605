"""Every ZeroGPU error row of REAL_SPACES.md §3, as the installed gradio (titles) and as
gradio 5.1.0 (``gradio_errors="5.1"``: no title, ``repr`` text, HTML errors as plain text)
serve it; the runtime's logs, the duration factor and the natural triggers.

Expected strings are the ``spaces`` package's own (0.51.3 and 0.47.0), written out here on
purpose: the test fails if the replica's wording drifts from the runtime's.
"""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest
from hfspaces.replica import JANUS_SPACE, PHI4_SPACE
from hfspaces.replica.runtime import GRADIO_TITLES
from hfspaces.replica.samples import sample_image_path
from replica_wire import chat_inputs, completed, run_job, text_message, upload

TOKENS_HINT = ("Authenticate with a Hugging Face token for more quota - "
               "https://huggingface.co/settings/tokens")
PRO_URL = "https://huggingface.co/subscribe/pro?from=ZeroGPU"
QUOTA = "ZeroGPU quota exceeded"
CLIENT = "ZeroGPU client error"
WORKER = "ZeroGPU worker error"
QUEUE_HTML = (
    'No GPU was available after 60s. <a style="white-space: nowrap;text-underline-offset: 2px;'
    'color: var(--body-text-color)" href="https://huggingface.co/join">Create a free account</a>'
    " to get a higher priority in ZeroGPU queues."
)
QUEUE_TEXT = ("No GPU was available after 60s [Create a free account](https://huggingface.co/join)"
              " to get a higher priority in ZeroGPU queues.")

# kind -> (title, message on gradio >= 5.2, error field on gradio 5.1.0); anonymous API caller,
# spaces 0.51.
ROWS_051: dict[str, tuple[str, str, str]] = {
    "internal_error": (CLIENT, "Internal Gradio error", "'Internal Gradio error'"),
    "expired_token": (CLIENT, "Expired ZeroGPU proxy token", "'Expired ZeroGPU proxy token'"),
    "no_gpu": (CLIENT, "No GPU was available", "'No GPU was available'"),
    "gpu_limit": (QUOTA, "Space app has reached its GPU limit. Try re-running outside of "
                  "examples if it happened after clicking one", ""),
    "illegal_duration": ("ZeroGPU illegal duration", "The requested GPU duration (120s) is "
                         "larger than the maximum allowedSubscribe to Hugging Face PRO to allow"
                         f" GPU tasks up to 40 min - {PRO_URL}", ""),
    "pending_credits": ("ZeroGPU pending credits exceeded", "You have too many ZeroGPU credits "
                        "allocated to running tasks. Try again once some of those tasks have "
                        "completed.", ""),
    "runs_limit": (QUOTA, f"You have exceeded your ZeroGPU runs limit. {TOKENS_HINT}", ""),
    "quota": (QUOTA, "You have exceeded your ZeroGPU quota (120s requested vs. 116s left). "
              f"Try again in 0:09:48. {TOKENS_HINT}", ""),
    "queue_timeout": ("ZeroGPU queue timeout", QUEUE_HTML, QUEUE_TEXT),
    "worker_error": (WORKER, "RuntimeError", "'RuntimeError'"),
    "aborted": (WORKER, "GPU task aborted", "'GPU task aborted'"),
}

# spaces 0.37-0.47 wording (anonymous caller): the quota error is HTML whose plain-text
# alternative (what gradio 5.1.0 sends) has the runtime's "runnning" typo.
ROWS_047: dict[str, tuple[str, str, str]] = {
    "quota": (QUOTA, "You have exceeded your GPU quota (120s requested vs. 116s left). Try again "
              "in 0:09:48", "Unlogged user is runnning out of daily ZeroGPU quotas. Signup for "
              "free on https://huggingface.co/join or login on https://huggingface.co/login to "
              "get more ZeroGPU quota now."),
    "runs_limit": (QUOTA, "You have exceeded your runs limit.", "You have exceeded your runs "
                   "limit."),
    "illegal_duration": ("ZeroGPU illegal duration", "The requested GPU duration (120s) is "
                         "larger than the maximum allowed", ""),
}


# On a gradio older than 5.2 (5.1.0 itself) every error is served the 5.1.0 way; the tests
# that read titles need a newer gradio.
titled = pytest.mark.skipif(not GRADIO_TITLES, reason="gradio < 5.2 sends no error titles")


def _gradio51(message: str, text: str) -> str:
    return text or repr(message)


async def _understand(http: aiohttp.ClientSession, rep: Any,
                      headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
    base = rep.url_for(JANUS_SPACE)
    image = await upload(http, base, str(sample_image_path()), "image/png")
    return await run_job(http, base, 2, [image, "what?", 42, 0.95, 0.1], 10, headers)


@pytest.mark.parametrize("legacy", [False, True], ids=["installed", "gradio5.1"])
@pytest.mark.parametrize(("version", "kind"), [
    *(("0.51", k) for k in ROWS_051), *(("0.47", k) for k in ROWS_047),
])
async def test_every_error_row(rep: Any, http: aiohttp.ClientSession, version: str, kind: str,
                               legacy: bool) -> None:
    title, message, text = (ROWS_051 if version == "0.51" else ROWS_047)[kind]
    rep.configure(spaces_version=version, gradio_errors="5.1" if legacy else "installed",
                  gpu_error=kind, gpu_error_count=1, gpu_error_fn="multimodal_understanding")
    done = completed(await _understand(http, rep))
    out = done["output"]
    assert not done["success"]
    if legacy or not GRADIO_TITLES:
        assert "title" not in out and "title" not in done
        assert out["error"] == _gradio51(message, text)
    else:
        assert (out["title"], out["error"]) == (title, message)
    assert completed(await _understand(http, rep))["success"]  # the fault fired once


async def test_queue_timeout_after_the_wait_charges_nothing(
    rep: Any, http: aiohttp.ClientSession
) -> None:
    rep.configure(gpu_error="queue_timeout", gpu_error_count=1)
    msgs = await _understand(http, rep)
    assert [m["log"] for m in msgs if m["msg"] == "log"] == [
        "Waiting for a GPU to become available"]
    assert not completed(msgs)["success"] and sum(rep.stats()["quota_used"].values()) == 0
    again = await _understand(http, rep)  # the fault is spent: no wait, no logs
    assert completed(again)["success"] and not [m for m in again if m["msg"] == "log"]


@titled
async def test_gradio51_switch_is_for_janus_only(rep: Any, http: aiohttp.ClientSession) -> None:
    rep.configure(gradio_errors="5.1", gpu_error="aborted", gpu_error_count=1)
    msgs = await run_job(http, rep.url_for(PHI4_SPACE), 11, chat_inputs([text_message("x")]))
    out = completed(msgs)["output"]
    assert (out["title"], out["error"]) == (WORKER, "GPU task aborted")


@titled
async def test_worker_error_from_a_missing_image(rep: Any, http: aiohttp.ClientSession) -> None:
    base = rep.url_for(JANUS_SPACE)
    out = completed(await run_job(http, base, 2, [None, "hi", 42, 0.95, 0.1], 10))["output"]
    assert (out["title"], out["error"]) == (WORKER, "AttributeError")
    assert rep.stats()["quota_used"] == {"anon:127.0.0.1": 120.0}  # charged before the worker
    rep.configure(gradio_errors="5.1")
    out = completed(await run_job(http, base, 2, [None, "hi", 42, 0.95, 0.1], 10))["output"]
    assert out == {"error": "'AttributeError'", "duration": 10, "visible": True}


@titled
@pytest.mark.parametrize(("token", "label", "hint"), [
    (None, "ZeroGPU", TOKENS_HINT),
    ("hf_alice", "free ZeroGPU", "Subscribe to Hugging Face PRO to get 40 min of ZeroGPU quota a "
     f"day - {PRO_URL}"),
    ("hf_pro", "Pro ZeroGPU", "Add credits to keep using ZeroGPU. $1 for 10 minutes of ZeroGPU "
     "inference - https://huggingface.co/settings/billing?add-credits=true"),
])
async def test_quota_runs_out_with_the_factor(rep: Any, http: aiohttp.ClientSession,
                                              token: str | None, label: str, hint: str) -> None:
    # 120 s declared x 1.5 (a Blackwell node) = 180 s requested from each level's quota.
    rep.configure(duration_factor=1.5, quota_seconds_anonymous=200,
                  quota_seconds_authenticated=200, quota_seconds_pro=200)
    headers = {"x-hf-authorization": f"Bearer {token}"} if token else None
    assert completed(await _understand(http, rep, headers))["success"]
    out = completed(await _understand(http, rep, headers))["output"]
    assert out["title"] == QUOTA
    head = f"You have exceeded your {label} quota (180s requested vs. 20s left). Try again in "
    assert out["error"].startswith(head) and out["error"].endswith(f". {hint}")
    assert list(rep.stats()["quota_used"].values()) == [180.0]


async def test_quota_047_regular_user_plain_text(rep: Any, http: aiohttp.ClientSession) -> None:
    rep.configure(spaces_version="0.47", gradio_errors="5.1", quota_error=1)
    out = completed(await _understand(http, rep, {"x-hf-authorization": "Bearer hf_bob"}))
    assert out["output"]["error"] == (
        "User is runnning out of daily ZeroGPU quotas. Visit https://huggingface.co/subscribe/pro"
        " to get more ZeroGPU quota now."
    )


@titled
async def test_illegal_duration_above_the_maximum(rep: Any, http: aiohttp.ClientSession) -> None:
    rep.configure(max_gpu_duration=100)
    out = completed(await _understand(http, rep))["output"]
    assert out["title"] == "ZeroGPU illegal duration"
    assert out["error"].startswith("The requested GPU duration (120s) is larger than")
    assert rep.stats()["quota_used"] == {}  # refused before any charge
    pro = completed(await _understand(http, rep, {"x-hf-authorization": "Bearer hf_pro"}))
    assert pro["success"]  # PRO callers are not limited


async def test_expired_hub_jwt_is_the_schedulers_401(rep: Any,
                                                      http: aiohttp.ClientSession) -> None:
    url = f"{rep.hub_url}/api/spaces/{JANUS_SPACE}/jwt"
    async with http.get(url, headers={"Authorization": "Bearer hf_carol"},
                        params={"expiration": "2020-01-01T00:00:00+00:00"}) as resp:
        old = (await resp.json())["token"]
    for legacy, expected in ((False, "Expired ZeroGPU proxy token"),
                             (True, "'Expired ZeroGPU proxy token'")):
        rep.configure(gradio_errors="5.1" if legacy else "installed")
        out = completed(await _understand(http, rep, {"x-zerogpu-token": old}))["output"]
        if not GRADIO_TITLES:
            expected = "'Expired ZeroGPU proxy token'"
        assert out["error"] == expected and out.get("title", CLIENT) == CLIENT


@titled
async def test_gpu_wait_logs_and_duration_warning(rep: Any, http: aiohttp.ClientSession) -> None:
    # 0.05 s declared and the call lasts longer: the runtime warns it may be aborted.
    rep.configure(queue_delay=0.05, gpu_durations={"chat": 0.05}, token_delay=0.05,
                  answer_words=6)
    msgs = await run_job(http, rep.url_for(PHI4_SPACE), 11, chat_inputs([text_message("x")]))
    logs = [(m.get("title"), m["log"], m["level"]) for m in msgs if m["msg"] == "log"]
    assert logs == [
        ("ZeroGPU queue", "Waiting for a GPU to become available", "info"),
        ("ZeroGPU queue", "Successfully acquired a GPU", "success"),
        ("ZeroGPU duration", "GPU task is exceeding its requested duration and might be aborted",
         "warning"),
    ]
    assert completed(msgs)["success"] and rep.stats()["duration_warnings"] == 1
    # gradio 5.1.0 log messages: no title, and no success level (spaces falls back to gr.Info).
    rep.configure(gradio_errors="5.1", queue_delay=0.05)
    logs51 = [m for m in await _understand(http, rep) if m["msg"] == "log"]
    assert [(m["log"], m["level"], "title" in m) for m in logs51] == [
        ("Waiting for a GPU to become available", "info", False),
        ("Successfully acquired a GPU", "info", False),
    ]


async def test_spaces_047_has_no_duration_warning(rep: Any, http: aiohttp.ClientSession) -> None:
    rep.configure(spaces_version="0.47", gpu_durations={"chat": 0.01}, token_delay=0.03,
                  answer_words=4)
    msgs = await run_job(http, rep.url_for(PHI4_SPACE), 11, chat_inputs([text_message("x")]))
    assert completed(msgs)["success"] and not [m for m in msgs if m["msg"] == "log"]


@titled
async def test_refused_hf_token_falls_back_to_ip_quota(rep: Any,
                                                       http: aiohttp.ClientSession) -> None:
    msgs = await _understand(http, rep, {"x-hf-authorization": "Bearer hf_revoked"})
    logs = [(m.get("title"), m["log"]) for m in msgs if m["msg"] == "log"]
    assert logs == [("ZeroGPU client warning", "Falling back to IP-based quotas (Invalid "
                     "credentials in x-hf-authorization header)")]
    assert completed(msgs)["success"]
    assert rep.stats()["calls"][-1]["identity"] == "anon:127.0.0.1"


async def test_unknown_settings_are_refused(rep: Any) -> None:
    with pytest.raises(ValueError, match="spaces_version"):
        rep.configure(spaces_version="0.99")
    with pytest.raises(ValueError, match="gpu_error"):
        rep.configure(gpu_error="meltdown")
