"""What a framework wrapper keeps of its settings at run time.

A wrapper's settings are its state: the `SpaceModel`s it calls are derived from the current
settings (rebuilt when any of them changes) and owned by one wrapper instance, so a copy,
a `model_copy(update=...)` or a `configurable_fields` variant never shares sessions with
the object it came from. Building a `SpaceModel` does no I/O, so rebuilding is cheap.

Pickles never hold the token (`token_for_pickle`).
"""

from __future__ import annotations

import copy
import os
import threading
import weakref
from collections.abc import Mapping
from typing import Any, Literal

from .models import ModelSpec, get_model
from .space_model import SpaceModel

TOKEN_ENV = ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN")


class ModelCache:
    """The `SpaceModel`s one wrapper instance built for its current settings, by model spec
    (a chat Space's spec carries its `api_name`: changing it is a change of model).

    Copies (`copy`, `deepcopy`, pickle) start empty, and a cache found on another owner
    (pydantic's shallow `model_copy` shares private attributes) is replaced, not shared."""

    def __init__(self, owner: object | None = None) -> None:
        self._owner = weakref.ref(owner) if owner is not None else None
        self._settings: dict[str, Any] | None = None
        self._models: dict[tuple[str, str | None], SpaceModel] = {}
        self._lock = threading.Lock()

    @classmethod
    def owned(cls, owner: object, cache: ModelCache | None) -> ModelCache:
        """`cache` if it belongs to `owner`, else a new empty cache for it."""
        if cache is not None and cache._owner is not None and cache._owner() is owner:
            return cache
        return cls(owner)

    def get(self, model: str | ModelSpec, settings: Mapping[str, Any]) -> SpaceModel:
        """The model for these settings, built on first use. A change of any setting
        drops the models built for the old ones (their sessions close when collected)."""
        spec = get_model(model)
        with self._lock:
            # Plain equality (tokens compare by value); cheaper than building a key per call.
            if settings != self._settings:
                self._settings, self._models = snapshot(settings), {}
            key = (spec.id, spec.api_name)
            space_model = self._models.get(key)
            if space_model is None:
                space_model = self._models[key] = SpaceModel(spec, **settings)
            return space_model

    def models(self) -> list[SpaceModel]:
        with self._lock:
            return list(self._models.values())

    async def aclose(self) -> None:
        """Close the sessions these models opened in the running event loop."""
        for space_model in self.models():
            await space_model.aclose()

    def __copy__(self) -> ModelCache:
        return ModelCache()

    def __deepcopy__(self, memo: dict[int, Any]) -> ModelCache:
        return ModelCache()

    def __reduce__(self) -> tuple[type[ModelCache], tuple[()]]:
        return ModelCache, ()


def snapshot(settings: Mapping[str, Any]) -> dict[str, Any]:
    """The settings as they are now: a mapping or list (an endpoint mapping, a pool) is
    copied, so changing it in place later is seen as a change."""
    return {k: copy.copy(v) if isinstance(v, (dict, list)) else v for k, v in settings.items()}


def token_for_pickle(token: Any) -> Literal[False] | None:
    """What a pickle keeps of a wrapper's token: never the token itself.

    None (no token, or the environment's `HF_TOKEN`): the unpickled copy reads `HF_TOKEN`
    again, in the process that unpickles it. False: anonymous on purpose, kept. A token
    passed explicitly that is not the environment's cannot come back from a pickle, so
    pickling refuses rather than let the copy switch identity silently."""
    if token is None or token is False:
        return token
    getter = getattr(token, "get_secret_value", None)
    value = getter() if callable(getter) else token
    if not value:
        return None
    if value == env_token():
        return None
    raise TypeError(
        "this object holds a Hugging Face token that did not come from HF_TOKEN, and a "
        "pickle never stores the token: set HF_TOKEN in every process that unpickles it "
        "and build the object without hf_token (the copy reads HF_TOKEN again), or pass "
        "hf_token=False for anonymous calls"
    )


def env_token() -> str | None:
    for name in TOKEN_ENV:
        value = os.environ.get(name)
        if value:
            return value
    return None
