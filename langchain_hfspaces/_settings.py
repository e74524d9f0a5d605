"""Connection settings the chat model and the tool share, and the lazy `SpaceModel`s."""

from __future__ import annotations

import asyncio
import threading

from hfspaces import SpaceModel, get_model
from langchain_core.utils import secret_from_env
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, SecretStr


class SpaceSettings(BaseModel):
    """Where and as whom to call the Spaces. Nothing here opens a connection."""

    model_config = ConfigDict(populate_by_name=True)

    endpoint: str | list[str] | dict[str, str | list[str]] | None = None
    """A Space id or base URL (duplicated Space, self-hosted Gradio, the replica), a list
    of them (a pool of copies of one Space: jobs are spread and moved off failing copies),
    or a mapping from Space id / model id to either. Default: the `HFSPACES_ENDPOINTS`
    environment mapping, else the model's public Space."""

    api_key: SecretStr | None = Field(
        default_factory=secret_from_env(["HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"], default=None),
        alias="hf_token",
    )
    """Hugging Face token (ZeroGPU quota is charged to it). Default: `HF_TOKEN`."""

    hub_url: str | None = None
    """The Hub that issues ZeroGPU tokens. Default: `HF_ENDPOINT`, else huggingface.co."""

    timeout: float | None = None
    """Overall deadline of one call in seconds (queue wait included). None: 600 s."""

    max_retries: int = 3
    """Retries of transient failures (429/5xx, connection errors) per request."""

    max_quota_wait: float = 0.0
    """Seconds to wait and retry when the ZeroGPU quota is exhausted (0: fail at once
    with `GPUQuotaExceededError`, which says when to come back)."""

    _space_models: dict[str, SpaceModel] = PrivateAttr(default_factory=dict)
    _space_models_lock: threading.Lock = PrivateAttr(default_factory=threading.Lock)

    def _space_model(self, model: str) -> SpaceModel:
        """The `SpaceModel` for `model`, created on first use (it keeps one HTTP session
        per event loop, so calls reuse connections)."""
        spec = get_model(model)
        with self._space_models_lock:
            space_model = self._space_models.get(spec.id)
            if space_model is None:
                space_model = SpaceModel(
                    spec,
                    endpoint=self.endpoint,
                    hf_token=self.api_key,
                    hub_url=self.hub_url,
                    timeout=self.timeout,
                    max_retries=self.max_retries,
                    max_quota_wait=self.max_quota_wait,
                )
                # (SpaceModel itself closes its background-loop session at exit.)
                self._space_models[spec.id] = space_model
        return space_model

    async def aclose(self) -> None:
        """Close the HTTP sessions this object opened in the running event loop."""
        await asyncio.gather(*(m.aclose() for m in list(self._space_models.values())))
