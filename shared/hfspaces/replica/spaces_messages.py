"""The ZeroGPU runtime's user-facing strings, as the ``spaces`` package writes them.

Copied from ``spaces/zero/client.py`` and ``wrappers.py`` of spaces 0.51.3 (``"0.51"``) and
0.47.0 (``"0.47"``, whose wording 0.37-0.47 share); see docs/real_spaces.md. A ``Failure``
carries both renderings a gradio version may send: ``message`` (gradio >= 5.2 sends
``error.message`` plus the title) and ``gradio51`` (gradio 5.1.0 sends ``str(error)``:
``repr(message)`` for a ``gr.Error``, the plain-text alternative for the runtime's
``HTMLError``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

PRO_QUOTA_MINUTES = 40
EXAMPLES_RETRY = "Try re-running outside of examples if it happened after clicking one"
NO_GPU = "No GPU was available"
NO_GPU_IN_QUEUE = "No GPU was available after 60s"
SIGNUP_URL = "https://huggingface.co/join"
SUBSCRIBE_URL = {"0.51": "https://huggingface.co/subscribe/pro?from=ZeroGPU",
                 "0.47": "https://huggingface.co/settings/billing/subscription"}
TOKENS_URL = "https://huggingface.co/settings/tokens"
ADD_CREDITS_URL = "https://huggingface.co/settings/billing?add-credits=true"
LINK_STYLE = "white-space: nowrap;text-underline-offset: 2px;color: var(--body-text-color)"

QUOTA_TITLE = "ZeroGPU quota exceeded"
CLIENT_ERROR = "ZeroGPU client error"
WORKER_ERROR = "ZeroGPU worker error"

# Log messages (title, message, level): gr.Info / gr.Success / gr.Warning in the runtime.
WAITING_LOG = ("ZeroGPU queue", "Waiting for a GPU to become available", "info")
ACQUIRED_LOG = ("ZeroGPU queue", "Successfully acquired a GPU", "success")
DURATION_LOG = ("ZeroGPU duration",
                "GPU task is exceeding its requested duration and might be aborted", "warning")


def fallback_log(reason: str) -> tuple[str, str, str]:
    """Logged when the X-IP-Token carries an ``error`` (the proxy could not use the token)."""
    return ("ZeroGPU client warning", f"Falling back to IP-based quotas ({reason})", "warning")


@dataclass(frozen=True)
class Caller:
    """What the runtime knows about a call: the token's auth level and who is calling."""

    auth: str | None  # None (anonymous), "regular" or "pro", as the device API says
    has_token: bool = True  # an X-IP-Token reached the app
    api_call: bool = True  # ``x-gradio-user`` is not "app" (not the Space's own web page)


@dataclass(frozen=True)
class Failure:
    """One error the runtime raises: ``gr.Error(message, title=title)``."""

    title: str
    message: str
    html: bool = False  # raised as the runtime's HTMLError (str() is the plain text)
    text: str | None = None  # plain-text alternative of an HTML message

    @property
    def gradio51(self) -> str:
        """The ``error`` field gradio 5.1.0 sends: ``str(error)``, and no title."""
        if self.html:
            return self.text if self.text is not None else self.message
        return repr(self.message)


def wait_text(seconds: float) -> str:
    """``str(timedelta)`` as in ``Try again in 0:09:48`` (``1 day, 0:00:00`` past a day)."""
    return str(timedelta(seconds=max(0, int(seconds + 0.999))))


def _api_hint(version: str, caller: Caller) -> str:
    if version != "0.51" or not caller.api_call:
        return ""
    if caller.auth is None:
        return f"Authenticate with a Hugging Face token for more quota - {TOKENS_URL}"
    if caller.auth == "regular":
        return (f"Subscribe to Hugging Face PRO to get {PRO_QUOTA_MINUTES} min of ZeroGPU quota"
                f" a day - {SUBSCRIBE_URL[version]}")
    return ("Add credits to keep using ZeroGPU. $1 for 10 minutes of ZeroGPU inference - "
            f"{ADD_CREDITS_URL}")


def gpu_limit() -> Failure:
    """Quota refused for a call without any X-IP-Token (charged to the Space itself)."""
    return Failure(QUOTA_TITLE, f"Space app has reached its GPU limit. {EXAMPLES_RETRY}")


