"""A query engine answering from an image node with HFSpacesLLM on the replica.

llama-index-core 0.14.25: `RetrieverQueryEngine.from_args(..., multimodal=True)` sends the
retrieved nodes' content blocks (an `ImageBlock` for an `ImageNode`) through `llm.chat`.
A fixed retriever stands in for a vector store: retrieval is not what is under test.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest
from llama_index.core.query_engine import RetrieverQueryEngine
from llama_index.core.schema import ImageNode
from llamaindex_helpers import FixedRetriever

from llama_index_hfspaces import HFSpacesLLM


@pytest.fixture
def image_node(png_bytes: bytes) -> ImageNode:
    return ImageNode(image=base64.b64encode(png_bytes).decode(), metadata={"file": "red.png"})


@pytest.mark.parametrize("model", ["janus-pro-7b", "phi-4-multimodal"])
def test_query_engine_answers_from_an_image_node(
    fresh_replica: Any, image_node: ImageNode, model: str
) -> None:
    engine = RetrieverQueryEngine.from_args(
        FixedRetriever([image_node]), llm=HFSpacesLLM(model=model), multimodal=True
    )
    response = engine.query("Which colour dominates the picture?")
    # The replica describes the image it was sent: the answer comes from the image node.
    assert "32×24 image, mostly red and white" in str(response)
    assert response.source_nodes[0].node is image_node


async def test_streaming_async_query_engine(fresh_replica: Any, image_node: ImageNode) -> None:
    engine = RetrieverQueryEngine.from_args(
        FixedRetriever([image_node]), llm=HFSpacesLLM(), multimodal=True, streaming=True
    )
    response = await engine.aquery("Which colour dominates the picture?")
    # The synthesizer builds its stream from the chunks' deltas only.
    text = "".join([delta async for delta in response.async_response_gen()])
    assert "Image 1 is a 32×24 image, mostly red and white." in text
