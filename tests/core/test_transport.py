"""`Transport` and the join retries, over loopback: 503/429/502/504 from the replica's
faults (retried then success; exhausted → typed error; joins counted by the replica),
Retry-After, connection refused and dropped, timeouts, and redirects that keep
credentials on their own host (a small aiohttp server in the test plays the redirector)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from _support import closed_port
from aiohttp import web
from hfspaces import SpaceClient, Timeouts, errors
from hfspaces.transport import Transport, parse_retry_after

FAST = (0.01, 0.05)  # backoff for tests: the retry logic is the same, the waits are short


def fast_client(url: str, max_retries: int = 3, **kwargs: Any) -> SpaceClient:
    client = SpaceClient(url, max_retries=max_retries, **kwargs)
    client.transport.backoff = FAST
    client.queue_backoff_range = FAST
    return client


# -- pure ------------------------------------------------------------------------------------


def test_timeouts_of() -> None:
    assert Timeouts.of(None) == Timeouts()
    t = Timeouts.of(5)
    assert (t.connect, t.idle, t.request, t.total) == (5, 5, 5, 5)
    big = Timeouts.of(900)
    assert big.total == 900 and big.idle == 30 and big.idle > 15  # above the heartbeat gap
    assert Timeouts.of(t) is t
    for bad in (0, -1, "10"):
        with pytest.raises(errors.InvalidInputError):
            Timeouts.of(bad)  # type: ignore[arg-type]


def test_parse_retry_after() -> None:
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("-4") == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    future = time.strftime("%a, %d %b %Y %H:%M:%S GMT", time.gmtime(time.time() + 120))
    seconds = parse_retry_after(future)
    assert seconds is not None and 100 < seconds <= 120


def test_negative_retries_rejected() -> None:
    with pytest.raises(errors.InvalidInputError):
        Transport(max_retries=-1)


# -- join retries through the replica -----------------------------------------------------------


@pytest.mark.parametrize("status", [503, 429, 502, 504])
async def test_join_retried_then_success(fresh_replica: Any, janus_url: str, status: int) -> None:
    fresh_replica.configure(join_status=status, join_fail_count=2, retry_after=0)
    async with fast_client(janus_url) as client:
        outputs = await client.run("generate_image", ["retry", 1, 5.0, 1.0])
    assert len(outputs[0]) == 5
    stats = fresh_replica.stats()
    assert stats["joins_total"] == 3 and stats["joins_rejected"] == 2
    assert stats["jobs_completed"] == 1


@pytest.mark.parametrize(
    ("status", "error"),
    [
        (429, errors.RateLimitError),
        (502, errors.ServerError),
        (504, errors.ServerError),
    ],
)
async def test_join_retries_exhausted(
    fresh_replica: Any, janus_url: str, status: int, error: type[errors.SpaceError]
) -> None:
    fresh_replica.configure(join_status=status, retry_after=0)
    async with fast_client(janus_url, max_retries=2) as client:
        with pytest.raises(error) as info:
            await client.submit("generate_image", ["x", 1, 5.0, 1.0])
    assert info.value.retryable
    stats = fresh_replica.stats()
    assert stats["joins_total"] == 3 and stats["joins_rejected"] == 3  # 1 + 2 retries
    if isinstance(info.value, errors.RateLimitError):
        assert info.value.retry_after == 0
    if isinstance(info.value, errors.ServerError):
        assert info.value.status == status


async def test_no_retries_when_disabled(fresh_replica: Any, janus_url: str) -> None:
    fresh_replica.configure(join_status=502, retry_after=0)
    async with fast_client(janus_url, max_retries=0) as client:
        with pytest.raises(errors.ServerError):
            await client.submit("generate_image", ["x", 1, 5.0, 1.0])
    assert fresh_replica.stats()["joins_total"] == 1


async def test_retry_after_is_honoured(fresh_replica: Any, janus_url: str) -> None:
    # Backoff alone would wait ~0.05 s; the server asks for 1 s. Only a lower bound is
    # checked (a sleep cannot end early), so this cannot flake on a slow machine.
    fresh_replica.configure(join_status=429, join_fail_count=1, retry_after=1)
    async with fast_client(janus_url) as client:
        await client.config()
        start = time.monotonic()
        job = await client.submit("generate_image", ["x", 1, 5.0, 1.0])
        elapsed = time.monotonic() - start
        await job.result()
    assert elapsed >= 0.95
    assert fresh_replica.stats()["joins_total"] == 2


async def test_retry_after_beyond_the_deadline_not_slept(
    fresh_replica: Any, janus_url: str
) -> None:
    fresh_replica.configure(join_status=429, retry_after=3600)
    async with fast_client(janus_url, timeout=Timeouts(total=30)) as client:
        with pytest.raises(errors.RateLimitError):
            await asyncio.wait_for(client.submit("generate_image", ["x", 1, 5.0, 1.0]), 20)
    assert fresh_replica.stats()["joins_total"] == 1


# -- connection failures ------------------------------------------------------------------------


async def test_connect_refused_after_retries() -> None:
    transport = Transport(max_retries=2, backoff=FAST)
    try:
        with pytest.raises(errors.ConnectError, match="cannot connect"):
            await transport.request("GET", f"http://127.0.0.1:{closed_port()}/config")
    finally:
        await transport.aclose()


async def test_dropped_connections_become_connect_error() -> None:
    accepted = 0

    async def slam(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal accepted
        accepted += 1
        await reader.read(1)  # the request has started arriving: close without answering
        writer.close()

    server = await asyncio.start_server(slam, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    transport = Transport(max_retries=2, backoff=FAST)
    try:
        with pytest.raises(errors.ConnectError, match="closed or reset"):
            await transport.request("GET", f"http://127.0.0.1:{port}/x")
    finally:
        await transport.aclose()
        server.close()
        await server.wait_closed()
    assert accepted >= 3  # first attempt and two retries (aiohttp may add its own)


async def test_request_timeout() -> None:
    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(10)  # accept, never answer
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    transport = Transport(timeouts=Timeouts(request=0.5, idle=0.5), max_retries=0)
    try:
        with pytest.raises(errors.SpaceTimeoutError, match="did not answer in time"):
            await transport.request("GET", f"http://127.0.0.1:{port}/x")
    finally:
        await transport.aclose()
        server.close()
        for w in list(getattr(server, "_clients", ()) or ()):
            w.close()
        await asyncio.wait_for(server.wait_closed(), 5)


# -- redirects keep credentials on their own host -----------------------------------------------


@pytest.fixture
async def redirector() -> AsyncIterator[tuple[str, str, list[dict[str, str]]]]:
    """`/hop?to=URL` redirects; `/echo` records the headers it got. Reached both as
    127.0.0.1 and as localhost: two hosts to the client, one server."""
    seen: list[dict[str, str]] = []

    async def hop(request: web.Request) -> web.Response:
        status = int(request.query.get("status", "302"))
        to = request.query.get("to", "/hop")  # no target: redirect to itself, forever
        raise web.HTTPFound(to) if status == 302 else web.HTTPTemporaryRedirect(to)

    async def echo(request: web.Request) -> web.Response:
        seen.append({k.lower(): v for k, v in request.headers.items()})
        return web.json_response({"method": request.method})

    app = web.Application()
    app.router.add_route("*", "/hop", hop)
    app.router.add_route("*", "/echo", echo)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}", f"http://localhost:{port}", seen
    finally:
        await runner.cleanup()


CREDENTIALS = {
    "Authorization": "Bearer hf_secret",
    "x-zerogpu-token": "jwt",
    "x-zerogpu-uuid": "u",
    "X-Plain": "kept",
}


async def test_redirect_to_other_host_drops_credentials(
    redirector: tuple[str, str, list[dict[str, str]]],
) -> None:
    here, other, seen = redirector
    transport = Transport(max_retries=0)
    try:
        reply = await transport.request("GET", f"{here}/hop?to={other}/echo", headers=CREDENTIALS)
        assert reply.status == 200
        same = await transport.request("GET", f"{here}/hop?to={here}/echo", headers=CREDENTIALS)
        assert same.status == 200
        # POST answered 302 becomes a GET without the body, as browsers do.
        post = await transport.request(
            "POST", f"{here}/hop?to={here}/echo", json={"a": 1}, headers=CREDENTIALS
        )
        assert post.json() == {"method": "GET"}
        kept = await transport.request(
            "POST", f"{here}/hop?status=307&to={here}/echo", json={"a": 1}
        )
        assert kept.json() == {"method": "POST"}
    finally:
        await transport.aclose()
    cross, same_host = seen[0], seen[1]
    for name in ("authorization", "x-zerogpu-token", "x-zerogpu-uuid"):
        assert name not in cross
        assert name in same_host
    # The origin rule: every header the caller gave stays on the origin it was meant for.
    assert "x-plain" not in cross and same_host["x-plain"] == "kept"


async def test_redirect_loop_is_protocol_error(
    redirector: tuple[str, str, list[dict[str, str]]],
) -> None:
    here, _, _ = redirector
    transport = Transport(max_retries=0)
    try:
        with pytest.raises(errors.ProtocolError, match="redirect"):
            await transport.request("GET", f"{here}/hop")
        with pytest.raises(errors.ProtocolError, match="non-http"):
            await transport.request("GET", f"{here}/hop?to=file:///etc/passwd")
    finally:
        await transport.aclose()


async def test_closed_transport_does_not_reopen() -> None:
    transport = Transport()
    _ = transport.session
    await transport.aclose()
    with pytest.raises(errors.ClientClosedError):
        _ = transport.session


async def test_caller_session_closed_is_input_error() -> None:
    session = aiohttp.ClientSession()
    await session.close()
    transport = Transport(session=session)
    with pytest.raises(errors.InvalidInputError):
        _ = transport.session


@pytest.mark.parametrize(
    "bad",
    [
        {"request": 0},
        {"idle": 0},
        {"connect": -1},
        {"total": float("inf")},
        {"idle": float("nan")},
        {"total": True},
    ],
)
def test_timeouts_must_be_positive_finite_seconds(bad: dict[str, Any]) -> None:
    """aiohttp reads 0 (or less) as "no timeout": such a setting would make waits unbounded.
    Refused with a ValueError subclass before any request."""
    with pytest.raises(errors.InvalidInputError, match="timeout"):
        Timeouts(**bad)
    with pytest.raises(errors.InvalidInputError, match="timeout"):
        Timeouts.of(next(iter(bad.values())))
