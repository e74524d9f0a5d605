"""hfspaces: an async streaming client for Hugging Face Spaces (Gradio queue protocol),
with typed events and errors, ZeroGPU identity, and a registry of multimodal models."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .client import SpaceClient
    from .conversation import AudioPart, ImagePart, Message, TextPart
    from .errors import (
        AppError,
        AuthError,
        CancelledJobError,
        ClientClosedError,
        ConnectError,
        DownloadError,
        EndpointMismatchError,
        EndpointNotFoundError,
        GPUCreditsPendingError,
        GPUDurationError,
        GPUQuotaExceededError,
        GPUUnavailableError,
        GPUWorkerError,
        InvalidInputError,
        MediaError,
        ProtocolError,
        QueueFullError,
        RateLimitError,
        ServerError,
        SessionLostError,
        SpaceChangedError,
        SpaceError,
        SpaceTimeoutError,
        UnknownModelError,
        UnsupportedInputError,
        UploadError,
        ZeroGPUTokenExpiredError,
    )
    from .events import (
        Completed,
        Event,
        Log,
        Partial,
        Progress,
        Queued,
        QueueFullWait,
        Rerouted,
        Started,
        TextDelta,
    )
    from .generation import GeneratedImage, Generation, GenerationParams
    from .job import Job
    from .media import Media
    from .models import MODELS, ModelSpec, get_model
    from .schema import EndpointSchema, Parameter, SpaceSchema
    from .secret import Secret
    from .space_model import SpaceModel
    from .transport import Timeouts

# The public names load on first use (PEP 562): `import hfspaces` stays cheap, and a name
# costs its module's imports (aiohttp for the client) only when it is used.
_LAZY: dict[str, str] = {
    "AppError": "errors",
    "AudioPart": "conversation",
    "AuthError": "errors",
    "CancelledJobError": "errors",
    "ClientClosedError": "errors",
    "Completed": "events",
    "ConnectError": "errors",
    "DownloadError": "errors",
    "EndpointMismatchError": "errors",
    "EndpointNotFoundError": "errors",
    "EndpointSchema": "schema",
    "Event": "events",
    "GPUCreditsPendingError": "errors",
    "GPUDurationError": "errors",
    "GPUQuotaExceededError": "errors",
    "GPUUnavailableError": "errors",
    "GPUWorkerError": "errors",
    "GeneratedImage": "generation",
    "Generation": "generation",
    "GenerationParams": "generation",
    "ImagePart": "conversation",
    "InvalidInputError": "errors",
    "Job": "job",
    "Log": "events",
    "MODELS": "models",
    "Media": "media",
    "MediaError": "errors",
    "Message": "conversation",
    "ModelSpec": "models",
    "Parameter": "schema",
    "Partial": "events",
    "Progress": "events",
    "ProtocolError": "errors",
    "QueueFullError": "errors",
    "Queued": "events",
    "QueueFullWait": "events",
    "RateLimitError": "errors",
    "Rerouted": "events",
    "Secret": "secret",
    "ServerError": "errors",
    "SessionLostError": "errors",
    "SpaceChangedError": "errors",
    "SpaceClient": "client",
    "SpaceError": "errors",
    "SpaceModel": "space_model",
    "SpaceSchema": "schema",
    "SpaceTimeoutError": "errors",
    "Started": "events",
    "TextDelta": "events",
    "TextPart": "conversation",
    "Timeouts": "transport",
    "UnknownModelError": "errors",
    "UnsupportedInputError": "errors",
    "UploadError": "errors",
    "ZeroGPUTokenExpiredError": "errors",
    "get_model": "models",
}

__version__ = "0.1.0"

__all__ = [
    "MODELS",
    "AppError",
    "AudioPart",
    "AuthError",
    "CancelledJobError",
    "ClientClosedError",
    "Completed",
    "ConnectError",
    "DownloadError",
    "EndpointMismatchError",
    "EndpointNotFoundError",
    "EndpointSchema",
    "Event",
    "GPUCreditsPendingError",
    "GPUDurationError",
    "GPUQuotaExceededError",
    "GPUUnavailableError",
    "GPUWorkerError",
    "GeneratedImage",
    "Generation",
    "GenerationParams",
    "ImagePart",
    "InvalidInputError",
    "Job",
    "Log",
    "Media",
    "MediaError",
    "Message",
    "ModelSpec",
    "Parameter",
    "Partial",
    "Progress",
    "ProtocolError",
    "QueueFullError",
    "QueueFullWait",
    "Queued",
    "RateLimitError",
    "Rerouted",
    "Secret",
    "ServerError",
    "SessionLostError",
    "SpaceChangedError",
    "SpaceClient",
    "SpaceError",
    "SpaceModel",
    "SpaceSchema",
    "SpaceTimeoutError",
    "Started",
    "TextDelta",
    "TextPart",
    "Timeouts",
    "UnknownModelError",
    "UnsupportedInputError",
    "UploadError",
    "ZeroGPUTokenExpiredError",
    "get_model",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        try:  # a submodule (`hfspaces.protocol`), as eager imports used to provide
            return importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
