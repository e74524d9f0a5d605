"""Pools of endpoints: how endpoints are given (argument, mapping, `HFSPACES_ENDPOINTS`),
which failures move a job, choosing over real replicas, and a pool of mismatched copies."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from hfspaces import Generation, SpaceModel, errors, get_model
from hfspaces.pool import failover_kind, split_endpoints
from hfspaces.replica import JANUS_SPACE, PHI4_SPACE
from hfspaces.space_model import resolve_endpoint, resolve_endpoints
from hfspaces.transport import public_url
from pool_support import draw, gather_draws, joins, replicas, reroutes, urls

JANUS = get_model("janus")


# -- how a pool is given ------------------------------------------------------------------


def test_endpoints_as_argument_mapping_and_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HFSPACES_ENDPOINTS", raising=False)
    assert resolve_endpoints(JANUS, ["http://a", " http://b|me/dup "]) == [
        "http://a",
        "http://b",
        "me/dup",
    ]
    assert resolve_endpoints(JANUS, "http://a|http://b") == ["http://a", "http://b"]
    assert resolve_endpoints(JANUS, {"janus-pro-7b": ["http://m1", "http://m2"]}) == [
        "http://m1",
        "http://m2",
    ]
    monkeypatch.setenv("HFSPACES_ENDPOINTS", "deepseek-ai/Janus-Pro-7B=http://a|http://b|me/dup")
    assert resolve_endpoints(JANUS, None) == ["http://a", "http://b", "me/dup"]
    assert resolve_endpoint(JANUS, None) == "http://a|http://b|me/dup"
    model = SpaceModel(JANUS)
    assert model.pool is not None and [m.label for m in model.pool.members] == [
        "http://a",
        "http://b",
        "me/dup",
    ]


def test_single_endpoint_is_no_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HFSPACES_ENDPOINTS", raising=False)
    assert SpaceModel(JANUS, endpoint="http://a").pool is None
    assert SpaceModel(JANUS, endpoint=["http://a"]).pool is None
    assert SpaceModel(JANUS).endpoints == [JANUS.space]


def test_bad_pools_refused_before_any_request() -> None:
    with pytest.raises(errors.InvalidInputError, match="listed twice"):
        SpaceModel(JANUS, endpoint=["http://a", "http://a"])
    with pytest.raises(errors.InvalidInputError, match="ftp://x"):
        SpaceModel(JANUS, endpoint=["http://a", "ftp://x"])


def test_passwords_never_shown() -> None:
    assert public_url("https://bob:s3cret@gpu.example:7860/x") == "https://gpu.example:7860/x"
    model = SpaceModel(JANUS, endpoint=["https://bob:s3cret@gpu.example", "http://b"])
    assert "s3cret" not in repr(model) + model.endpoint + str(model.health())
    assert split_endpoints(["a|", "|b"]) == ["a", "b"]


# -- which failures move a job ------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (errors.ConnectError("refused"), "connect"),
        (errors.ServerError("bad gateway", status=502), "server"),
        (errors.ServerError("no app", status=404), "server"),
        (errors.QueueFullError("Queue is full. Max size is 1 and size is 1."), "queue_full"),
        (errors.GPUQuotaExceededError("quota", retry_after=timedelta(seconds=9)), "quota"),
        (errors.GPUUnavailableError("no GPU"), "gpu"),
        (errors.RateLimitError("429"), "rate_limit"),
        (errors.SessionLostError("cut before any output"), "lost"),
        (errors.AppError("the app raised"), None),
        (errors.ProtocolError("odd answer"), None),
        (errors.DownloadError("image download failed"), None),
        (errors.CancelledJobError("cancelled"), None),
        (errors.ServerError("rejected inputs", status=422), None),
        (errors.InvalidInputError("bad"), None),
    ],
)
def test_failover_kinds(error: BaseException, kind: str | None) -> None:
    assert failover_kind(error, produced_output=False) == kind
    assert failover_kind(error, produced_output=True) is None  # never rerun after output


def test_session_lost_after_output_is_not_moved() -> None:
    error = errors.SessionLostError("cut after partial output")
    error.after_output = True
    assert failover_kind(error, produced_output=False) is None


# -- choosing, over real replicas -----------------------------------------------------------


async def test_jobs_spread_over_copies_and_say_where_they_ran() -> None:
    with replicas(3) as reps:
        model = SpaceModel("janus-image", endpoint=urls(reps), timeout=60)
        try:
            results = await gather_draws(model, 9)
        finally:
            await model.aclose()
        generations = [r[-1] for r in results]
        assert all(isinstance(g, Generation) for g in generations), results
        served = {u: sum(g.endpoint == u for g in generations) for u in urls(reps)}
        assert all(n >= 1 for n in served.values()), served
        assert sum(joins(r) for r in reps) >= 9
        health = {h["endpoint"]: h for h in model.health()}
        assert {h["served"] for h in health.values()} == set(served.values()) or sum(
            h["served"] for h in health.values()
        ) == 9


async def test_slow_copy_gets_fewer_jobs() -> None:
    with replicas(3) as reps:
        reps[2].configure(service_time=0.6)  # each GPU call on the third copy takes longer
        for rep in reps[:2]:
            rep.configure(service_time=0.1)
        model = SpaceModel("janus-image", endpoint=urls(reps), timeout=60)
        try:
            await gather_draws(model, 3)  # learn the run times
            results = await gather_draws(model, 18)
        finally:
            await model.aclose()
        ends = [r[-1].endpoint for r in results]
        slow = ends.count(urls(reps)[2])
        assert slow < min(ends.count(u) for u in urls(reps)[:2]), ends


# -- a pool of mismatched copies -----------------------------------------------------------


async def test_mismatched_copy_refused_with_the_difference() -> None:
    with replicas(1) as reps:
        good, other = reps[0].url_for(JANUS_SPACE), reps[0].url_for(PHI4_SPACE)
        model = SpaceModel("janus-image", endpoint=[good, other], timeout=60)
        try:
            results = [await draw(model, f"cat {i}") for i in range(4)]
        finally:
            await model.aclose()
        assert all(r[-1].endpoint == good for r in results)
        refused = next(h for h in model.health() if h["endpoint"] == other)
        assert refused["state"] == "refused"
        assert "/generate_image" in refused["refused"] and other in refused["refused"]
        moved = [e for r in results for e in reroutes(r)]
        assert [e.error for e in moved] == ["EndpointMismatchError"]  # refused once, for good

        only_wrong = SpaceModel("janus-image", endpoint=[other, other + "/"], timeout=60)
        # Both copies of the wrong app agree with each other: the job fails in the app's
        # own terms (no generate_image endpoint), never silently elsewhere.
        with pytest.raises(errors.SpaceError):
            await draw(only_wrong)
        await only_wrong.aclose()


async def test_pool_of_unreachable_copies_fails_typed(unused_port: Any = None) -> None:
    import socket

    ports = []
    for _ in range(2):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
    model = SpaceModel(
        "janus-image", endpoint=[f"http://127.0.0.1:{p}" for p in ports], timeout=10, max_retries=1
    )
    try:
        with pytest.raises(errors.ConnectError):
            await draw(model)
    finally:
        await model.aclose()
    assert all(h["failed"] >= 1 for h in model.health())
