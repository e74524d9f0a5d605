"""Tools from any Space, side by side (issue 13): hfspaces `HFSpacesTool.from_space`,
smolagents `Tool.from_space`, gradio_client `Client.view_api` — on the same local gradio
apps (the FLUX-style `/infer` and Whisper-style `/transcribe` of `tests/space_apps.py`,
plain gradio 6 apps in their own process, no ZeroGPU limits, no replica).

Measures: tool construction time (ms, a fresh client each time: config + API info), schema
quality (how many parameters carry a description, an enum, a default, numeric bounds, of
how many that could), and call latency (ms, same inputs).

smolagents 1.26 calls `gradio_client.Client(..., hf_token=...)`, which gradio_client 2.x
rejects (smolagents#2481): it is measured as installed (it fails) and with a one-line shim
that renames the argument, so its schema and calls can be compared at all.

    bench/.venv/bin/python bench/space_tools.py [--reps 9]   (or: bash bench/run.sh tools)
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "shared"), str(ROOT), str(ROOT / "tests")]
warnings.filterwarnings("ignore")

from media_samples import make_wav  # noqa: E402

SERVE = """
import sys, time
sys.path[:0] = {paths!r}
from space_apps import build_image_app, build_stt_app, serve
with serve(build_image_app()) as a, serve(build_stt_app()) as b:
    print(a, b, flush=True)
    time.sleep(3600)
