"""A failed completion (`success: false`) → a typed error with advice the caller can act on.

The ZeroGPU runtime (the `spaces` package) raises its errors through `gr.Error`. What
reaches the client depends on both versions (docs/architecture.md, "Errors"):

- gradio >= 5.2 sends a `title` ("ZeroGPU quota exceeded", "ZeroGPU worker error", ...)
  and the message as it is.
- gradio 5.1.0 sends no title and `repr(message)`: `'AttributeError'`, quotes included;
  an HTML message arrives as its plain-text alternative (spaces 0.34-0.47:
  "Unlogged user is runnning out of daily ZeroGPU quotas", typo included).
- spaces 0.28-0.32 word quotas as "GPU quota", 0.49+ as "ZeroGPU quota".

So errors are recognised by message text first (it is there in every combination) and by
title when the text alone is ambiguous. Pure: no I/O.
"""

from __future__ import annotations

import ast
import html
import re
from datetime import timedelta
from typing import Any, Literal

from . import errors

#: Who the endpoint saw: an HF token, no token, or a token the client did not send there.
Caller = Literal["token", "anonymous", "token_withheld"]

_TAG = re.compile(r"<[^>]+>")
_WAIT = re.compile(
    r"(?:try again in|retry in)\s+(?:(\d+)\s+days?,\s*)?(?:(\d+):)?(\d{1,2}):(\d{2})(?:\.\d+)?",
    re.I,
)
# The whole message is an exception class name: the ZeroGPU worker's error (it sends
# `res.error_cls`), recognisable without the title gradio 5.1.0 drops.
_CLASS_NAME = re.compile(r"[A-Z][A-Za-z0-9_]*(?:Error|Exception|Interrupt|Exit)")
_QUOTED = re.compile(r"""(['"]).*\1""", re.S)
_DURATION = re.compile(r"requested gpu duration \((\d+)s\)")

TOKEN_HELP = "https://huggingface.co/settings/tokens"


def strip_html(text: str) -> str:
    return re.sub(r"\s+", " ", html.unescape(_TAG.sub("", text))).strip()


def parse_wait(text: str) -> timedelta | None:
    """'Try again in 0:09:48' → timedelta(minutes=9, seconds=48)."""
    match = _WAIT.search(text)
    if not match:
        return None
    days, hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def unquote(text: str) -> str:
    """gradio 5.1.0 sends `repr(message)`: `'AttributeError'` → `AttributeError`."""
    if _QUOTED.fullmatch(text):
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            return text
        if isinstance(value, str):
            return value
    return text


def sentence(text: str) -> str:
    text = text.rstrip()
    return text if text.endswith((".", "!", "?")) else text + "."


def identity_advice(caller: Caller | None, *, saw_anonymous: bool = False) -> str:
    """What the caller can do to be charged as themselves, given who they are."""
    if caller == "anonymous":
        return (
            " You called anonymously: an HF token (hf_token=... or HF_TOKEN; a free read "
            f"token from {TOKEN_HELP}) gets your own, larger quota."
        )
    if caller == "token_withheld":
        return (
            " Your HF token was not sent: this endpoint is not a Space's https *.hf.space "
            "address. If it stands for a Space behind the Hub's proxy, pass "
            "send_hf_token=True."
        )
    if caller == "token" and saw_anonymous:
        return (
            " The Space counted you as anonymous although your HF token was sent: check "
            f"that it is valid ({TOKEN_HELP}) and that you call the Space's *.hf.space URL."
        )
    return ""


