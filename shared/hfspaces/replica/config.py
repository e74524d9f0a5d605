"""Configuration of the replica: the Spaces it serves and the knobs of its behaviour."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

JANUS_SPACE = "deepseek-ai/Janus-Pro-7B"
PHI4_SPACE = "microsoft/phi-4-multimodal"
# Space shapes users reach for (made-up ids under one owner; see README "Any Space").
FLUX_SPACE = "hfspaces-replica/FLUX.1-schnell"
STT_SPACE = "hfspaces-replica/whisper"
TTS_SPACE = "hfspaces-replica/kokoro-tts"
CHAT_SPACE = "hfspaces-replica/multimodal-chat"
SHAPE_SPACES: tuple[str, ...] = (FLUX_SPACE, STT_SPACE, TTS_SPACE, CHAT_SPACE)
SPACES: tuple[str, ...] = (JANUS_SPACE, PHI4_SPACE, *SHAPE_SPACES)

# Spaces whose README declares ``sdk_version: 5.1.0``: ``gradio_errors="5.1"`` serves their
# errors and ZeroGPU logs the way gradio 5.1.0 does (no titles, ``repr`` of the message).
GRADIO_5_1_SPACES: frozenset[str] = frozenset({JANUS_SPACE})

# ``gradio_errors`` values: the installed gradio's own error payloads, or gradio 5.1.0's.
GRADIO_ERRORS = ("installed", "5.1")
# ``spaces_version`` values: the ZeroGPU runtime's wording (0.51.x latest; 0.37-0.47 older).
SPACES_VERSIONS = ("0.51", "0.47")

# Declared ZeroGPU durations per function (emulated seconds, charged per call).
# Janus-Pro's Space declares @spaces.GPU(duration=120); Phi-4's is unknown, 60 is the default.
DEFAULT_GPU_DURATIONS: dict[str, float] = {
    "multimodal_understanding": 120.0,
    "generate_image": 120.0,
    "chat": 60.0,
}


def space_prefix(space: str) -> str:
    """URL path prefix under which a Space is mounted, e.g. ``/spaces/deepseek-ai/janus-pro-7b``."""
    return "/spaces/" + space.lower()


@dataclass
class ReplicaConfig:
    """Start-up configuration. Behavioural fields can be changed later with ``configure``.

    ``zerogpu=True`` (default) serves the Spaces as a ZeroGPU Space is served: gradio's queue
    with one waiting slot (``queue_max_size`` None means 1), one job per function at a time
    (``concurrency`` None means 1), queued functions refused on ``run/predict`` (``api_open``
    False). ``zerogpu=False`` lifts all three (``concurrency``/``queue_max_size`` None mean
    unlimited). ``service_time``: every GPU call lasts at least that many seconds.
    """

    token_delay: float = 0.0
    answer_words: int | None = None
    phi4_stream: bool = True
    image_size: int = 768
    concurrency: int | None = None
    quota_seconds_anonymous: float = 1_000_000.0
    quota_seconds_authenticated: float = 10_000_000.0
    quota_seconds_pro: float = 100_000_000.0
    quota_enforced: bool = True
    quota_window: float = 86_400.0
    gpu_durations: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_GPU_DURATIONS))
    max_file_size: int | str | None = None
    host: str = "127.0.0.1"
    port: int = 0
    # Hub stub: JWT lifetime, tokens answered 401, tokens that get ``pro: true``.
    jwt_lifetime: float = 3600.0
    jwt_secret: str = "hfspaces-replica-secret"
    bad_tokens: frozenset[str] = frozenset({"hf_invalid", "hf_revoked", "hf_bad"})
    pro_tokens: frozenset[str] = frozenset({"hf_pro"})
    queue_max_size: int | None = None
    zerogpu: bool = True
    service_time: float = 0.0
    # The ``spaces`` runtime: requested seconds = declared duration x duration_factor
    # (0.51: 1.0 on H200 nodes, 1.5 on RTX PRO 6000 Blackwell); above ``max_gpu_duration``
    # (None: no limit; PRO callers are never limited) the call is an illegal duration.
    duration_factor: float = 1.0
    max_gpu_duration: float | None = None
    spaces_version: str = "0.51"
    gradio_errors: str = "installed"
    fault_seed: int = 0
    startup_timeout: float = 30.0
    stop_timeout: float = 5.0

    def replace(self, **changes: object) -> ReplicaConfig:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]
