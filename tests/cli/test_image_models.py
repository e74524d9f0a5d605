"""`hfspaces image` and `hfspaces models`."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from cli_helpers import cli_env, run_cli
from hfspaces.media import sniff_mime


def test_image_saves_files_with_safe_names(slow_replica: Any, tmp_path: Path) -> None:
    # The real Janus reports no progress; a wait for a GPU brings the ZeroGPU runtime's logs.
    slow_replica.configure(queue_delay=0.1)
    out = tmp_path / "pics"
    prompt = "A red fox / in ../snow!\x07 <script>"
    result = run_cli("image", prompt, "--n", "2", "--seed", "7", "--out", str(out))
    assert result.returncode == 0, result.stderr
    paths = [Path(line) for line in result.stdout.splitlines()]
    assert len(paths) == 2
    for path in paths:
        assert path.parent == out and path.is_file()
        assert re.fullmatch(r"a-red-fox-in-snow-script-7-\d\.(webp|png|jpg)", path.name)
        assert sniff_mime(path.read_bytes()[:32]) in ("image/webp", "image/png", "image/jpeg")
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in paths)
    # the Space's log lines were shown on stderr
    assert "[info] ZeroGPU queue: Waiting for a GPU to become available" in result.stderr


def test_image_never_overwrites_earlier_images(replica: Any, tmp_path: Path) -> None:
    args = ("image", "a cat", "--n", "1", "--seed", "3", "--out", str(tmp_path), "-q")
    first = run_cli(*args)
    second = run_cli(*args)
    assert first.returncode == second.returncode == 0
    assert first.stdout != second.stdout
    assert len(list(tmp_path.iterdir())) == 2


def test_image_default_folder_and_json(slow_replica: Any, tmp_path: Path) -> None:
    slow_replica.configure(queue_delay=0.1)
    result = run_cli("image", "a boat", "--n", "1", "--json", "--guidance", "3", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    done = records[-1]
    assert done["event"] == "done" and done["num_images"] == 1
    assert "log" in {r["event"] for r in records}
    saved = tmp_path / done["paths"][0]
    assert saved.parent.name == "hfspaces-images" and saved.is_file()


def test_image_bad_input_exits_2(replica: Any, tmp_path: Path) -> None:
    for args in (["--n", "9"], ["--guidance", "50"], ["--seed", "-1"]):
        result = run_cli("image", "x", "--out", str(tmp_path), *args)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stderr.strip().splitlines()[-1].startswith("error: ")
        if args[0] == "--n":
            assert "--n must be between 1 and 5" in result.stderr
    assert not any(tmp_path.iterdir())


def test_image_space_error_exits_1(fresh_replica: Any, tmp_path: Path) -> None:
    fresh_replica.configure(gpu_error="gpu_limit")
    result = run_cli("image", "x", "--out", str(tmp_path / "o"), "-q")
    assert result.returncode == 1
    assert result.stderr.startswith("error: ") and "GPU" in result.stderr
    assert not (tmp_path / "o").exists()


def test_models_table() -> None:
    result = run_cli("models")
    assert result.returncode == 0, result.stderr
    for name in ("janus-pro-7b", "janus-pro-7b-image", "phi-4-multimodal", "needs an image"):
        assert name in result.stdout


def test_models_table_fits_a_standard_terminal(fresh_replica: Any) -> None:
    # 80 columns, endpoints redirected to long replica URLs: every column stays readable.
    result = run_cli("models", env=cli_env(COLUMNS="80"))
    assert result.returncode == 0, result.stderr
    assert all(len(line) <= 80 for line in result.stdout.splitlines())
    assert "what it does" in result.stdout
    words = result.stdout.split()
    for word in ("phi-4-multimodal", "Microsoft", "audio", "aliases:"):
        assert any(word in w for w in words), word
    assert "…" not in result.stdout  # nothing cut off


def test_models_json_lists_capabilities() -> None:
    result = run_cli("models", "--json")
    assert result.returncode == 0
    records = {r["id"]: r for r in map(json.loads, result.stdout.splitlines())}
    assert set(records) == {"janus-pro-7b", "janus-pro-7b-image", "phi-4-multimodal"}
    assert records["phi-4-multimodal"]["inputs"] == ["text", "image", "audio"]
    assert records["phi-4-multimodal"]["streams_tokens"] is True
    assert records["janus-pro-7b"]["requires_image"] is True
    assert records["janus-pro-7b-image"]["outputs"] == ["image"]


def test_help_and_version() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("chat", "image", "models", "replica", "demo"):
        assert command in result.stdout
    assert run_cli("--version").stdout.startswith("hfspaces ")
    assert run_cli("no-such-command").returncode == 2