def error_from_output(
    output: Any, space: str | None, caller: Caller | None = None
) -> errors.SpaceError:
    """Map the `output` of a `process_completed` with `success: false` (or a failed
    `run/predict` answer) to a typed error; `caller` picks the advice."""
    output = output if isinstance(output, dict) else {}
    raw = output.get("error")
    title = output.get("title") if isinstance(output.get("title"), str) else None
    if raw is None:
        return errors.AppError(
            "the Space's function failed and the Space hides its error messages "
            "(error: null; the Space runs with show_error=False). Check the input, or "
            "run the Space locally or duplicate it to see the error.",
            space=space,
            title=title,
        )
    text = strip_html(unquote(str(raw).strip()))
    low = text.lower()
    low_title = (title or "").lower()
    kw: dict[str, Any] = {"space": space, "title": title}

    if "illegal duration" in low_title or ("gpu duration" in low and "maximum allowed" in low):
        found = _DURATION.search(low)
        asked = f" ({found.group(1)} s)" if found else ""
        how = (
            " A PRO account may request up to 40 min per call."
            if caller == "token"
            else identity_advice(caller)
        )
        return errors.GPUDurationError(
            f"the Space requests more GPU time per call{asked} than this caller may use: "
            f"{sentence(text)}{how} Or duplicate the Space with a shorter duration.",
            **kw,
        )
    if "pending credits" in low_title or "credits allocated to running tasks" in low:
        return errors.GPUCreditsPendingError(
            f"too many of your ZeroGPU tasks are running at once: {sentence(text)} Make "
            "fewer concurrent calls, and retry when some have finished.",
            **kw,
        )
    if "expired zerogpu proxy token" in low:
        return errors.ZeroGPUTokenExpiredError(f"ZeroGPU token expired: {text}", **kw)
    if "no gpu was available" in low or "queue timeout" in low_title:
        # Titled "quota exceeded" when the request carried no identity at all.
        who = identity_advice(caller, saw_anonymous=True) if "quota" in low_title else ""
        return errors.GPUUnavailableError(
            f"no GPU was free in time: {sentence(text)} The ZeroGPU pool is busy; try again "
            f"in a minute.{who}",
            **kw,
        )
    if "gpu limit" in low:
        # spaces: a request that reached the Space with no identity at all (no X-IP-Token).
        return errors.GPUQuotaExceededError(
            f"the Space's GPU allowance for callers without an identity is used up: "
            f"{sentence(text)}{identity_advice(caller, saw_anonymous=True)}",
            **kw,
        )
    if "runs limit" in low:
        return errors.GPUQuotaExceededError(
            f"ZeroGPU runs limit reached: {sentence(text)}{_quota_advice(low, caller)}", **kw
        )
    if _is_quota(low, low_title):
        wait = parse_wait(text)
        when = f" Try again in {wait}." if wait and "try again" not in low else ""
        return errors.GPUQuotaExceededError(
            f"ZeroGPU quota exceeded: {sentence(text)}{when}{_quota_advice(low, caller)}",
            retry_after=wait,
            **kw,
        )
    if "worker error" in low_title or "gpu task aborted" in low or _CLASS_NAME.fullmatch(text):
        return errors.GPUWorkerError(
            f"ZeroGPU worker failed ({title or 'worker error'}): {text}. This is often caused "
            "by an input the Space cannot handle (e.g. a missing image).",
            **kw,
        )
    prefix = f"{title}: " if title and title.lower() != "error" else ""
    return errors.AppError(f"the Space reported an error: {prefix}{text}", **kw)


def _is_quota(low: str, low_title: str) -> bool:
    # "GPU quota" only: an app's own "API quota exceeded" stays an AppError.
    return (
        ("gpu quota" in low and "exceeded" in low)
        or ("zerogpu quotas" in low and ("runnning out" in low or "running out" in low))
        or "zerogpu quota exceeded" in low_title
    )


def _quota_advice(low: str, caller: Caller | None) -> str:
    """Advice for a spent quota. The message says which tier the Space saw."""
    saw_anonymous = "unlogged" in low or "authenticate with a hugging face token" in low
    if caller != "token" or saw_anonymous:
        return identity_advice(caller, saw_anonymous=saw_anonymous)
    if "pro zerogpu" in low or "add credits" in low:
        return " Your PRO quota is used up: wait, or add ZeroGPU credits on huggingface.co."
    return " Your daily quota is used up: wait, or subscribe to PRO for more."


__all__ = [
    "Caller",
    "error_from_output",
    "identity_advice",
    "parse_wait",
    "sentence",
    "strip_html",
    "unquote",
]
