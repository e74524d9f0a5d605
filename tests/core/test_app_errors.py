"""Error mapping of failed completions, pure (no I/O): every user-facing string of the
ZeroGPU runtime (`spaces` 0.28-0.51, from /work/shared/REAL_SPACES.md §3) as each gradio
version delivers it, to its typed error and advice.

- gradio >= 5.2 (titled): `{"error": message, "title": title}`.
- gradio 5.1.0: `{"error": repr(message)}`, no title; an HTML message arrives as its
  plain-text alternative (spaces 0.34-0.47: the "runnning" typo).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from hfspaces import errors
from hfspaces.app_errors import error_from_output, parse_wait, unquote

ANON_HINT = (
    "Authenticate with a Hugging Face token for more quota - https://huggingface.co/settings/tokens"
)
REGULAR_HINT = (
    "Subscribe to Hugging Face PRO to get 40 min of ZeroGPU quota a day - "
    "https://huggingface.co/subscribe/pro?from=ZeroGPU"
)
PRO_HINT = (
    "Add credits to keep using ZeroGPU. $1 for 10 minutes of ZeroGPU inference - "
    "https://huggingface.co/settings/billing?add-credits=true"
)
EXAMPLES = "Try re-running outside of examples if it happened after clicking one"
A = '<a style="text-decoration: underline" href="https://huggingface.co/join">'
UNLOGGED = (
    "Unlogged user is runnning out of daily ZeroGPU quotas. Signup for free on "
    "https://huggingface.co/join or login on https://huggingface.co/login to get more "
    "ZeroGPU quota now."
)
USER_OUT = (
    "User is runnning out of daily ZeroGPU quotas. Visit https://huggingface.co/subscribe/pro "
    "to get more ZeroGPU quota now."
)
WAIT = timedelta(minutes=5, seconds=3)


@dataclass(frozen=True)
class Row:
    case: str
    title: str | None
    message: str
    kind: type[errors.SpaceError]
    retry_after: timedelta | None = None
    #: What gradio 5.1.0 sends for an HTML message (its plain-text alternative).
    plain: str | None = None


ROWS = [
    # spaces 0.51.3 (zero/client.py, wrappers.py)
    Row(
        "0.51 illegal duration",
        "ZeroGPU illegal duration",
        "The requested GPU duration (180s) is larger than the maximum allowed"
        "Subscribe to Hugging Face PRO to allow GPU tasks up to 40 min - "
        "https://huggingface.co/subscribe/pro?from=ZeroGPU",
        errors.GPUDurationError,
    ),
    Row(
        "0.51 no token at all (GPU limit)",
        "ZeroGPU quota exceeded",
        f"Space app has reached its GPU limit. {EXAMPLES}",
        errors.GPUQuotaExceededError,
    ),
    Row(
        "0.51 pending credits",
        "ZeroGPU pending credits exceeded",
        "You have too many ZeroGPU credits allocated to running tasks. Try again once some of "
        "those tasks have completed.",
        errors.GPUCreditsPendingError,
    ),
    Row(
        "0.51 runs limit",
        "ZeroGPU quota exceeded",
        f"You have exceeded your ZeroGPU runs limit. {ANON_HINT}",
        errors.GPUQuotaExceededError,
    ),
    Row(
        "0.51 quota anonymous",
        "ZeroGPU quota exceeded",
        f"You have exceeded your ZeroGPU quota (180s requested vs. 120s left). Try again in "
        f"0:05:03. {ANON_HINT}",
        errors.GPUQuotaExceededError,
        WAIT,
    ),
    Row(
        "0.51 quota regular",
        "ZeroGPU quota exceeded",
        f"You have exceeded your free ZeroGPU quota (180s requested vs. 20s left). Try again "
        f"in 0:05:03. {REGULAR_HINT}",
        errors.GPUQuotaExceededError,
        WAIT,
    ),
    Row(
        "0.51 quota pro",
        "ZeroGPU quota exceeded",
        f"You have exceeded your Pro ZeroGPU quota (180s requested vs. 20s left). Try again in "
        f"0:05:03. {PRO_HINT}",
        errors.GPUQuotaExceededError,
        WAIT,
    ),
    Row(
        "0.51 queue failed, no token",
        "ZeroGPU quota exceeded",
        f"No GPU was available after 60s. {EXAMPLES}",
        errors.GPUUnavailableError,
    ),
    Row(
        "0.51 queue timeout (HTML)",
        "ZeroGPU queue timeout",
        f"No GPU was available after 60s. {A}Create a free account</a> to get a higher priority "
        "in ZeroGPU queues.",
        errors.GPUUnavailableError,
        plain="No GPU was available after 60s. Create a free account on "
        "https://huggingface.co/join to get a higher priority in ZeroGPU queues.",
    ),
    Row(
        "0.51 queue timeout pro",
        "ZeroGPU queue timeout",
        "No GPU was available after 60s. Retry later",
        errors.GPUUnavailableError,
    ),
    Row(
        "0.51 scheduler 503",
        "ZeroGPU client error",
        "No GPU was available",
        errors.GPUUnavailableError,
    ),
    Row(
        "0.51 scheduler 401",
        "ZeroGPU client error",
        "Expired ZeroGPU proxy token",
        errors.ZeroGPUTokenExpiredError,
    ),
    Row("0.51 bad request", "ZeroGPU client error", "Internal Gradio error", errors.AppError),
    Row("0.51 worker exception", "ZeroGPU worker error", "AttributeError", errors.GPUWorkerError),
    Row("0.51 worker died", "ZeroGPU worker error", "GPU task aborted", errors.GPUWorkerError),
    # spaces 0.49: "ZeroGPU" wording, 25 min in the PRO hint
    Row(
        "0.49 quota regular",
        "ZeroGPU quota exceeded",
        "You have exceeded your free ZeroGPU quota (120s requested vs. 20s left). Try again in "
        "0:05:03. Subscribe to Hugging Face PRO to get 25 min of ZeroGPU quota a day",
        errors.GPUQuotaExceededError,
        WAIT,
    ),
    # spaces 0.34-0.47: HTML value, plain-text alternative with the "runnning" typo
    Row(
        "0.34-0.47 quota anonymous",
        "ZeroGPU quota exceeded",
        f"You have exceeded your GPU quota (120s requested vs. 60s left). Try again in 0:05:03"
        f"<br>{A}Sign up</a> to get more quota",
        errors.GPUQuotaExceededError,
        WAIT,
        plain=UNLOGGED,
    ),
    Row(
        "0.34-0.47 quota regular",
        "ZeroGPU quota exceeded",
        "You have exceeded your free GPU quota (120s requested vs. 60s left). Try again in "
        f"0:05:03<br>{A}Subscribe to Pro</a> to get more quota",
        errors.GPUQuotaExceededError,
        WAIT,
        plain=USER_OUT,
    ),
    Row(
        "0.34-0.47 runs limit",
        "ZeroGPU quota exceeded",
        "You have exceeded your runs limit.",
        errors.GPUQuotaExceededError,
    ),
    # spaces 0.32: no wait time unless PRO, HTML sign-up hint
    Row(
        "0.32 quota",
        "ZeroGPU quota exceeded",
        f"You have exceeded your free GPU quota (120s requested vs. 10s left). {A}Create a free "
        "account</a> to get more daily usage quota.",
        errors.GPUQuotaExceededError,
    ),
    # spaces 0.28-0.30: no title at all
    Row(
        "0.28 quota",
        None,
        "You have exceeded your GPU quota (120s requested vs. 0s left). Try again in 0:05:03.",
        errors.GPUQuotaExceededError,
        WAIT,
    ),
]


def titled(row: Row) -> dict[str, Any]:
    """As gradio >= 5.2 sends it."""
    return {"error": row.message, "title": row.title}


def gradio_5_1(row: Row) -> dict[str, Any]:
    """As gradio 5.1.0 sends it: no title, `repr` of the message (or of its plain-text
    alternative when the message is HTML)."""
    return {"error": repr(row.plain or row.message), "duration": 10, "visible": True}


@pytest.mark.parametrize("row", ROWS, ids=[r.case for r in ROWS])
@pytest.mark.parametrize("delivery", [titled, gradio_5_1], ids=["gradio>=5.2", "gradio-5.1.0"])
def test_every_runtime_string_maps_to_its_type(row: Row, delivery: Any) -> None:
    output = delivery(row)
    err = error_from_output(output, "o/n", "token")
    assert type(err) is row.kind, err
    assert isinstance(err, errors.AppError) and err.space == "o/n"
    assert err.title == output.get("title")
    message = str(err)
    assert "<a" not in message and "href=" not in message
    assert repr(row.plain or row.message)[:12] not in message  # gradio 5.1.0's quotes gone
    assert ".." not in message.replace("...", "")  # no doubled full stop
    if isinstance(err, errors.GPUQuotaExceededError):
        # The plain-text alternatives carry no wait time: none is invented.
        expected = row.retry_after if delivery is titled or row.plain is None else None
        assert err.retry_after == expected
        if err.retry_after is not None:
            assert "0:05:03" in message


@pytest.mark.parametrize("row", ROWS, ids=[r.case for r in ROWS])
def test_no_sign_in_advice_to_a_caller_with_a_token(row: Row) -> None:
    err = error_from_output(titled(row), None, "token")
    seen_as_anonymous = "Authenticate" in row.message or "GPU limit" in row.message
    if seen_as_anonymous:
        assert "counted you as anonymous" in str(err)
    else:
        assert "hf_token=" not in str(err) and "HF_TOKEN" not in str(err)


QUOTA = ROWS[4]


def test_anonymous_caller_is_told_to_use_a_token() -> None:
    err = error_from_output(titled(QUOTA), None, "anonymous")
    assert "You called anonymously" in str(err) and "HF_TOKEN" in str(err)


def test_withheld_token_is_named() -> None:
    err = error_from_output(titled(QUOTA), None, "token_withheld")
    assert "send_hf_token=True" in str(err) and "You called anonymously" not in str(err)


@pytest.mark.parametrize(
    ("message", "advice"),
    [
        (ROWS[5].message, "subscribe to PRO"),
        (ROWS[6].message, "add ZeroGPU credits"),
    ],
)
def test_quota_advice_follows_the_tier(message: str, advice: str) -> None:
    err = error_from_output({"error": message, "title": "ZeroGPU quota exceeded"}, None, "token")
    assert advice in str(err)


@pytest.mark.parametrize(
    ("caller", "advice"),
    [("token", "PRO account"), ("anonymous", "HF_TOKEN"), ("token_withheld", "send_hf_token")],
)
def test_illegal_duration_advice(caller: Any, advice: str) -> None:
    err = error_from_output(titled(ROWS[0]), None, caller)
    assert isinstance(err, errors.GPUDurationError) and not err.retryable
    assert "(180 s)" in str(err) and advice in str(err)


def test_pending_credits_is_retryable_with_advice() -> None:
    err = error_from_output(titled(ROWS[2]), None, "token")
    assert err.retryable and "fewer concurrent calls" in str(err)


def test_error_null_is_explained() -> None:
    err = error_from_output({"error": None, "title": None}, None)
    assert type(err) is errors.AppError
    assert "hides its error" in str(err) and "error: null" in str(err)


def test_app_error_title_and_html() -> None:
    err = error_from_output(
        {"error": 'Bad <b>input</b> &amp; <a href="x">more</a>', "title": "Invalid image"}, None
    )
    assert type(err) is errors.AppError
    assert err.title == "Invalid image"
    assert "Invalid image: Bad input & more" in str(err)


@pytest.mark.parametrize(
    "output",
    [
        {"error": "OpenAI API quota exceeded", "title": "Error"},
        {"error": repr("OpenAI API quota exceeded")},
        {"error": "Please upload an image first.", "title": "Error"},
        {"error": "ValueError: bad seed"},
    ],
)
def test_app_errors_of_other_kinds_stay_app_errors(output: dict[str, Any]) -> None:
    assert type(error_from_output(output, None)) is errors.AppError


def test_output_not_a_dict() -> None:
    assert type(error_from_output(None, None)) is errors.AppError


@pytest.mark.parametrize(
    ("text", "plain"),
    [
        ("'AttributeError'", "AttributeError"),
        ('"it\'s"', "it's"),
        ("'unterminated", "'unterminated"),
        ("'a' and 'b'", "'a' and 'b'"),
        ("plain", "plain"),
    ],
)
def test_unquote(text: str, plain: str) -> None:
    assert unquote(text) == plain


@pytest.mark.parametrize(
    ("text", "wait"),
    [
        ("Try again in 0:09:48.", timedelta(minutes=9, seconds=48)),
        ("try again in 9:48", timedelta(minutes=9, seconds=48)),
        ("Try again in 1 day, 2:03:04", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        ("Try again in 0:00:05.250000", timedelta(seconds=5)),
        ("no wait here", None),
    ],
)
def test_parse_wait(text: str, wait: timedelta | None) -> None:
    assert parse_wait(text) == wait
