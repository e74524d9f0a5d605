"""``python -m hfspaces.replica``: serve the replica until SIGINT/SIGTERM."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import Any

from .config import GRADIO_ERRORS, SPACES, SPACES_VERSIONS, ReplicaConfig


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m hfspaces.replica",
        description="Serve local replicas of the Janus-Pro-7B and Phi-4-multimodal Spaces "
        "and of four Space shapes (hfspaces-replica/...: FLUX, Whisper, Kokoro, a chat).",
    )
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    p.add_argument("--token-delay", type=float, default=0.0, help="seconds per streamed token")
    p.add_argument("--answer-words", type=int, default=None, help="pad/cut answers to N words")
    p.add_argument("--no-phi4-stream", action="store_true", help="Phi-4 answers only at the end")
    p.add_argument("--image-size", type=int, default=768)
    p.add_argument("--concurrency", type=int, default=None, help="limit per function")
    p.add_argument("--quota-anonymous", type=float, default=None, help="daily GPU seconds")
    p.add_argument("--quota-authenticated", type=float, default=None, help="daily GPU seconds")
    p.add_argument("--no-quota", action="store_true", help="do not enforce ZeroGPU quotas")
    p.add_argument("--max-file-size", default=None, help="upload cap, e.g. 5mb (413 above)")
    p.add_argument("--jwt-lifetime", type=float, default=None, help="Hub JWT lifetime, seconds")
    p.add_argument("--no-zerogpu", action="store_true",
                   help="lift ZeroGPU's limits (one waiting slot, one job per function)")
    p.add_argument("--service-time", type=float, default=0.0,
                   help="each GPU call lasts at least this many seconds")
    p.add_argument("--duration-factor", type=float, default=1.0,
                   help="requested GPU seconds = declared duration x factor (1.5 on Blackwell)")
    p.add_argument("--spaces-version", choices=SPACES_VERSIONS, default="0.51",
                   help="wording of the ZeroGPU runtime's messages")
    p.add_argument("--gradio-errors", choices=GRADIO_ERRORS, default="installed",
                   help="5.1: serve Janus's errors as gradio 5.1.0 does (no titles, quoted)")
    return p


def config_from_args(args: argparse.Namespace) -> ReplicaConfig:
    kwargs: dict[str, Any] = {
        "host": args.host, "port": args.port, "token_delay": args.token_delay,
        "answer_words": args.answer_words, "phi4_stream": not args.no_phi4_stream,
        "image_size": args.image_size, "concurrency": args.concurrency,
        "quota_enforced": not args.no_quota, "max_file_size": args.max_file_size,
        "zerogpu": not args.no_zerogpu, "service_time": args.service_time,
        "duration_factor": args.duration_factor, "spaces_version": args.spaces_version,
        "gradio_errors": args.gradio_errors,
    }
    if args.quota_anonymous is not None:
        kwargs["quota_seconds_anonymous"] = args.quota_anonymous
    if args.quota_authenticated is not None:
        kwargs["quota_seconds_authenticated"] = args.quota_authenticated
    if args.jwt_lifetime is not None:
        kwargs["jwt_lifetime"] = args.jwt_lifetime
    return ReplicaConfig(**kwargs)


def main(argv: list[str] | None = None) -> int:
    """Print ``<space id> <base url>`` per Space and ``hub <url>``, then serve until a signal."""
    args = build_parser().parse_args(argv)
    from .server import Replica  # gradio is heavy: import only when serving

    stop = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    replica = Replica(config_from_args(args))
    try:
        replica.start()
        for space in SPACES:
            print(f"{space} {replica.url_for(space)}")
        print(f"hub {replica.hub_url}", flush=True)
        while not stop.wait(0.5):
            pass
    finally:
        replica.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0


if __name__ == "__main__":
    sys.exit(main())
