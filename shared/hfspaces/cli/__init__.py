"""The `hfspaces` command line (extra `cli`: typer + rich).

Only this package imports typer and rich; `import hfspaces` stays light.
"""

from __future__ import annotations

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point (`hfspaces = "hfspaces.cli:main"`). Exits the process."""
    from .app import app

    app(args=argv, prog_name="hfspaces")
