"""Shared bits of the benchmark: the replica subprocess, test files, statistics, timing."""

from __future__ import annotations

import contextlib
import io
import json
import os
import random
import resource
import signal
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DATA = BENCH / ".venv" / "bench-data"
JANUS = "deepseek-ai/Janus-Pro-7B"
PHI4 = "microsoft/phi-4-multimodal"
QUESTION = "What is in this image?"
PROMPT = "A red fox in the snow"


# -- files ------------------------------------------------------------------------------


def small_png() -> bytes:
    """A 64×64 two-colour PNG (~300 bytes): the "small PNG upload" of measure 1."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (64, 64), (220, 30, 30))
    ImageDraw.Draw(img).rectangle((0, 40, 63, 63), fill=(255, 255, 255))
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def photo_png(seed: int) -> Path:
    """A noisy 700×700 PNG of about 1.5 MB, one per seed: a photo a chat user would send
    (measure 7). A new one per repetition, so no client's upload cache carries over."""
    return _noise_png(700, seed, DATA / f"photo-{seed}.png")


def big_png() -> Path:
    """A 4080×4080 PNG of about 50 MB (random pixels do not compress): measure 6."""
    return _noise_png(4080, 0, DATA / "big-50mb.png")


def _noise_png(side: int, seed: int, path: Path) -> Path:
    if path.exists():
        return path
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    img = Image.frombytes("RGB", (side, side), rng.randbytes(side * side * 3))
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    img.save(tmp, format="PNG", compress_level=1)
    tmp.replace(path)
    return path


# -- the replica ------------------------------------------------------------------------


@dataclass
class ReplicaProcess:
    proc: subprocess.Popen[str]
    urls: dict[str, str]

    @property
    def base(self) -> str:
        return self.urls["hub"].replace("localhost", "127.0.0.1")

    def request(self, path: str, body: dict[str, Any] | None = None) -> Any:
        """GET (no body) or POST one of the replica's `/_replica/...` routes; its JSON."""
        req = urllib.request.Request(
            self.base + path,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Content-Type": "application/json"},
            method="GET" if body is None else "POST",
        )
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read() or b"null")

    def configure(self, **changes: object) -> None:
        self.request("/_replica/configure", changes)

    def stats(self) -> dict[str, Any]:
        return dict(self.request("/_replica/stats"))

    def kill(self) -> None:
        """SIGKILL: the server dies mid-answer, as a crashed machine would."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def start_replica(
    answer_words: int = 200,
    image_size: int = 768,
    *extra: str,
    zerogpu: bool = False,
    quiet: bool = False,
) -> ReplicaProcess:
    """The replica CLI (`python -m hfspaces.replica`) in its own process (its CPU is not the
    client's), with ZeroGPU's limits lifted (`--no-zerogpu`): these measures are the client's
    own overhead. The one-slot measures are bench/one_slot.py's (and bench/pool.py's, which
    pass `zerogpu=True`). `extra`: more CLI options; `quiet` drops the replica's stderr."""
    cmd = [
        sys.executable, "-m", "hfspaces.replica", "--token-delay", "0",
        "--answer-words", str(answer_words), "--image-size", str(image_size), "--no-quota",
        *([] if zerogpu else ["--no-zerogpu"]), *extra,
    ]  # the client's own overhead: no one-slot queue, no --concurrency (unlimited), 400 threads
    env = {**os.environ, "HFSPACES_REPLICA_LOG_LEVEL": "error"}
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL if quiet else None, text=True,
        env=env,
    )
    urls: dict[str, str] = {}
    deadline = time.monotonic() + 120
    assert proc.stdout is not None
    while "hub" not in urls:
        line = proc.stdout.readline()
        if not line or time.monotonic() > deadline:
            proc.kill()
            raise RuntimeError("the replica did not start")
        name, _, url = line.strip().partition(" ")
        urls[name] = url
    return ReplicaProcess(proc, urls)


# -- measuring --------------------------------------------------------------------------


def rss_mb() -> float:
    """Current resident set size (MB)."""
    with open("/proc/self/statm") as fh:
        pages = int(fh.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 1e6


def peak_rss_mb() -> float:
    """Peak resident set size of this process since start or `reset_peak_rss()` (MB)."""
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1e3
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e3


def reset_peak_rss() -> None:
    """Start the peak over from the current RSS (Linux: `5` into clear_refs), so a peak
    left by imports cannot hide the growth of the measured op."""
    with contextlib.suppress(OSError), open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


@contextlib.contextmanager
def clock(out: dict[str, float]) -> Iterator[None]:
    """Wall and client CPU time (all threads of this process) of the block."""
    t0, c0 = time.perf_counter(), time.process_time()
    yield
    out["wall"] = time.perf_counter() - t0
    out["cpu"] = time.process_time() - c0


@dataclass
class Stat:
    values: list[float]

    @property
    def median(self) -> float:
        return statistics.median(self.values)

    def fmt(self, scale: float = 1.0, digits: int = 1) -> str:
        if not self.values:
            return "—"
        v = [x * scale for x in self.values]
        return f"{statistics.median(v):.{digits}f} ({min(v):.{digits}f}–{max(v):.{digits}f})"


def load_average() -> float:
    return os.getloadavg()[0]
