"""The one place where HTTP happens: an aiohttp session (lazy), bounded timeouts, retries
with backoff and `Retry-After`, one size-capped body reader (`read_body`) for every answer,
and one origin rule: the caller's headers and credentials go only to the origin they were
meant for, never along a redirect to another one.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import random
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit, urlunsplit

import aiohttp
from tenacity import AsyncRetrying, RetryCallState, retry_if_exception_type, stop_after_attempt
from yarl import URL

from . import deadline as deadlines
from . import errors
from .secret import MaskedStr

try:  # what aiohttp's `trust_env` looks up, to do it once per origin (see `_from_env`)
    from aiohttp.helpers import basicauth_from_netrc, get_env_proxy_for_url, netrc_from_env
except ImportError:  # pragma: no cover - an older aiohttp: let it look up per request
    _ENV_LOOKUP = False
else:
    _ENV_LOOKUP = True

log = logging.getLogger("hfspaces")

#: Answers that mean "not now" for a request the server did not act on.
RETRY_STATUSES = frozenset({429, 502, 503, 504})
#: Longest plain answer read (config, join, upload, cancel); a Space's `/config` is far
#: below it. Counted after decompression and before it (a gzip bomb stops at the cap).
MAX_BODY_BYTES = 16 * 1024 * 1024
#: Longest event of a stream, and the most output a job accumulates from its diffs.
MAX_STREAM_BYTES = 64 * 1024 * 1024
#: Below uvicorn's 5 s keep-alive: never reuse a connection the server is about to close.
KEEPALIVE_SECONDS = 3.0
MAX_REDIRECTS = 5
#: Longest `Retry-After` the client sleeps through on its own; longer hints end the retries.
MAX_RETRY_AFTER = 60.0
USER_AGENT = "hfspaces/0.1"


@dataclass(frozen=True)
class Timeouts:
    """Every wait has a bound.

    connect: opening a TCP/TLS connection. idle: the longest gap between bytes of a
    response (Gradio sends a heartbeat every 15 s, so keep this above 15). request: one
    plain request (config, join, cancel). total: the overall deadline of one job, from
    submit to the last event (ZeroGPU waits can exceed a minute).
    """

    connect: float = 10.0
    idle: float = 30.0
    request: float = 60.0
    total: float = 600.0

    def __post_init__(self) -> None:
        # aiohttp reads 0 or less as "no timeout": refuse anything that is not a bound.
        for name in ("connect", "idle", "request", "total"):
            value = getattr(self, name)
            if not _positive_seconds(value):
                raise errors.InvalidInputError(
                    f"timeout {name} must be a positive, finite number of seconds: {value!r}"
                )

    @classmethod
    def of(cls, value: Timeouts | float | None) -> Timeouts:
        if value is None:
            return cls()
        if isinstance(value, Timeouts):
            return value
        if _positive_seconds(value):
            total = float(value)
            return cls(
                connect=min(10.0, total),
                idle=min(30.0, total),
                request=min(60.0, total),
                total=total,
            )
        raise errors.InvalidInputError(f"timeout must be a positive number of seconds: {value!r}")


def _positive_seconds(value: object) -> bool:
    return (
        isinstance(value, (int, float)) and not isinstance(value, bool) and 0 < value < float("inf")
    )


@dataclass(frozen=True)
class Reply:
    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str

    def json(self) -> Any:
        try:
            return json.loads(self.body)
        except ValueError:
            return None

    @property
    def retry_after(self) -> float | None:
        return parse_retry_after(self.headers.get("Retry-After"))


def parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime  # an HTTP date: rare, so import lazily

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    import time

    return max(0.0, when.timestamp() - time.time())


async def read_body(
    resp: aiohttp.ClientResponse,
    limit: int,
    *,
    too_large: Callable[[str], errors.SpaceError] = errors.ProtocolError,
) -> bytes:
    """The body of `resp`, refusing more than `limit` bytes as sent (compressed) or as
    decoded: a declared length over the cap is refused before reading, and reading stops
    at the cap, so a decompression bomb costs at most `limit` bytes of memory."""
    declared = resp.content_length
    if declared is not None and declared > limit:
        raise too_large(f"the answer is {declared} bytes, over the {limit}-byte cap")
    chunks: list[bytes] = []
    size = 0
    content = resp.content
    while chunk := await content.readany():
        size += len(chunk)
        # aiohttp (3.14+) counts the bytes as they came over the wire, before decoding.
        wire = getattr(content, "total_compressed_bytes", None) or 0
        if size > limit or wire > limit:
            raise too_large(f"the answer exceeds the {limit}-byte cap")
        chunks.append(chunk)
    return b"".join(chunks)


def public_url(url: str) -> str:
    """`url` without its user:password part: what may be shown (repr, errors, metadata)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def basic_auth_header(url: str) -> str | None:
    """An `Authorization: Basic` value for credentials written into `url`, masked in repr."""
    parts = urlsplit(url)
    if parts.username is None:
        return None
    pair = f"{unquote(parts.username)}:{unquote(parts.password or '')}".encode()
    return MaskedStr("Basic " + base64.b64encode(pair).decode("ascii"))


