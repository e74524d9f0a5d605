"""A pool given through each entry point — `SpaceModel`, `ChatHFSpaces` (with `abatch`),
`HFSpacesImageTool`, `HFSpacesLLM` (async gather), `HFSpacesToolSpec`, the CLI
(`--endpoint` repeated, `hfspaces models --check`) and `HFSPACES_ENDPOINTS` — over two
real replicas; the serving copy shows in each one's result metadata."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hfspaces.replica import JANUS_SPACE, PHI4_SPACE
from pool_support import replicas, urls


@pytest.fixture(scope="module")
def pair() -> Any:
    with replicas(2) as started:
        yield started


def phi4_pool(pair: list[Any]) -> list[str]:
    return urls(pair, PHI4_SPACE)


def janus_pool(pair: list[Any]) -> list[str]:
    return urls(pair, JANUS_SPACE)


async def test_langchain_abatch_over_a_pool(pair: list[Any]) -> None:
    from langchain_core.messages import AIMessage

    from langchain_hfspaces import ChatHFSpaces

    chat = ChatHFSpaces(model="phi-4", endpoint=phi4_pool(pair), timeout=60)
    try:
        answers = await chat.abatch(
            [f"question {i}" for i in range(8)], config={"max_concurrency": 4}
        )
    finally:
        await chat.aclose()
    assert all(isinstance(a, AIMessage) and a.content for a in answers)
    served = {a.response_metadata["endpoint"] for a in answers}
    assert served <= set(phi4_pool(pair)) and len(served) == 2


async def test_langchain_image_tool_over_a_pool(pair: list[Any]) -> None:
    from langchain_hfspaces import HFSpacesImageTool

    tool = HFSpacesImageTool(endpoint=janus_pool(pair), timeout=60)
    try:
        out = await tool.ainvoke({"prompt": "a fox", "num_images": 1})
    finally:
        await tool.aclose()
    assert out


async def test_llamaindex_gather_over_a_pool(pair: list[Any], tmp_path: Path) -> None:
    from llama_index.core.llms import ChatMessage

    from llama_index_hfspaces import HFSpacesLLM, HFSpacesToolSpec

    llm = HFSpacesLLM(model="phi-4", endpoint=phi4_pool(pair), timeout=60)
    try:
        replies = await asyncio.gather(
            *(llm.achat([ChatMessage(role="user", content=f"q{i}")]) for i in range(6))
        )
    finally:
        await llm.aclose()
    served = {r.raw["endpoint"] for r in replies}
    assert served <= set(phi4_pool(pair)) and len(served) == 2

    spec = HFSpacesToolSpec(endpoint=janus_pool(pair), timeout=60, output_dir=tmp_path)
    try:
        blocks = await spec.agenerate_image("a fox", num_images=1)
    finally:
        await spec.aclose()
    assert len(blocks) == 2 and any(os.scandir(tmp_path))


def cli_env(**extra: str) -> dict[str, str]:
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root / "shared"), str(root)])}
    return {**env, "COLUMNS": "200", **extra}


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`python -m hfspaces.cli`, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "hfspaces.cli", *args],
        env=env or cli_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_cli_endpoint_repeated_and_models_check(pair: list[Any]) -> None:
    first, second = phi4_pool(pair)
    result = run_cli("chat", "hi", "--endpoint", first, "--endpoint", second, "--json", "-q")
    assert result.returncode == 0, result.stderr
    done = json.loads(result.stdout.splitlines()[-1])
    assert done["event"] == "done" and done["endpoint"] in (first, second)

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}"
    env = cli_env(
        HFSPACES_ENDPOINTS=f"{JANUS_SPACE}={janus_pool(pair)[0]}|{dead}|{phi4_pool(pair)[0]}"
    )
    result = run_cli("models", "--check", "--json", env=env)
    assert result.returncode == 0, result.stderr
    janus = next(json.loads(line) for line in result.stdout.splitlines() if "janus-pro-7b" in line)
    states = {e["endpoint"]: e["state"] for e in janus["endpoints"]}
    assert states == {
        janus_pool(pair)[0]: "ready",
        dead: "unreachable",
        phi4_pool(pair)[0]: "refused",
    }
    table = run_cli("models", "--check", env=env)
    assert "unreachable" in table.stdout and "refused" in table.stdout

    info = run_cli("info", JANUS_SPACE, "--json", env=env)  # schema of the first copy
    assert info.returncode == 0, info.stderr
    copies = json.loads(info.stdout)["copies"]
    assert [c["state"] for c in copies] == ["ready", "unreachable", "refused"]
    assert "unreachable" in run_cli("info", JANUS_SPACE, env=env).stdout


async def test_space_tools_over_a_pool(pair: list[Any]) -> None:
    """`HFSpacesTool.from_space([copy, copy])`: calls spread over both copies, and each
    result names the copy that ran it."""
    from hfspaces.replica.config import FLUX_SPACE

    from langchain_hfspaces import HFSpacesTool

    copies = urls(pair, FLUX_SPACE)
    tool = await HFSpacesTool.afrom_space(copies, timeout=60)
    try:
        calls = [
            {"type": "tool_call", "id": f"c{i}", "name": tool.name, "args": {"prompt": f"p{i}"}}
            for i in range(6)
        ]
        messages = await asyncio.gather(*(tool.ainvoke(c) for c in calls))
    finally:
        await tool.aclose()
    assert all(m.status != "error" for m in messages)
    served = {m.artifact["served_by"] for m in messages}
    assert served == set(copies)


async def test_space_tool_moves_off_a_dead_copy(pair: list[Any]) -> None:
    """A pool with one copy that does not answer: every call is served by the live one,
    and the moves are reported as `Rerouted` status events."""
    from _support import closed_port
    from hfspaces import Rerouted
    from hfspaces.replica.config import FLUX_SPACE
    from hfspaces.space_tool import SpaceConnection

    live = urls(pair, FLUX_SPACE)[0]
    connection = SpaceConnection([f"http://127.0.0.1:{closed_port()}", live], timeout=60)
    seen: list[object] = []
    try:
        (tool,) = await connection.tools(["/infer"])
        results = [await tool.call({"prompt": f"p{i}"}, on_event=seen.append) for i in range(4)]
    finally:
        await connection.aclose()
    assert {r.served_by for r in results} == {live}
    moves = [e for e in seen if isinstance(e, Rerouted)]
    assert all(m.endpoint.startswith("http://127.0.0.1:") and m.endpoint != live for m in moves)
