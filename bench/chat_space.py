"""Any chat Space as a streaming chat model: hfspaces `SpaceModel(space=...)` against
gradio_client's `Client.submit` on the same streaming `gr.ChatInterface` (the replica's
`hfspaces-replica/multimodal-chat`), in the same run.

Measured per call: time to the first piece of answer text, total time, how many text
updates the caller gets, and how many characters of text it is handed (gradio_client
hands over the whole answer so far on every update; hfspaces the new text only).
Replica mode: `zerogpu=False` (no one-slot queue), `token_delay` per word as given.

    PYTHONPATH=shared:. python bench/chat_space.py [--reps 5] [--words 200] [--delay 0.002]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import time
from collections.abc import Callable
from typing import Any

from hfspaces import Message, SpaceModel, TextDelta
from hfspaces.replica import Replica, ReplicaConfig
from hfspaces.replica.config import CHAT_SPACE

Measure = dict[str, float]


async def hfspaces_call(model: SpaceModel) -> Measure:
    start = time.perf_counter()
    first = None
    updates = chars = 0
    async for item in model.stream([Message.user("tell me about this")]):
        if isinstance(item, TextDelta):
            first = first or time.perf_counter() - start
            updates += 1
            chars += len(item.text)
    return {"first": first or 0.0, "total": time.perf_counter() - start,
            "updates": updates, "chars": chars}  # fmt: skip


def gradio_client_call(client: Any) -> Measure:
    start = time.perf_counter()
    first = None
    updates = chars = 0
    seen = ""
    job = client.submit({"text": "tell me about this", "files": []}, api_name="/respond")
    for text in job:  # each update: the whole answer so far
        if isinstance(text, str) and text != seen:
            first = first or time.perf_counter() - start
            updates += 1
            chars += len(text)
            seen = text
    return {"first": first or 0.0, "total": time.perf_counter() - start,
            "updates": updates, "chars": chars}  # fmt: skip


def median(rows: list[Measure], key: str) -> float:
    return statistics.median(r[key] for r in rows)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--words", type=int, default=200)
    parser.add_argument("--delay", type=float, default=0.002)
    args = parser.parse_args()
    config = ReplicaConfig(zerogpu=False, token_delay=args.delay, answer_words=args.words)
    with Replica(config) as replica:
        url = replica.url_for(CHAT_SPACE)
        from gradio_client import Client

        client = Client(url, verbose=False)

        async def ours() -> list[Measure]:
            model = SpaceModel(space=url)
            try:
                await hfspaces_call(model)  # warm: /config, /info, connection
                return [await hfspaces_call(model) for _ in range(args.reps)]
            finally:
                await model.aclose()

        gradio_client_call(client)  # warm
        theirs = [gradio_client_call(client) for _ in range(args.reps)]
        mine = asyncio.run(ours())
        client.close()
    rows: list[tuple[str, str, Callable[[float], str]]] = [
        ("first text (ms)", "first", lambda v: f"{v * 1000:.1f}"),
        ("total (ms)", "total", lambda v: f"{v * 1000:.1f}"),
        ("text updates", "updates", lambda v: f"{v:.0f}"),
        ("characters handed over", "chars", lambda v: f"{v:.0f}"),
    ]
    print(f"replica zerogpu=False, token_delay={args.delay}, answer_words={args.words}, "
          f"reps={args.reps} (medians)")  # fmt: skip
    print(f"{'measure':26} {'hfspaces':>10} {'gradio_client':>14} {'ratio':>7}")
    for label, key, fmt in rows:
        a, b = median(mine, key), median(theirs, key)
        ratio = f"{a / b:.2f}" if b else "-"
        print(f"{label:26} {fmt(a):>10} {fmt(b):>14} {ratio:>7}")


if __name__ == "__main__":
    main()
