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
    """Start-up configuration. Behavioural fields can be changed later with ``configure``."""

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
    fault_seed: int = 0
    startup_timeout: float = 30.0
    stop_timeout: float = 5.0

    def replace(self, **changes: object) -> ReplicaConfig:
        return dataclasses.replace(self, **changes)  # type: ignore[arg-type]
