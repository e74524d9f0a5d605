"""`Secret`: holds the HF token so that it never prints (repr, str, logs, tracebacks)."""

from __future__ import annotations

import os
from typing import Any


class MaskedStr(str):
    """A header value that is sent as it is but never shown by `repr`."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "'**********'"


class Secret:
    """A string that masks itself. Accepts pydantic's `SecretStr` too."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def get_secret_value(self) -> str:
        return self._value

    def header(self, prefix: str = "") -> str:
        """`prefix + value` for an HTTP header: a real `str` on the wire, masked in `repr`,
        so a traceback printed with its locals (pytest -l, error trackers) does not show it."""
        return MaskedStr(prefix + self._value)

    def __repr__(self) -> str:
        return "Secret('**********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> Any:  # pickling would put the token on disk in clear
        raise TypeError("a Secret cannot be pickled")

    @classmethod
    def coerce(cls, value: Any) -> Secret | None:
        """From a str, a `Secret`, a pydantic `SecretStr`, None or "" (then `HF_TOKEN`),
        or False (anonymous on purpose, whatever the environment says)."""
        if value is False:
            return None
        if value is None or value == "":
            env = os.environ.get("HF_TOKEN") or os.environ.get("HUGGING_FACE_HUB_TOKEN")
            return cls(env) if env else None
        if isinstance(value, Secret):
            return value
        getter = getattr(value, "get_secret_value", None)
        raw = getter() if callable(getter) else value
        if not isinstance(raw, str):
            raise TypeError("hf_token must be a string or a SecretStr")
        return cls(raw) if raw else None
