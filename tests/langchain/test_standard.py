"""LangChain's own conformance suites for `ChatHFSpaces` and `HFSpacesImageTool`.

Unit suites run with sockets disabled (unix sockets allowed for the event loop);
integration suites talk to the replica over loopback.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import langchain_tests.integration_tests.chat_models as lc_chat_suite
import pytest
from langchain_tests.integration_tests import ChatModelIntegrationTests, ToolsIntegrationTests
from langchain_tests.unit_tests import ChatModelUnitTests, ToolsUnitTests
from media_samples import make_png, make_wav

from langchain_hfspaces import ChatHFSpaces, HFSpacesImageTool


def _local_media(url: str, **_: Any) -> SimpleNamespace:
    """Stand-in for the suite's `httpx.get` of public media: the same kind of file,
    generated locally (there is no internet here, and the replica is local)."""
    if url.endswith(".wav"):
        return SimpleNamespace(content=make_wav(seconds=1.5))
    if url.endswith(".png"):
        return SimpleNamespace(content=make_png(48, 32))
    raise AssertionError(f"the chat model suite downloads an unexpected URL: {url}")


@pytest.fixture
def suite_media(monkeypatch: pytest.MonkeyPatch) -> None:
    # Patch only the suite module's `httpx` name (its image/audio downloads), nothing else.
    monkeypatch.setattr(lc_chat_suite, "httpx", SimpleNamespace(get=_local_media))
    monkeypatch.setenv("LANGCHAIN_TESTS_USER_AGENT", "hfspaces-tests/0.1 (offline)")


# -- chat model ----------------------------------------------------------------


class _Capabilities:
    """Declared honestly: Phi-4 takes images and audio; no tool calling; structured output
    (prompt-based, `method="json_schema"`); Spaces report no token usage."""

    @property
    def chat_model_class(self) -> type[ChatHFSpaces]:
        return ChatHFSpaces

    @property
    def chat_model_params(self) -> dict[str, Any]:
        return {"model": "phi-4"}  # an alias: the suites check it resolves

    @property
    def has_tool_calling(self) -> bool:
        return False

    @property
    def has_structured_output(self) -> bool:
        return True

    @property
    def structured_output_kwargs(self) -> dict[str, Any]:
        return {"method": "json_schema"}

    @property
    def supports_image_inputs(self) -> bool:
        return True

    @property
    def supports_image_urls(self) -> bool:
        # Image URLs are supported (the Space fetches them), but the suite's URL is on
        # GitHub and the offline replica cannot reach it; test_lc_chat covers URLs.
        return False

    @property
    def supports_audio_inputs(self) -> bool:
        return True

    @property
    def returns_usage_metadata(self) -> bool:
        return False

    @property
    def model_override_value(self) -> str:
        return "phi-4-multimodal"


@pytest.mark.usefixtures("no_network")
class TestChatHFSpacesUnit(_Capabilities, ChatModelUnitTests):
    @property
    def standard_chat_model_params(self) -> dict[str, Any]:
        # The suite's defaults set temperature and max_tokens, which Phi-4's Space does not
        # take: ChatHFSpaces refuses them at construction instead of at every call.
        params = super().standard_chat_model_params
        return {k: v for k, v in params.items() if k not in ("temperature", "max_tokens")}

    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return {"HF_TOKEN": "hf_from_env"}, {}, {"api_key": "hf_from_env"}


@pytest.mark.usefixtures("replica", "suite_media")
class TestChatHFSpacesIntegration(_Capabilities, ChatModelIntegrationTests):
    pass


# -- image tool ----------------------------------------------------------------


class _ToolParams:
    @property
    def tool_constructor(self) -> type[HFSpacesImageTool]:
        return HFSpacesImageTool

    @property
    def tool_invoke_params_example(self) -> dict[str, Any]:
        return {"prompt": "a lighthouse at dusk", "seed": 7, "num_images": 2}


@pytest.mark.usefixtures("no_network")
class TestImageToolUnit(_ToolParams, ToolsUnitTests):
    @property
    def init_from_env_params(self) -> tuple[dict[str, str], dict[str, Any], dict[str, Any]]:
        return {"HF_TOKEN": "hf_from_env"}, {}, {"api_key": "hf_from_env"}


@pytest.mark.usefixtures("replica")
class TestImageToolIntegration(_ToolParams, ToolsIntegrationTests):
    pass
