"""`hfspaces demo` (placeholder until the wrappers land)."""

from __future__ import annotations


def demo() -> None:
    """Start the replica and show the product working."""
