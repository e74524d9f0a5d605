"""Helpers for the LlamaIndex tests. Every fixture here talks to the session replica."""

from __future__ import annotations

from typing import Any

import pytest
from llama_index_hfspaces import HFSpacesLLM


@pytest.fixture
def phi4(fresh_replica: Any) -> HFSpacesLLM:
    """Phi-4 with no arguments: HFSPACES_ENDPOINTS (set by the session) points at the replica."""
    return HFSpacesLLM()


@pytest.fixture
def janus(fresh_replica: Any) -> HFSpacesLLM:
    return HFSpacesLLM(model="janus-pro-7b")


@pytest.fixture
def janus_image(fresh_replica: Any) -> HFSpacesLLM:
    return HFSpacesLLM(model="janus-pro-7b-image", num_images=2, seed=7)
