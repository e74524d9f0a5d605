"""`hfspaces info` and `hfspaces call` on the plain gradio test apps, run as a user would."""

from __future__ import annotations

import json
from pathlib import Path

from cli_helpers import run_cli
from media_samples import make_wav
from space_apps import image_app_url, stt_app_url  # noqa: F401 - fixtures


def test_info_prints_typed_parameters(image_app_url: str) -> None:  # noqa: F811
    result = run_cli("info", image_app_url)
    assert result.returncode == 0, result.stderr
    assert "/infer" in result.stdout and "toggle_panel" not in result.stdout
    assert "--width  integer, 256..1024 step 32, default 512, Width" in result.stdout
    assert '--style  string, one of photo|anime|sketch, default "photo"' in result.stdout
    assert "-> Result (image), Seed used (number)" in result.stdout
    listed = json.loads(run_cli("info", image_app_url, "--json", "--all").stdout)
    names = [e["api_name"] for e in listed["endpoints"]]
    assert names == ["/infer", "/toggle_panel"]  # the private helper is not listed


def test_call_saves_files_and_prints_outputs(
    image_app_url: str,  # noqa: F811
    stt_app_url: str,  # noqa: F811
    tmp_path: Path,
) -> None:
    args = ("--prompt", "a fox", "--randomize-seed", "false", "--seed", "5", "-o", str(tmp_path))
    result = run_cli("call", image_app_url, "/infer", *args, "-q")
    assert result.returncode == 0, result.stderr
    assert "Seed used: 5" in result.stdout
    (saved,) = tmp_path.iterdir()
    assert str(saved) in result.stdout and saved.suffix == ".webp"
    wav = tmp_path / "speech.wav"
    wav.write_bytes(make_wav())
    done = run_cli("call", stt_app_url, "transcribe", "--audio", str(wav), "--json")
    record = json.loads(done.stdout.splitlines()[-1])
    assert record["outputs"][0] == "hello world (transcribed 1.00 s of english speech)"
    unqueued = run_cli("call", stt_app_url, "/clear", "--s", "bye")  # run/predict
    assert unqueued.returncode == 0 and "Echo: bye" in unqueued.stdout, unqueued.stderr


def test_call_refuses_bad_arguments_before_any_request(image_app_url: str) -> None:  # noqa: F811
    bad = run_cli("call", image_app_url, "/infer", "--prompt", "x", "--style", "oil")
    assert bad.returncode == 2
    assert "style must be one of 'photo', 'anime', 'sketch', got 'oil'" in bad.stderr
    unknown = run_cli("call", image_app_url, "/infer", "--colour", "red")
    assert unknown.returncode == 2 and "has no parameter 'colour'" in unknown.stderr
    missing = run_cli("call", image_app_url, "/nothing")
    assert missing.returncode == 2 and "offers /infer" in missing.stderr
