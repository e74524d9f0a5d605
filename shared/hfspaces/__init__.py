"""hfspaces: an async streaming client for Hugging Face Spaces (Gradio queue protocol),
with typed events and errors, ZeroGPU identity, and a registry of multimodal models."""

from __future__ import annotations

from .client import SpaceClient
from .conversation import AudioPart, ImagePart, Message, TextPart
from .errors import (
    AppError,
    AuthError,
    CancelledJobError,
    ClientClosedError,
    ConnectError,
    DownloadError,
    EndpointNotFoundError,
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
    SpaceError,
    SpaceTimeoutError,
    UnknownModelError,
    UnsupportedInputError,
    UploadError,
    ZeroGPUTokenExpiredError,
)
from .events import Completed, Event, Log, Partial, Progress, Queued, Started, TextDelta
from .generation import GeneratedImage, Generation, GenerationParams
from .job import Job
from .media import Media
from .models import MODELS, ModelSpec, get_model
from .secret import Secret
from .space_model import SpaceModel
from .transport import Timeouts

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
    "EndpointNotFoundError",
    "Event",
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
    "Partial",
    "Progress",
    "ProtocolError",
    "QueueFullError",
    "Queued",
    "RateLimitError",
    "Secret",
    "ServerError",
    "SessionLostError",
    "SpaceClient",
    "SpaceError",
    "SpaceModel",
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