"""

APPS = {"image": "/infer", "stt": "/transcribe"}
#: What could carry each property, per app (from the apps' own code): parameters with a
#: label or info text / with choices / with a default / with numeric bounds.
POSSIBLE = {
    "image": {"description": 7, "enum": 1, "default": 6, "bounds": 4},
    "stt": {"description": 3, "enum": 2, "default": 2, "bounds": 0},
}


def timed(fn: Callable[[], Any], reps: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(reps):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times) * 1000, result


# -- schema quality ------------------------------------------------------------------------


def quality_hfspaces(schema: dict[str, Any]) -> dict[str, int]:
    props = schema["properties"].values()
    return {
        "description": sum(bool(p.get("description")) for p in props),
        "enum": sum("enum" in p for p in props),
        "default": sum("default" in p for p in props),
        "bounds": sum("minimum" in p or "maximum" in p for p in props),
    }


def quality_view_api(params: list[dict[str, Any]]) -> dict[str, int]:
    def has_enum(t: dict[str, Any]) -> bool:
        return "enum" in t or "enum" in (t.get("items") or {})

    return {
        "description": sum(bool(p.get("label") or p["type"].get("description")) for p in params),
        "enum": sum(has_enum(p["type"]) for p in params),
        "default": sum(bool(p.get("parameter_has_default")) for p in params),
        # ranges only as text ("numeric value between 0 and 2147483647")
        "bounds": sum("minimum" in p["type"] or "maximum" in p["type"] for p in params),
    }


def quality_smolagents(inputs: dict[str, dict[str, Any]]) -> dict[str, int]:
    values = inputs.values()
    return {
        "description": sum(bool(v.get("description")) for v in values),
        "enum": sum("enum" in v for v in values),
        "default": sum("default" in v for v in values),
        "bounds": sum("minimum" in v or "maximum" in v for v in values),
    }


def score(found: dict[str, int], app: str) -> str:
    possible = POSSIBLE[app]
    return ", ".join(f"{k} {found[k]}/{possible[k]}" for k in possible if possible[k])


# -- the three clients ---------------------------------------------------------------------


def shim_gradio_client() -> None:
    """smolagents#2481: rename `hf_token` to `token` for gradio_client 2.x."""
    import gradio_client

    original = gradio_client.Client.__init__

    def init(self: Any, *args: Any, hf_token: Any = None, **kwargs: Any) -> None:
        original(self, *args, token=hf_token, **kwargs)

    gradio_client.Client.__init__ = init  # type: ignore[method-assign]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reps", type=int, default=9)
    args = parser.parse_args()
    reps = args.reps

    import gradio
    import gradio_client
    import smolagents
    from gradio_client import Client, handle_file
    from hfspaces.sync import run_sync

    from langchain_hfspaces.space_tools import HFSpacesTool

    paths = [str(ROOT / "shared"), str(ROOT), str(ROOT / "tests")]
    server = subprocess.Popen(
        [sys.executable, "-c", SERVE.format(paths=paths)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert server.stdout is not None
        image_url, stt_url = server.stdout.readline().split()
        urls = {"image": image_url, "stt": stt_url}
        wav_dir = Path(tempfile.mkdtemp())
        wav = wav_dir / "speech.wav"
        wav.write_bytes(make_wav())
        data_url = "data:audio/wav;base64," + base64.b64encode(wav.read_bytes()).decode()
        rows: list[tuple[str, str, str, str]] = []

        # smolagents as installed
        try:
            smolagents.Tool.from_space(stt_url, name="t", description="d", api_name="/transcribe")
            as_installed = "constructs"
        except Exception as exc:
            as_installed = f"fails: {type(exc).__name__}: {str(exc)[:70]}"
        shim_gradio_client()

        for app, api in APPS.items():
            url = urls[app]
            ms_hf, tool = timed(lambda: HFSpacesTool.from_space(url, api), reps)  # noqa: B023
            ms_gc, client = timed(lambda: Client(url, verbose=False), reps)  # noqa: B023
            ms_view, api_info = timed(
                lambda: client.view_api(print_info=False, return_format="dict"),  # noqa: B023
                reps,
            )
            ms_sa, sa_tool = timed(
                lambda: smolagents.Tool.from_space(url, name=app, description=app, api_name=api),  # noqa: B023
                reps,
            )
            hf_q = quality_hfspaces(tool.tool_call_schema.model_json_schema())
            gc_q = quality_view_api(api_info["named_endpoints"][api]["parameters"])
            sa_q = quality_smolagents(sa_tool.inputs)
            construction = (f"{ms_hf:.1f} ms", f"{ms_sa:.1f} ms (shimmed)",
                            f"{ms_gc + ms_view:.1f} ms (Client + view_api)")  # fmt: skip
            rows.append((f"{app} {api}: tool construction", *construction))
            quality = (score(hf_q, app), score(sa_q, app), score(gc_q, app))
            rows.append((f"{app} {api}: schema fields", *quality))

        # call latency, same inputs
        image_tool = HFSpacesTool.from_space(image_url, "/infer")
        stt_tool = HFSpacesTool.from_space(stt_url, "/transcribe")
        gc_image, gc_stt = Client(image_url, verbose=False), Client(stt_url, verbose=False)
        sa_image = smolagents.Tool.from_space(
            image_url, name="i", description="i", api_name="/infer"
        )
        sa_stt = smolagents.Tool.from_space(
            stt_url, name="s", description="s", api_name="/transcribe"
        )
        prompt = {"prompt": "a fox", "num_inference_steps": 1}

        async def hf_image() -> Any:
            return await image_tool.ainvoke(prompt)

        async def hf_stt() -> Any:
            return await stt_tool.ainvoke({"audio": data_url})

        def hf(coro: Callable[[], Any]) -> Any:
            return run_sync(coro())

        calls = [
            ("call /infer (1 step, image back)", lambda: hf(hf_image),
             lambda: sa_image(prompt="a fox", num_inference_steps=1),
             lambda: gc_image.predict("a fox", 0, True, 512, 512, 1, "photo", api_name="/infer")),
            ("call /transcribe (1 s WAV upload)", lambda: hf(hf_stt),
             lambda: sa_stt(audio=str(wav)),
             lambda: gc_stt.predict(handle_file(str(wav)), api_name="/transcribe")),
        ]  # fmt: skip
        for label, *fns in calls:
            cells = []
            for fn in fns:
                try:
                    ms, _ = timed(fn, reps)
                    cells.append(f"{ms:.1f} ms")
                except Exception as exc:
                    cells.append(f"fails: {type(exc).__name__}: {str(exc)[:60]}")
            rows.append((label, *cells))  # type: ignore[arg-type]
    finally:
        server.terminate()
        server.wait(10)

    from importlib import metadata

    print(f"gradio {gradio.__version__}, gradio_client {gradio_client.__version__}, smolagents "
          f"{smolagents.__version__}, langchain-core {metadata.version('langchain-core')}; "
          f"median of {reps}; plain gradio apps on loopback (no replica, no ZeroGPU).")  # fmt: skip
    print(f"smolagents Tool.from_space as installed: {as_installed}")
    print()
    print("| measure | hfspaces | smolagents | gradio_client |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    print()
    print(json.dumps({"possible": POSSIBLE}))


if __name__ == "__main__":
    main()
