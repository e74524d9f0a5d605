"""One hierarchy of errors: everything a Space call can raise derives from `SpaceError`.

Bad input is a `ValueError` subclass (`InvalidInputError`) raised before any request.
Every message says what happened and what the caller can do about it.
"""

from __future__ import annotations

from datetime import timedelta


class SpaceError(Exception):
    """Base class of every error a Space call raises (bad input excepted)."""

    #: Whether calling again later can reasonably succeed.
    retryable: bool = False

    def __init__(self, message: str, *, space: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.space = space

    def __str__(self) -> str:
        return f"{self.message} [space: {self.space}]" if self.space else self.message


class InvalidInputError(ValueError):
    """The request cannot be sent as given (raised before any network I/O)."""


class UnknownModelError(InvalidInputError):
    """The model name is not in the registry."""


class UnsupportedInputError(InvalidInputError):
    """The chosen model cannot take this kind of input (e.g. audio for Janus)."""


class MediaError(InvalidInputError):
    """Media could not be read, is too large, or is not what it claims to be."""


class ConnectError(SpaceError):
    """The Space could not be reached (DNS, refused, reset) even after retries."""

    retryable = True


class QueueFullError(SpaceError):
    """The Space's queue stayed full (HTTP 503 on join) until `max_queue_wait` or the
    call's deadline."""

    retryable = True


class RateLimitError(SpaceError):
    """The Space or the Hub answered 429 Too Many Requests; retries ran out."""

    retryable = True

    def __init__(
        self, message: str, *, space: str | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, space=space)
        self.retry_after = retry_after


class ServerError(SpaceError):
    """The Space answered with an unexpected HTTP status."""

    def __init__(self, message: str, *, space: str | None = None, status: int | None = None):
        super().__init__(message, space=space)
        self.status = status
        self.retryable = status in (500, 502, 503, 504) if status is not None else False


class AuthError(SpaceError):
    """The Hub or the Space refused our identity (bad or missing token, private Space)."""


class EndpointNotFoundError(SpaceError):
    """The Space has no endpoint of that name."""

    def __init__(self, message: str, *, space: str | None = None, available: list[str]):
        super().__init__(message, space=space)
        self.available = available


class AppError(SpaceError):
    """The Space's function raised (gr.Error or an exception inside the app)."""

    def __init__(self, message: str, *, space: str | None = None, title: str | None = None):
        super().__init__(message, space=space)
        self.title = title


class GPUQuotaExceededError(AppError):
    """ZeroGPU quota exhausted for this identity. `retry_after` is parsed from the message."""

    retryable = True

    def __init__(
        self,
        message: str,
        *,
        space: str | None = None,
        title: str | None = None,
        retry_after: timedelta | None = None,
    ) -> None:
        super().__init__(message, space=space, title=title)
        self.retry_after = retry_after


class GPUUnavailableError(AppError):
    """No ZeroGPU worker was free in time, or the Space hit its GPU limit."""

    retryable = True


class GPUDurationError(AppError):
    """The Space asks for more GPU seconds per call than this caller may request
    (ZeroGPU "illegal duration"); retrying as the same caller cannot help."""


class GPUCreditsPendingError(AppError):
    """Too many of this caller's ZeroGPU tasks run at once ("pending credits"): retry
    once some have finished."""

    retryable = True


class GPUWorkerError(AppError):
    """The ZeroGPU worker crashed or aborted the task."""


class ZeroGPUTokenExpiredError(AppError):
    """The ZeroGPU proxy token expired; the client refreshes it and retries once."""

    retryable = True


class SessionLostError(SpaceError):
    """The server dropped our session (restart, expiry) or cut the stream mid-answer."""

    retryable = True
    #: The job had already sent output: running it again would run it twice.
    after_output: bool = False


class EndpointMismatchError(SpaceError):
    """A copy in a pool of endpoints does not serve the same app as the others (another
    endpoint name or other inputs); it is refused and the message names the difference."""


class ProtocolError(SpaceError):
    """The Space sent something that does not follow the Gradio protocol."""


class SpaceChangedError(ProtocolError):
    """The Space's API no longer has the shape an adapter relies on; the message says
    what changed (inputs, outputs, a new input without a default)."""


class SpaceTimeoutError(SpaceError, TimeoutError):
    """A wait ran past its bound (connect, idle stream, or overall deadline)."""

    retryable = True


class UploadError(SpaceError):
    """A file upload was refused (too large: HTTP 413, or another error)."""


class DownloadError(SpaceError):
    """An output file could not be downloaded, or is larger than the cap."""


class ClientClosedError(SpaceError):
    """The client was closed (`aclose()`); create a new one to make more calls."""


class CancelledJobError(SpaceError):
    """The job was cancelled (by us or on the server) before it produced a result."""
