"""Fixtures of the CLI tests (helpers to run the command live in `cli_helpers`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def slow_replica(fresh_replica: Any) -> Iterator[Any]:
    """The replica, with the behaviour settings a test changes put back afterwards
    (`reset()` clears faults and stats, not `token_delay` / `answer_words`)."""
    yield fresh_replica
    fresh_replica.configure(token_delay=0.0, answer_words=None)


@pytest.fixture
def image_file(tmp_path: Path, png_bytes: bytes) -> Path:
    path = tmp_path / "photo.png"
    path.write_bytes(png_bytes)
    return path


@pytest.fixture
def audio_file(tmp_path: Path, wav_bytes: bytes) -> Path:
    path = tmp_path / "clip.wav"
    path.write_bytes(wav_bytes)
    return path
