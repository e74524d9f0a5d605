"""Embedded replica of the two Hugging Face ZeroGPU Spaces the client talks to.

``Replica`` (gradio, uvicorn) is imported lazily so that ``ReplicaConfig`` and the Space ids
are cheap to import.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from .config import JANUS_SPACE, PHI4_SPACE, SPACES, ReplicaConfig

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")

if TYPE_CHECKING:
    from .server import Replica

__all__ = ["JANUS_SPACE", "PHI4_SPACE", "SPACES", "Replica", "ReplicaConfig", "main"]


def __getattr__(name: str) -> Any:
    if name == "Replica":
        from .server import Replica

        return Replica
    if name == "main":
        from .cli import main

        return main
    raise AttributeError(name)
