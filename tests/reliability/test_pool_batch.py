"""Batches over a pool with injected faults (replica/faults.py, seeded): LangChain
`abatch(max_concurrency=...)` and LlamaIndex `asyncio.gather` over three real replicas end
with a result or a typed error per item, never hang, and leave no task, connection or
file descriptor behind."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from hfspaces import SpaceError
from hfspaces.replica import PHI4_SPACE
from pool_support import replicas, urls
from rel_support import open_fds, until

ITEMS = 60
PER_COPY = 2  # a ZeroGPU copy: one running, one waiting
FAULTS = {
    "fault_seed": 14,
    "join_status": 502,
    "join_fail_rate": 0.05,
    "cut_stream_after": 1,
    "cut_stream_rate": 0.05,
    "app_error": True,
    "app_error_rate": 0.03,
}


@pytest.fixture(scope="module")
def faulty() -> Any:
    with replicas(3, answer_words=4) as reps:
        for rep in reps:
            rep.configure(**FAULTS)
        yield reps


def settled(baseline: set[asyncio.Task[Any]]) -> bool:
    me = asyncio.current_task()
    return not [t for t in asyncio.all_tasks() if t not in baseline and t is not me]


async def test_langchain_abatch_with_faults(faulty: list[Any]) -> None:
    from langchain_core.messages import AIMessage

    from langchain_hfspaces import ChatHFSpaces

    fds, tasks = open_fds(), set(asyncio.all_tasks())
    chat = ChatHFSpaces(model="phi-4", endpoint=urls(faulty, PHI4_SPACE), timeout=60)
    answers = await asyncio.wait_for(
        chat.abatch(
            [f"question {i}" for i in range(ITEMS)],
            config={"max_concurrency": PER_COPY * len(faulty)},
            return_exceptions=True,
        ),
        120,
    )
    await chat.aclose()
    assert len(answers) == ITEMS
    odd = [a for a in answers if not isinstance(a, (AIMessage, SpaceError))]
    assert not odd, odd
    assert sum(isinstance(a, AIMessage) for a in answers) >= ITEMS * 0.8
    served = {a.response_metadata["endpoint"] for a in answers if isinstance(a, AIMessage)}
    assert served == set(urls(faulty, PHI4_SPACE))
    await until(lambda: settled(tasks), "tasks back to the start")
    await until(lambda: open_fds() <= fds, "file descriptors back to the start")


async def test_llamaindex_gather_with_faults(faulty: list[Any]) -> None:
    from llama_index.core.base.llms.types import ChatResponse
    from llama_index.core.llms import ChatMessage

    from llama_index_hfspaces import HFSpacesLLM

    fds, tasks = open_fds(), set(asyncio.all_tasks())
    llm = HFSpacesLLM(model="phi-4", endpoint=urls(faulty, PHI4_SPACE), timeout=60)
    gate = asyncio.Semaphore(PER_COPY * len(faulty))

    async def ask(i: int) -> ChatResponse:
        async with gate:
            return await llm.achat([ChatMessage(role="user", content=f"question {i}")])

    replies = await asyncio.wait_for(
        asyncio.gather(*(ask(i) for i in range(ITEMS)), return_exceptions=True), 120
    )
    await llm.aclose()
    odd = [r for r in replies if isinstance(r, BaseException) and not isinstance(r, SpaceError)]
    assert not odd, odd
    assert sum(isinstance(r, ChatResponse) for r in replies) >= ITEMS * 0.8
    await until(lambda: settled(tasks), "tasks back to the start")
    await until(lambda: open_fds() <= fds, "file descriptors back to the start")
