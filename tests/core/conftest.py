"""Fixtures of the core tests (helpers live in `_support.py`)."""

from __future__ import annotations

from _support import traced

__all__ = ["traced"]
