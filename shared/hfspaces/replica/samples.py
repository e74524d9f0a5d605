"""Bundled sample media (a small PNG and a short WAV), regenerated if missing."""

from __future__ import annotations

from pathlib import Path

from .backends import make_sample_image, make_wav

ASSETS = Path(__file__).resolve().parent / "assets"


def sample_image_path() -> Path:
    path = ASSETS / "sample.png"
    if not path.exists():
        ASSETS.mkdir(parents=True, exist_ok=True)
        make_sample_image().save(path, format="PNG")
    return path


def sample_wav_path() -> Path:
    path = ASSETS / "clip.wav"
    if not path.exists():
        ASSETS.mkdir(parents=True, exist_ok=True)
        path.write_bytes(make_wav())
    return path
