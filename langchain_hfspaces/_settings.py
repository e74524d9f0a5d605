"""Connection settings the chat model and the tool share, and the `SpaceModel`s derived
from them (see `hfspaces.settings_cache`: settings are state, copies own their sessions,
pickles never hold the token)."""

from __future__ import annotations

from typing import Any, Literal

from hfspaces import ModelSpec, SpaceModel
from hfspaces.settings_cache import TOKEN_ENV, ModelCache, token_for_pickle
from langchain_core.utils import secret_from_env
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr

_token_from_env = secret_from_env(list(TOKEN_ENV), default=None)


class SpaceSettings(BaseModel):
    """Where and as whom to call the Spaces. Nothing here opens a connection."""

    model_config = ConfigDict(populate_by_name=True)

    endpoint: str | list[str] | dict[str, str | list[str]] | None = None
    """A Space id or base URL (duplicated Space, self-hosted Gradio, the replica), a list
    of them (a pool of copies of one Space: jobs are spread and moved off failing copies),
    or a mapping from Space id / model id to either. Default: the `HFSPACES_ENDPOINTS`
    environment mapping, else the model's public Space."""

    api_key: SecretStr | Literal[False] | None = Field(
        default_factory=_token_from_env, alias="hf_token"
    )
    """Hugging Face token (ZeroGPU quota is charged to it). Default: `HF_TOKEN`. False:
    anonymous, whatever `HF_TOKEN` says. Sent only to a Space's `https://*.hf.space`
    address unless `send_hf_token=True`."""

    send_hf_token: bool | None = None
    """Send the token to an endpoint that is not a Space's `*.hf.space` address (a
    proxy in front of a Space, the replica). None: only to `*.hf.space`."""

    max_queue_wait: float = 600.0
    """Seconds to keep trying while the Space's queue is full (503), inside `timeout`;
    each wait is a `hfspaces_queue_wait` custom event."""

    hub_url: str | None = None
    """The Hub that issues ZeroGPU tokens. Default: `HF_ENDPOINT`, else huggingface.co."""

    timeout: float | None = None
    """Overall deadline of one call in seconds (queue wait included). None: 600 s."""

    max_retries: int = 3
    """Retries of transient failures (429/5xx, connection errors) per request."""

    max_quota_wait: float = 0.0
    """Seconds to wait and retry when the ZeroGPU quota is exhausted (0: fail at once
    with `GPUQuotaExceededError`, which says when to come back)."""

    _models: ModelCache | None = PrivateAttr(default=None)

    def _core_settings(self) -> dict[str, Any]:
        """`SpaceModel`'s keyword arguments from the current settings: the one place a
        setting reaches the core (a new setting is one more entry here)."""
        return {
            "endpoint": self.endpoint,
            "hf_token": self.api_key,
            "hub_url": self.hub_url,
            "timeout": self.timeout,
            "max_retries": self.max_retries,
            "max_quota_wait": self.max_quota_wait,
            "send_hf_token": self.send_hf_token,
            "max_queue_wait": self.max_queue_wait,
        }

    def _space_model(self, model: str | ModelSpec) -> SpaceModel:
        """The `SpaceModel` for `model` under the current settings: built on first use,
        rebuilt after any setting changed, never shared with a copy of this object (it
        keeps one HTTP session per event loop, so calls reuse connections)."""
        self._models = ModelCache.owned(self, self._models)
        return self._models.get(model, self._core_settings())

    async def aclose(self) -> None:
        """Close the HTTP sessions this object opened in the running event loop."""
        if self._models is not None:
            await ModelCache.owned(self, self._models).aclose()

    # -- pickling: never the token ------------------------------------------------------

    def __getstate__(self) -> dict[Any, Any]:
        state = super().__getstate__()
        fields = dict(state["__dict__"])
        # None: the unpickled copy reads HF_TOKEN again; an explicit token that is not
        # HF_TOKEN's refuses (see hfspaces.settings_cache.token_for_pickle).
        fields["api_key"] = token_for_pickle(self.api_key)
        return {**state, "__dict__": fields}

    def __setstate__(self, state: dict[Any, Any]) -> None:
        super().__setstate__(state)
        if self.__dict__.get("api_key") is None:
            self.__dict__["api_key"] = _token_from_env()
