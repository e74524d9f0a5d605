"""Shared fixtures: one replica server (real Gradio apps) per test session, on loopback.

Every test talks to it over HTTP. The environment points the library at it
(`HFSPACES_ENDPOINTS`, `HF_ENDPOINT`) so code under test needs no special wiring.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator

import pytest
from media_samples import make_png, make_wav

os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
os.environ.pop("HF_TOKEN", None)  # tests decide identity explicitly
os.environ.pop("HUGGING_FACE_HUB_TOKEN", None)


@pytest.fixture(scope="session")
def replica() -> Iterator[object]:
    """The replica as it starts by default: strict ZeroGPU mode (one waiting slot per Space,
    one job per function, the runtime's messages, the Hub-proxy stand-in)."""
    from hfspaces.replica import SPACES, Replica, ReplicaConfig

    server = Replica(ReplicaConfig(image_size=64)).start()
    saved = {k: os.environ.get(k) for k in ("HFSPACES_ENDPOINTS", "HF_ENDPOINT")}
    os.environ["HFSPACES_ENDPOINTS"] = ",".join(
        f"{space}={server.url_for(space)}" for space in SPACES
    )
    os.environ["HF_ENDPOINT"] = server.hub_url
    try:
        yield server
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        server.stop()


@pytest.fixture(scope="session")
def lenient_replica() -> Iterator[object]:
    """A second replica with ZeroGPU's limits lifted (``zerogpu=False``), for tests that need
    unlimited concurrency or measure the client's own overhead. Not in the environment: use
    its ``url_for``. Reset it yourself if you change it."""
    from hfspaces.replica import Replica, ReplicaConfig

    server = Replica(ReplicaConfig(image_size=64, zerogpu=False)).start()
    try:
        yield server
    finally:
        server.stop()


def wait_idle(replica: object, bound: float = 20.0) -> None:
    """Wait (bounded) until no job runs on the replica: in ZeroGPU mode a job an earlier test
    left running holds its function's only slot."""
    deadline = time.monotonic() + bound
    while replica.stats()["running"] > 0 and time.monotonic() < deadline:  # type: ignore[attr-defined]
        time.sleep(0.05)


@pytest.fixture
def fresh_replica(replica: object) -> Iterator[object]:
    """The replica with faults off and counters cleared, reset again afterwards."""
    replica.reset()  # type: ignore[attr-defined]
    wait_idle(replica)
    yield replica
    replica.reset()  # type: ignore[attr-defined]


@pytest.fixture(scope="session")
def janus_url(replica: object) -> str:
    from hfspaces.replica import JANUS_SPACE

    return replica.url_for(JANUS_SPACE)  # type: ignore[attr-defined,no-any-return]


@pytest.fixture(scope="session")
def phi4_url(replica: object) -> str:
    from hfspaces.replica import PHI4_SPACE

    return replica.url_for(PHI4_SPACE)  # type: ignore[attr-defined,no-any-return]


@pytest.fixture(scope="session")
def png_bytes() -> bytes:
    return make_png()


@pytest.fixture(scope="session")
def wav_bytes() -> bytes:
    return make_wav()
