"""Small builders shared by the LlamaIndex tests (imported by name: no fixtures here)."""

from __future__ import annotations

import base64
from typing import Any

from llama_index.core.base.llms.types import ChatMessage, ImageBlock, MessageRole, TextBlock
from llama_index.core.retrievers import BaseRetriever
from llama_index.core.schema import NodeWithScore, QueryBundle


def user(text: str, *blocks: Any) -> ChatMessage:
    return ChatMessage(role=MessageRole.USER, blocks=[TextBlock(text=text), *blocks])


def image(png: bytes) -> ImageBlock:
    return ImageBlock(image=png)


def data_url(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def requests_made(replica: Any) -> tuple[int, int, int]:
    """What reached the replica: queue joins, unqueued predicts, uploads."""
    stats = replica.stats()
    return stats["joins_total"], stats["predicts_total"], stats["uploads"]


def wait_until(condition: Any, what: str, limit: float = 10.0) -> None:
    """Wait for something the server does after we return (a cancel is sent in the
    background). Not a timing assertion: `limit` only bounds a hang."""
    import time

    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting for: {what}")
        time.sleep(0.02)


class FixedRetriever(BaseRetriever):
    """Always returns the same nodes (a stand-in for a vector store: retrieval is not what
    the query-engine tests are about)."""

    def __init__(self, nodes: list[Any]) -> None:
        super().__init__()
        self._nodes = nodes

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return [NodeWithScore(node=node, score=1.0) for node in self._nodes]