def quota(version: str, caller: Caller, requested: int, left: int, wait: float) -> Failure:
    if not caller.has_token:
        return gpu_limit()
    if version == "0.51":
        label = {"pro": "Pro ZeroGPU", "regular": "free ZeroGPU"}.get(caller.auth or "", "ZeroGPU")
        message = (f"You have exceeded your {label} quota ({requested}s requested vs. {left}s "
                   f"left). Try again in {wait_text(wait)}. ")
        return Failure(QUOTA_TITLE, message + _api_hint(version, caller))
    label = {"pro": "Pro GPU", "regular": "free GPU"}.get(caller.auth or "", "GPU")
    gui = (f"You have exceeded your {label} quota ({requested}s requested vs. {left}s left). "
           f"Try again in {wait_text(wait)}")
    if caller.auth is None:
        text = ("Unlogged user is runnning out of daily ZeroGPU quotas. Signup for free on "
                "https://huggingface.co/join or login on https://huggingface.co/login to get "
                "more ZeroGPU quota now.")
    elif caller.auth == "regular":
        text = ("User is runnning out of daily ZeroGPU quotas. Visit "
                "https://huggingface.co/subscribe/pro to get more ZeroGPU quota now.")
    else:
        text = gui
    return Failure(QUOTA_TITLE, gui, html=True, text=text)


def runs_limit(version: str, caller: Caller) -> Failure:
    """The device API's ``wait == 0`` answer (reachable from 0.51 on)."""
    if not caller.has_token:
        return gpu_limit()
    if version == "0.51":
        message = "You have exceeded your ZeroGPU runs limit. " + _api_hint(version, caller)
        return Failure(QUOTA_TITLE, message)
    return Failure(QUOTA_TITLE, "You have exceeded your runs limit.", html=True)


def illegal_duration(version: str, caller: Caller, requested: int) -> Failure:
    message = f"The requested GPU duration ({requested}s) is larger than the maximum allowed"
    if version == "0.51" and caller.api_call and caller.auth != "pro":
        # No separating space: the runtime concatenates the two sentences as is.
        message += (f"Subscribe to Hugging Face PRO to allow GPU tasks up to {PRO_QUOTA_MINUTES}"
                    f" min - {SUBSCRIBE_URL[version]}")
    return Failure("ZeroGPU illegal duration", message)


def pending_credits() -> Failure:
    return Failure("ZeroGPU pending credits exceeded",
                   "You have too many ZeroGPU credits allocated to running tasks. "
                   "Try again once some of those tasks have completed.")


def queue_timeout(version: str, caller: Caller) -> Failure:
    """No GPU within 60 s of waiting in the ZeroGPU queue."""
    if not caller.has_token:
        return Failure(QUOTA_TITLE, f"{NO_GPU_IN_QUEUE}. {EXAMPLES_RETRY}")
    if caller.auth == "pro":
        return Failure("ZeroGPU queue timeout", f"{NO_GPU_IN_QUEUE}. Retry later", html=True,
                       text=f"{NO_GPU_IN_QUEUE} Retry later")
    link, label, desc = (
        (SIGNUP_URL, "Create a free account", "to get a higher") if caller.auth is None
        else (SUBSCRIBE_URL[version], "Subscribe to Pro", "to get the highest")
    )
    desc += " priority in ZeroGPU queues."
    html = f'{NO_GPU_IN_QUEUE}. <a style="{LINK_STYLE}" href="{link}">{label}</a> {desc}'
    return Failure("ZeroGPU queue timeout", html, html=True,
                   text=f"{NO_GPU_IN_QUEUE} [{label}]({link}) {desc}")


def no_gpu() -> Failure:
    """The scheduler answered 503."""
    return Failure(CLIENT_ERROR, NO_GPU)


def expired_token() -> Failure:
    """The scheduler answered 401 (the X-IP-Token expired)."""
    return Failure(CLIENT_ERROR, "Expired ZeroGPU proxy token")


def internal_error() -> Failure:
    """``gr.Request`` without usable headers."""
    return Failure(CLIENT_ERROR, "Internal Gradio error")


def worker_error(exception_class: str) -> Failure:
    """The function raised inside the GPU worker: the message is the exception's class name."""
    return Failure(WORKER_ERROR, exception_class)


def aborted() -> Failure:
    """The GPU worker died (killed past its duration, out of memory...)."""
    return Failure(WORKER_ERROR, "GPU task aborted")