class _RetryableStatus(Exception):
    def __init__(self, reply: Reply) -> None:
        self.reply = reply


Origin = tuple[str, str, int | None]


def origin(url: str) -> Origin:
    """(scheme, host, port): what decides where headers and files may come from."""
    parts = urlsplit(url)
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:  # a port that is not a number: matches no origin
        port = -1
    return parts.scheme.lower(), (parts.hostname or "").lower(), port


class Transport:
    """Owns the aiohttp session (created on first use, in the running loop)."""

    def __init__(
        self,
        *,
        timeouts: Timeouts | None = None,
        max_retries: int = 3,
        session: aiohttp.ClientSession | None = None,
        limit: int = 256,
        backoff: tuple[float, float] = (0.5, 8.0),
        max_body_bytes: int = MAX_BODY_BYTES,
        max_stream_bytes: int = MAX_STREAM_BYTES,
    ) -> None:
        if max_retries < 0:
            raise errors.InvalidInputError("max_retries must be >= 0")
        self.timeouts = timeouts or Timeouts()
        self.max_retries = max_retries
        self.backoff = backoff
        self._session = session
        self._owns_session = session is None
        self._closed = False
        self._limit = limit
        self._env: dict[Origin, dict[str, Any]] = {}
        self.max_body_bytes = max_body_bytes
        self.max_stream_bytes = max_stream_bytes
        #: The loop the session was made in: aiohttp sessions are bound to one loop.
        self._loop: asyncio.AbstractEventLoop | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._closed:
            # Never reopen behind the caller's back: a late cleanup task would leak it.
            raise errors.ClientClosedError("the client is closed; create a new one")
        loop = asyncio.get_running_loop()
        if self._session is not None and self._owns_session and self._loop is not loop:
            self._wrong_loop()
        if self._session is None or self._session.closed:
            if self._session is not None and not self._owns_session:
                raise errors.InvalidInputError("the aiohttp session passed in has been closed")
            connector = aiohttp.TCPConnector(
                limit=self._limit, keepalive_timeout=KEEPALIVE_SECONDS, enable_cleanup_closed=True
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers={"User-Agent": USER_AGENT},
                # No cookies: a Space must not be able to tie our calls together through us.
                cookie_jar=aiohttp.DummyCookieJar(),
                # Proxy settings and ~/.netrc are honoured through `_from_env`.
                trust_env=not _ENV_LOOKUP,
            )
            self._loop = loop
        return self._session

    def _wrong_loop(self) -> None:
        assert self._loop is not None
        if self._loop.is_closed():
            # Its sockets belonged to a dead loop: drop them without aiohttp's warnings.
            self.abandon()
            raise errors.ClientClosedError(
                "this client was used in an event loop that has since closed (each "
                "asyncio.run() makes a new loop); create the client inside the loop that "
                "uses it, or close it with `async with` / aclose()"
            )
        raise errors.InvalidInputError(
            "this client belongs to another event loop (an aiohttp session cannot move "
            "between loops); create one client per loop"
        )

    def abandon(self) -> None:
        """Forget a session whose loop has closed (it cannot be awaited any more): no
        request is possible, and no "Unclosed client session" warning follows."""
        self._closed = True
        session, self._session = self._session, None
        if session is None or not self._owns_session or session.closed:
            return
        connector = session.connector
        session.detach()
        if connector is not None:
            with contextlib.suppress(Exception):  # on a closed loop it only marks it closed
                connector._close()

    def _from_env(self, url: str) -> dict[str, Any]:
        """What aiohttp's `trust_env` looks up for a URL (a proxy from the environment,
        ~/.netrc credentials), looked up once per origin: aiohttp does it on every
        request, in two trips through a thread pool (a few ms per request under load)."""
        if not _ENV_LOOKUP or not self._owns_session:
            return {}
        key = origin(url)
        found = self._env.get(key)
        if found is None:
            found = {}
            target = URL(url)
            with contextlib.suppress(LookupError):
                found["proxy"], found["proxy_auth"] = get_env_proxy_for_url(target)
            if target.host is not None:
                with contextlib.suppress(LookupError):
                    found["auth"] = basicauth_from_netrc(netrc_from_env(), target.host)
            self._env[key] = found
        return found

    async def aclose(self) -> None:
        self._closed = True
        if self._loop is not None and self._loop.is_closed():
            self.abandon()  # its loop is gone: nothing left to await
        if self._session is not None and self._owns_session and not self._session.closed:
            await self._session.close()

    def client_timeout(self, *, total: float | None = None) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(
            total=total if total is not None else self.timeouts.request,
            connect=self.timeouts.connect,
            sock_read=self.timeouts.idle,
        )

    # -- one request ----------------------------------------------------------

    async def open(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        trusted_host: str | None = None,
        allowed_origins: Collection[Origin] | None = None,
        follow_redirects: bool = True,
        timeout: aiohttp.ClientTimeout | None = None,
        **kwargs: Any,
    ) -> aiohttp.ClientResponse:
        """Send one request and return the open response (the caller reads and closes it).

        The origin rule: `headers` (the caller's own and the credentials) reach only the
        origin of `trusted_host` (default: the request's own URL); from a hop to any other
        origin on, the request goes without them. With `allowed_origins`, a URL or
        redirect outside them is refused (`ProtocolError`) before it is requested.
        Without `follow_redirects` a redirect is returned as it is (a body that cannot be
        sent twice).
        """
        trusted = origin(trusted_host or url)
        hdrs = dict(headers or {})
        for _ in range(MAX_REDIRECTS + 1):
            if allowed_origins is not None and origin(url) not in allowed_origins:
                raise errors.ProtocolError(
                    f"refused to fetch {_hostport(url)}: not an origin this request may reach"
                )
            if origin(url) != trusted:
                hdrs = {}  # and not back: a hop elsewhere cannot steer them to the Space

            env = self._from_env(url)
            send = hdrs
            if "auth" in env:
                # A ~/.netrc entry for this host, sent as a header (aiohttp's `auth=` is
                # deprecated) unless we send our own Authorization (the HF token): aiohttp
                # would refuse the two together with a ValueError.
                netrc_auth = env["auth"]
                env = {k: v for k, v in env.items() if k != "auth"}
                if netrc_auth is not None and not any(k.lower() == "authorization" for k in hdrs):
                    send = {**hdrs, "Authorization": netrc_auth.encode()}
            try:
                resp = await self.session.request(
                    method,
                    url,
                    headers=send,
                    allow_redirects=False,
                    timeout=_within_deadline(timeout or self.client_timeout(), url),
                    **{**env, **kwargs},
                )
            except aiohttp.ClientConnectorError as exc:
                raise errors.ConnectError(
                    f"cannot connect to {_hostport(url)}: {exc.os_error}"
                ) from exc
            redirect = resp.status in (301, 302, 303, 307, 308) and "Location" in resp.headers
            if redirect and follow_redirects:
                location = urljoin(url, resp.headers["Location"])
                resp.release()
                if urlsplit(location).scheme not in ("http", "https"):
                    raise errors.ProtocolError(f"redirect to a non-http URL: {location[:100]}")
                if resp.status == 303 or (resp.status in (301, 302) and method == "POST"):
                    method, kwargs = (
                        "GET",
                        {k: v for k, v in kwargs.items() if k not in ("json", "data")},
                    )
                url = location
                continue
            return resp
        raise errors.ProtocolError(f"too many redirects from {_hostport(url)}")

    async def request(
        self,
        method: str,
        url: str,
        *,
        headers: Mapping[str, str] | None = None,
        trusted_host: str | None = None,
        retry: bool = True,
        deadline: float | None = None,
        retry_statuses: frozenset[int] = RETRY_STATUSES,
        max_bytes: int | None = None,
        **kwargs: Any,
    ) -> Reply:
        """One request with its body read (at most `max_bytes`, default `max_body_bytes`);
        retried (when `retry`) on connection errors and 429/502/503/504 (`retry_statuses`),
        with exponential backoff and jitter, honouring `Retry-After`. After the last attempt
        the last reply is returned (the caller maps its status). The running call's
        deadline (`deadline.scope`) bounds it too."""
        deadline = deadlines.earliest(deadline)

        async def once() -> Reply:
            total = self.timeouts.request
            if deadline is not None:
                total = min(total, max(0.001, deadline - asyncio.get_running_loop().time()))
            resp = await self.open(
                method,
                url,
                headers=headers,
                trusted_host=trusted_host,
                timeout=self.client_timeout(total=total),
                **kwargs,
            )
            try:
                body = await read_body(resp, max_bytes or self.max_body_bytes)
            except BaseException:
                resp.close()  # never reuse a connection with an unread body
                raise
            resp.release()
            reply = Reply(resp.status, resp.headers, body, str(resp.url))
            if retry and reply.status in retry_statuses:
                raise _RetryableStatus(reply)
            return reply

        if not retry or self.max_retries == 0:
            try:
                return await self._guard(once, url)
            except _RetryableStatus as exc:
                return exc.reply
            except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
                raise _dropped(url, exc) from exc
        retrying = AsyncRetrying(
            stop=self._stop(deadline),
            wait=self._wait(deadline),
            retry=retry_if_exception_type(
                (
                    _RetryableStatus,
                    errors.ConnectError,
                    aiohttp.ServerDisconnectedError,
                    aiohttp.ClientOSError,
                )
            ),
            reraise=True,
            before_sleep=_log_retry,
        )
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._guard(once, url)
        except _RetryableStatus as exc:
            return exc.reply
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
            raise _dropped(url, exc) from exc  # retries ran out: a typed error, not aiohttp's
        raise AssertionError("unreachable")  # pragma: no cover

    async def _guard(self, fn: Any, url: str) -> Reply:
        try:
            reply: Reply = await fn()
            return reply
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError):
            raise  # retryable as they are: the request most likely never reached the server
        except asyncio.TimeoutError as exc:
            raise errors.SpaceTimeoutError(
                f"{_hostport(url)} did not answer in time; the Space may be starting or "
                "overloaded. Raise `timeout` or retry later."
            ) from exc
        except aiohttp.ClientPayloadError as exc:
            raise errors.SessionLostError(f"connection to {_hostport(url)} was cut") from exc

    def _wait(self, deadline: float | None) -> Any:
        initial, ceiling = self.backoff

        def wait(state: RetryCallState) -> float:
            exc = state.outcome.exception() if state.outcome else None
            hinted = exc.reply.retry_after if isinstance(exc, _RetryableStatus) else None
            backoff = min(ceiling, initial * 2 ** (state.attempt_number - 1))
            delay = hinted if hinted is not None else backoff * (0.5 + random.random())
            if deadline is not None:
                delay = min(delay, max(0.0, deadline - asyncio.get_running_loop().time()))
            return delay

        return wait

    def _stop(self, deadline: float | None) -> Any:
        attempts = stop_after_attempt(self.max_retries + 1)

        def stop(state: RetryCallState) -> bool:
            now = asyncio.get_running_loop().time()
            late = deadline is not None and now >= deadline
            # A `Retry-After` past the deadline (or absurdly long) is not slept through:
            # give up now and let the caller see the hint on the typed error.
            exc = state.outcome.exception() if state.outcome else None
            hinted = exc.reply.retry_after if isinstance(exc, _RetryableStatus) else None
            too_long = hinted is not None and (
                hinted > MAX_RETRY_AFTER or (deadline is not None and now + hinted > deadline)
            )
            return late or too_long or bool(attempts(state))

        return stop

    async def get_json(
        self, url: str, *, headers: Mapping[str, str] | None = None, trusted_host: str | None = None
    ) -> tuple[int, Any]:
        reply = await self.request("GET", url, headers=headers, trusted_host=trusted_host)
        return reply.status, reply.json()


def _within_deadline(timeout: aiohttp.ClientTimeout, url: str) -> aiohttp.ClientTimeout:
    """`timeout` with its total cut to what is left of the running call's deadline."""
    left = deadlines.remaining()
    if left is None or (timeout.total is not None and timeout.total <= left):
        return timeout
    if left <= 0:
        raise errors.SpaceTimeoutError(
            f"the call ran past its deadline before a request to {_hostport(url)}; "
            "raise `timeout` for slow Spaces."
        )
    return aiohttp.ClientTimeout(total=left, connect=timeout.connect, sock_read=timeout.sock_read)


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    what = f"HTTP {exc.reply.status}" if isinstance(exc, _RetryableStatus) else type(exc).__name__
    log.info("retrying after %s (attempt %d)", what, state.attempt_number)


def _dropped(url: str, exc: BaseException) -> errors.ConnectError:
    return errors.ConnectError(
        f"the connection to {_hostport(url)} was closed or reset ({exc}); the server may be "
        "restarting or overloaded. Retry later."
    )


def _hostport(url: str) -> str:
    parts = urlsplit(url)
    return parts.netloc.rpartition("@")[2] or public_url(url)[:60]
