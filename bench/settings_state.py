"""Issue 12: what "settings are state" costs a wrapper call (no network, no replica).

Every ChatHFSpaces / HFSpacesLLM call now fetches its SpaceModel through
`ModelCache.owned(self, ...).get(model, settings)`: a comparison of the current settings
with the ones the model was built for. Peers in the same run:
  - dict lookup by model id (the old per-model cache that ignored setting changes),
  - the keyed, owned lookup (what every call does now),
  - a rebuild (what the first call after a setting change does),
  - one LangChain message conversion (work every call does anyway, for scale).

    PYTHONPATH=shared:. python bench/settings_state.py [--reps 20000]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

from hfspaces import SpaceModel
from hfspaces.settings_cache import ModelCache
from langchain_core.messages import HumanMessage

from langchain_hfspaces import ChatHFSpaces
from langchain_hfspaces._convert import convert_messages


def per_call(fn: Callable[[], object], reps: int) -> float:
    """Median of 5 runs of `reps` calls, in microseconds per call."""
    runs = []
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(reps):
            fn()
        runs.append((time.perf_counter() - start) / reps * 1e6)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=20000)
    reps = parser.parse_args().reps
    llm = ChatHFSpaces(endpoint="http://127.0.0.1:9", hf_token="hf_bench")
    settings = llm._core_settings()
    old_cache = {"phi-4-multimodal": llm._space_model("phi-4")}
    fresh = ModelCache()
    messages = [HumanMessage("hello there, what is in this picture?")]
    rows = {
        "dict lookup by id (old, ignores changes)": lambda: old_cache["phi-4-multimodal"],
        "keyed owned lookup (every call now)": lambda: llm._space_model("phi-4"),
        "rebuild after a change (SpaceModel())": lambda: SpaceModel("phi-4", **settings),
        "convert one message (scale)": lambda: convert_messages(messages),
    }
    del fresh
    times = {name: per_call(fn, reps if "rebuild" not in name else max(1, reps // 20))
             for name, fn in rows.items()}  # fmt: skip
    base = times["keyed owned lookup (every call now)"]
    print(f"settings_state: {reps} calls per run, median of 5, no network")
    print(f"{'measure':45} {'µs/call':>9} {'× keyed lookup':>15}")
    for name, value in times.items():
        print(f"{name:45} {value:9.2f} {value / base:15.2f}")


if __name__ == "__main__":
    main()
