"""`SpaceClient`: the async client for one Gradio app (a Space or any Gradio server).

One aiohttp session (lazy; closed by `aclose()` / `async with`), `/config` discovery cached,
endpoints resolved by api_name, uploads deduplicated by content hash, `submit()` → `Job`.
No network in the constructor.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import secrets
from collections.abc import Awaitable, Coroutine, Iterable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import quote, urlsplit

import aiohttp

from . import deadline as deadlines
from . import errors, protocol
from .auth import ZeroGPUIdentity, caller_headers, is_hf_space_origin
from .config import Endpoint, SpaceConfig, parse_config
from .job import Job, TextOf
from .media import Media
from .schema import EndpointSchema, SpaceSchema, build_schema, endpoint_schema
from .secret import Secret
from .tasks import gather_all
from .transport import (
    Timeouts,
    Transport,
    basic_auth_header,
    origin,
    public_url,
    read_body,
)
from .waiting import Busy, WaitingLine

log = logging.getLogger("hfspaces")

DEFAULT_MAX_DOWNLOAD = 100 * 1024 * 1024
#: Bound on cleanup work (server-side cancels) when the client closes.
CLOSE_GRACE = 5.0
# Longest wait for the first message when hanging up a gradio 5 session before a cancel
# (normally at once: the join's `estimation` is already pending).
HANG_UP_WAIT = 5.0
#: Longest wait for a place in a full queue (503 on join), inside the call's deadline:
#: a busy ZeroGPU Space is normal, so wait minutes, not seconds.
DEFAULT_MAX_QUEUE_WAIT = 600.0
#: First wait and ceiling of the queue-full backoff (seconds).
QUEUE_BACKOFF = (1.0, 30.0)
#: Join answers retried on the spot by the transport (503 is a full queue: see `Job`).
JOIN_RETRY_STATUSES = frozenset({429, 502, 504})


class SpaceClient:
    """Client for one Space.

    target: a Space id (`owner/name`, reached at its `*.hf.space` host) or a base URL
    (http/https, with or without a path prefix). `space_id` names the Space a URL target
    stands for (a duplicate, a proxy, or the replica).

    Identity (`hf_token`: a token, None or "" to read `HF_TOKEN`, False for anonymous):
    the token is sent, as `x-hf-authorization`, only to a Space's own
    `https://*.hf.space` origin, unless `send_hf_token` says otherwise for this endpoint
    (True: send it here too, e.g. to a proxy in front of a Space; False: never).
    `zerogpu_jwt=True` instead sends the token to the Hub only, for a ZeroGPU JWT for
    `space_id` that joins carry as `x-zerogpu-token` (the browser's route, unconfirmed;
    off by default, see `auth`).
    `user:password@` in the URL is sent as HTTP basic auth and never shown. Output files
    are fetched from the Space's own origin only, plus the `file_origins` (URLs) allowed.
    """

    def __init__(
        self,
        target: str,
        *,
        space_id: str | None = None,
        hf_token: Any = None,
        send_hf_token: bool | None = None,
        zerogpu_jwt: bool = False,
        hub_url: str | None = None,
        timeout: Timeouts | float | None = None,
        max_retries: int = 3,
        session: aiohttp.ClientSession | None = None,
        headers: Mapping[str, str] | None = None,
        max_download_bytes: int = DEFAULT_MAX_DOWNLOAD,
        max_quota_wait: float = 0.0,
        max_queue_wait: float = DEFAULT_MAX_QUEUE_WAIT,
        file_origins: Iterable[str] = (),
    ) -> None:
        target = target.strip()
        if protocol.is_space_id(target):
            self.base_url = "https://" + protocol.space_host(target)
            self.space_id: str | None = space_id or target
        else:
            parts = urlsplit(target)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise errors.InvalidInputError(
                    f"endpoint must be a Space id ('owner/name') or an http(s) URL: {target!r}"
                )
            self.base_url = public_url(target.rstrip("/"))
            self.space_id = space_id
        if space_id is not None:
            protocol.space_host(space_id)  # validates the id
        self.transport = Transport(
            timeouts=Timeouts.of(timeout), max_retries=max_retries, session=session
        )
        token = Secret.coerce(hf_token)
        if zerogpu_jwt and (self.space_id is None or token is None):
            raise errors.InvalidInputError(
                "zerogpu_jwt=True needs a Space id (space_id=...) and an HF token (hf_token=... "
                "or HF_TOKEN) to ask the Hub for the Space's ZeroGPU token"
            )
        send = is_hf_space_origin(self.base_url) if send_hf_token is None else send_hf_token
        #: The HF token this endpoint receives (None: not sent here). On the JWT route
        #: the token goes to the Hub only, and the Space gets the JWT.
        self.hf_token = token if send and not zerogpu_jwt else None
        #: The caller has a token that this endpoint does not get (not a `*.hf.space`
        #: origin and no `send_hf_token=True`): error advice says so.
        self.token_withheld = token is not None and not send and not zerogpu_jwt
        self.identity = ZeroGPUIdentity(
            self.space_id or "local/app", token if zerogpu_jwt else None, hub_url
        )
        self.headers = dict(headers or {})
        basic = basic_auth_header(target)
        if basic is not None:
            self.headers.setdefault("Authorization", basic)
        self.file_origins = frozenset({origin(self.base_url), *map(origin, file_origins)})
        self.max_download_bytes = max_download_bytes
        self.max_quota_wait = max_quota_wait
        if not (isinstance(max_queue_wait, (int, float)) and 0 <= max_queue_wait < float("inf")):
            raise errors.InvalidInputError(
                f"max_queue_wait must be a finite number of seconds >= 0: {max_queue_wait!r}"
            )
        self.max_queue_wait = float(max_queue_wait)
        #: First wait and ceiling of the queue-full backoff (tests shorten it).
        self.queue_backoff_range = QUEUE_BACKOFF
        self._waiting_line = WaitingLine()
        self._config: SpaceConfig | None = None
        self._schema: SpaceSchema | None = None
        self._config_lock: asyncio.Lock | None = None
        self._uploads: dict[str, asyncio.Future[dict[str, Any]]] = {}
        #: Server path of each upload → what was uploaded (to upload it again if the
        #: Space loses it).
        self._uploaded: dict[str, Media] = {}
        self._background: set[asyncio.Task[Any]] = set()
        #: Jobs joined and not yet finished: `aclose()` cancels the ones left behind (also
        #: jobs the caller dropped unread: they still hold a place in the Space's queue).
        self._jobs: set[Job] = set()

    @property
    def caller(self) -> protocol.Caller:
        """Who this endpoint sees, for error advice."""
        if self.hf_token is not None or not self.identity.anonymous:
            return "token"
        return "token_withheld" if self.token_withheld else "anonymous"

    def __repr__(self) -> str:
        who = self.caller + (", zerogpu_jwt" if not self.identity.anonymous else "")
        return f"SpaceClient({self.space_id or self.base_url!r}, url={self.base_url!r}, {who})"

    async def __aenter__(self) -> SpaceClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Cancel jobs left unfinished, finish pending server-side cancels (bounded) and
        close the HTTP session."""
        try:
            # An `async for` left with `break` is closed by the event loop's async-generator
            # finaliser a few turns later: let those run, then stop whatever is still open.
            for _ in range(3):
                await asyncio.sleep(0)
            for job in list(self._jobs):
                job._abandon()
            if self._background:
                await asyncio.wait(list(self._background), timeout=CLOSE_GRACE)
                for task in self._background:
                    task.cancel()
        finally:
            # Even when interrupted (loop shutdown, cancellation) the session gets closed.
            await self.transport.aclose()

    # -- discovery ------------------------------------------------------------

    async def config(self, *, refresh: bool = False) -> SpaceConfig:
        """The app's `/config`, fetched once and cached."""
        if self._config is not None and not refresh:
            return self._config
        if self._config_lock is None:
            self._config_lock = asyncio.Lock()
        stale = self._config
        async with self._config_lock:
            if self._config is not None and self._config is not stale:
                return self._config  # someone refreshed it while we waited
            reply = await self.transport.request(
                "GET", f"{self.base_url}/config", headers=self._space_headers()
            )
            if reply.status in (401, 403):
                raise errors.AuthError(
                    f"the Space refused access (HTTP {reply.status}); {self._access_advice()}",
                    space=self.space_id,
                )
            if reply.status == 404:
                raise errors.ServerError(
                    f"no Gradio app at {self.base_url} (HTTP 404 on /config); check the endpoint "
                    "or Space id. A sleeping Space wakes when visited on the Hub.",
                    space=self.space_id,
                    status=404,
                )
            if reply.status != 200:
                raise _status_error(reply.status, "reading the app's config", self.space_id)
            fresh = parse_config(reply.json(), self.space_id)
            if stale is not None and fresh != stale:
                # A changed app is a restarted one: the files it had are likely gone.
                self._forget_uploads()
            self._config = fresh
            return self._config

    async def schema(self, *, refresh: bool = False) -> SpaceSchema:
        """Typed descriptions of every endpoint, from `/config` and, for the parameter
        names, `/info` (a Space without it gets names from the labels)."""
        config = await self.config(refresh=refresh)
        if self._schema is not None and not refresh and self._config is config:
            return self._schema
        info: Any = None
        with contextlib.suppress(errors.SpaceError):
            reply = await self.transport.request(
                "GET", f"{self.base_url}{config.api_prefix}/info", headers=self._space_headers()
            )
            info = reply.json() if reply.status == 200 else None
        self._schema = build_schema(config, info if isinstance(info, dict) else None,
                                    space=self.space_id)  # fmt: skip
        return self._schema

    async def endpoint_schema(
        self, name: str | int, *, fallback: int | None = None
    ) -> EndpointSchema:
        """The typed description of one endpoint (resolved as `endpoint()` does)."""
        found = await self.endpoint(name, fallback=fallback)
        return (await self.schema()).endpoint(found.fn_index)

    async def endpoint(self, name: str | int, *, fallback: int | None = None) -> Endpoint:
        """Resolve an endpoint by api_name (with or without '/') or fn_index."""
        config = await self.config()
        found = config.find(name)
        if found is None and fallback is not None:
            found = config.find(fallback)
        if found is None:
            available = config.api_names
            raise errors.EndpointNotFoundError(
                f"the app has no endpoint {name!r}; available api_names: "
                f"{', '.join('/' + a for a in available) or '(none)'}",
                space=self.space_id,
                available=available,
            )
        return found

    async def queue_size(self) -> int | None:
        """Jobs waiting in the app's queue (`queue/status`), None when it does not say."""
        config = await self.config()
        reply = await self.transport.request(
            "GET", f"{self.base_url}{config.api_prefix}/queue/status", headers=self._space_headers()
        )
        body = reply.json() if reply.status == 200 else None
        size = body.get("queue_size") if isinstance(body, dict) else None
        return size if isinstance(size, int) and not isinstance(size, bool) and size >= 0 else None

    # -- files ----------------------------------------------------------------

    async def upload(self, media: Media) -> dict[str, Any]:
        """Upload once per content hash and return the FileData to pass as an input.
        URL media are not uploaded: the Space fetches them itself."""
        if media.url is not None:
            return protocol.file_data(media.url, orig_name=media.name, mime_type=media.mime_type)
        # Hashing a file reads all of it: not on the event loop.
        key = media.digest() if media.data is not None else await asyncio.to_thread(media.digest)
        while True:
            future = self._uploads.get(key)
            if future is None:
                break
            try:
                return dict(await asyncio.shield(future))
            except asyncio.CancelledError:
                if not future.cancelled():
                    raise  # this caller was cancelled
                # The caller doing the upload was cancelled, not us: upload it ourselves.
        future = asyncio.get_running_loop().create_future()
        self._uploads[key] = future
        try:
            result = await self._upload(media)
        except BaseException as exc:
            del self._uploads[key]  # failed uploads are not cached: the next call retries
            if isinstance(exc, asyncio.CancelledError):
                future.cancel()  # waiters upload themselves instead of inheriting it
            else:
                future.set_exception(exc)
                future.exception()  # mark retrieved: waiters get it, no "never retrieved"
            raise
        future.set_result(result)
        self._uploaded[result["path"]] = media
        return dict(result)

    def _forget_uploads(self, paths: Sequence[str] | None = None) -> None:
        """Drop cached uploads (all, or those of `paths`): the next use uploads again."""
        for path in list(self._uploaded) if paths is None else paths:
            media = self._uploaded.pop(path, None)
            if media is not None:
                self._uploads.pop(media.digest(), None)

    async def reupload_lost(self, data: Any) -> Any | None:
        """After a failed call: if `data` carries files this client uploaded that the
        Space no longer serves (it restarted: its upload folder is new), upload them
        again and return `data` with the new paths; None when nothing was lost (the
        failure is something else). One GET per uploaded file, only on failure."""
        paths = sorted({p for p in _file_paths(data) if p in self._uploaded})
        if not paths:
            return None
        lost = [p for p in paths if not await self._still_served(p)]
        if not lost:
            return None
        media = {p: self._uploaded[p] for p in lost}
        self._forget_uploads(lost)
        fresh = await gather_all(self.upload(m) for m in media.values())
        moved = {old: new["path"] for old, new in zip(media, fresh, strict=True)}
        log.info("the Space lost %d uploaded file(s) (restarted?); uploaded again", len(lost))
        return _replace_paths(data, moved)

    async def _still_served(self, path: str) -> bool:
        config = self._config or await self.config()
        url = f"{self.base_url}{config.api_prefix}/file={quote(path)}"
        try:
            resp = await self.transport.open("GET", url, headers=self._space_headers())
        except (errors.SpaceError, aiohttp.ClientError, asyncio.TimeoutError):
            return True  # cannot tell: do not blame the upload
        resp.close()  # the status is enough: do not read the file
        return resp.status == 200

    async def _upload(self, media: Media) -> dict[str, Any]:
        config = await self.config()
        url = f"{self.base_url}{config.api_prefix}/upload?upload_id={secrets.token_hex(6)}"
        with contextlib.ExitStack() as stack:
            form = aiohttp.FormData()
            body: Any = media.data if media.data is not None else stack.enter_context(_open(media))
            form.add_field(
                "files",
                body,
                filename=media.filename,
                content_type=media.mime_type or "application/octet-stream",
            )
            try:
                reply = await self.transport.request(
                    "POST",
                    url,
                    data=form,
                    headers=self._space_headers(),
                    retry=False,
                    follow_redirects=False,  # a streamed file cannot be sent twice
                )
            except errors.SpaceTimeoutError as exc:
                raise errors.UploadError(
                    f"upload timed out: {exc.message}", space=self.space_id
                ) from exc
            except (aiohttp.ClientError, OSError) as exc:
                raise errors.UploadError(
                    f"upload failed: {type(exc).__name__}: {exc}", space=self.space_id
                ) from exc
        if 300 <= reply.status < 400:
            raise errors.UploadError(
                f"the Space redirected the upload (HTTP {reply.status}); uploads are not "
                "sent twice. Point the client at the URL the Space redirects to.",
                space=self.space_id,
            )
        if reply.status == 413:
            raise errors.UploadError(
                f"the Space refused the upload as too large ({media.size} bytes, HTTP 413); "
                "send a smaller file.",
                space=self.space_id,
            )
        paths = reply.json()
        if reply.status != 200 or not isinstance(paths, list) or not paths:
            raise errors.UploadError(
                f"upload failed (HTTP {reply.status}): {reply.body[:200]!r}", space=self.space_id
            )
        return protocol.file_data(
            str(paths[0]), orig_name=media.filename, size=media.size, mime_type=media.mime_type
        )

    def file_url(self, value: Any) -> str:
        """The download URL of an output FileData (or a server path / URL string).

        Raises `DownloadError` for a URL outside the Space's origin (and `file_origins`)
        and for a server path that climbs out of its directory (`..`)."""
        path = value.get("path") if isinstance(value, dict) else value
        url = value.get("url") if isinstance(value, dict) else None
        if isinstance(path, str) and path.startswith(("http://", "https://")):
            return self._allowed_file_url(path)
        if isinstance(path, str) and path:
            if ".." in path.replace("\\", "/").split("/"):
                raise errors.DownloadError(
                    f"refused the output file path {path[:120]!r}: it climbs out of its "
                    "directory ('..')",
                    space=self.space_id,
                )
            prefix = self._config.api_prefix if self._config else "/gradio_api"
            return f"{self.base_url}{prefix}/file={quote(path)}"
        if isinstance(url, str) and url.startswith(("http://", "https://")):
            return self._allowed_file_url(url)
        raise errors.ProtocolError(f"output is not a file: {value!r:.120}", space=self.space_id)

    def _allowed_file_url(self, url: str) -> str:
        if origin(url) not in self.file_origins:
            raise errors.DownloadError(
                f"refused an output file on another origin ({public_url(url)[:120]}): output "
                "files come from the Space's own origin; pass file_origins=[...] to allow more",
                space=self.space_id,
            )
        return public_url(url)

    async def download(self, value: Any, *, max_bytes: int | None = None) -> bytes:
        """Download an output file into memory, refusing more than `max_bytes`."""
        cap = self.max_download_bytes if max_bytes is None else max_bytes
        url = self.file_url(value)
        space = self.space_id

        def too_large(message: str) -> errors.SpaceError:
            return errors.DownloadError(
                f"output file: {message} (raise max_download_bytes to accept it)", space=space
            )

        try:
            resp = await self.transport.open(
                "GET",
                url,
                headers=self._space_headers(),
                trusted_host=self.base_url,
                allowed_origins=self.file_origins,
                timeout=self.transport.client_timeout(total=self.transport.timeouts.total),
            )
        except errors.ProtocolError as exc:
            raise errors.DownloadError(exc.message, space=space) from exc
        except asyncio.TimeoutError as exc:
            raise errors.DownloadError(
                "output file download timed out before the server answered; retry later",
                space=space,
            ) from exc
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
            raise errors.DownloadError(
                f"the connection was closed or reset before the output file arrived ({exc}); "
                "retry the download",
                space=space,
            ) from exc
        try:
            if resp.status != 200:
                raise errors.DownloadError(
                    f"download of an output file failed (HTTP {resp.status})", space=space
                )
            return await read_body(resp, cap, too_large=too_large)
        except asyncio.TimeoutError as exc:
            raise errors.DownloadError("output file download timed out", space=space) from exc
        except (aiohttp.ClientPayloadError, aiohttp.ClientConnectionError) as exc:
            raise errors.DownloadError(
                f"the output file download was cut ({exc}); retry the download", space=space
            ) from exc
        finally:
            resp.close()

    # -- calls ----------------------------------------------------------------

    async def submit(
        self,
        endpoint: str | int | Endpoint,
        data: Sequence[Any],
        *,
        text_of: TextOf | None = None,
        fallback_fn_index: int | None = None,
    ) -> Job:
        """Join the queue for `endpoint` (api_name or fn_index) and return the `Job`.

        `data` is positional over the endpoint's inputs: missing trailing inputs and
        `schema.DEFAULT` markers take the Space's declared defaults (an input without one
        is an `InvalidInputError` naming it, before any request); `Media` and
        `pathlib.Path` values are uploaded (once per content) and sent as files.
        Retries joins answered 429/502/504 or failing to connect. A Space whose queue is
        full (503) returns a job that waits for a place as it is read, with a
        `QueueFullWait` event per refusal, up to `max_queue_wait`. Raises typed errors.
        """
        loop = asyncio.get_running_loop()
        # The call's deadline when one runs (`SpaceModel`, `run`), else the job's own.
        deadline = deadlines.earliest(loop.time() + self.transport.timeouts.total)
        assert deadline is not None
        resolved = (
            endpoint
            if not isinstance(endpoint, (str, int))
            else await self.endpoint(endpoint, fallback=fallback_fn_index)
        )
        payload = await self._inputs(resolved, data)
        job = Job(
            self,
            resolved,
            payload,
            session_hash=_session_hash(),
            event_id="",
            joined_at=loop.time(),
            deadline=deadline,
            text_of=text_of,
            rejoin=self._rejoin,
        )
        job.busy = await self._join_or_cancel(
            job, endpoint if isinstance(endpoint, (str, int)) else None
        )
        self._jobs.add(job)
        return job

    async def _join_or_cancel(self, job: Job, name: str | int | None) -> Busy | None:
        """Join; if the caller is cancelled meanwhile, the join may already be on the
        server: once it answers, cancel the job there too, or it would run (and spend GPU
        quota) for nobody."""
        joining = asyncio.ensure_future(self._join(job, name=name))
        try:
            return await asyncio.shield(joining)
        except asyncio.CancelledError:
            self._spawn(self._cancel_when_joined(joining, job))
            raise

    async def _cancel_when_joined(self, joining: asyncio.Future[Busy | None], job: Job) -> None:
        with contextlib.suppress(Exception):
            await joining
        if job.event_id:
            await self._cancel_on_server(job)

    async def run(self, endpoint: str | int, data: Sequence[Any], **kwargs: Any) -> list[Any]:
        """Submit and wait for the outputs (queued), or call directly (unqueued functions).
        `Timeouts.total` bounds the whole call, config included."""
        total = self.transport.timeouts.total
        end = asyncio.get_running_loop().time() + total
        async with deadlines.bounded(end, total, self.space_id):
            ep = await self.endpoint(endpoint)
            if not ep.queued:
                return await self.predict(ep, data)
            job = await self.submit(ep, data, **kwargs)
            return await job.result()

    async def predict(
        self, endpoint: str | int | Endpoint, data: Sequence[Any], *, fallback: int | None = None
    ) -> list[Any]:
        """Call an unqueued function through `run/predict` (answers in the response)."""
        ep = (
            endpoint
            if not isinstance(endpoint, (str, int))
            else await self.endpoint(endpoint, fallback=fallback)
        )
        config = await self.config()
        body = {
            "data": await self._inputs(ep, data),
            "fn_index": ep.fn_index,
            "trigger_id": ep.trigger_id,
            "event_data": None,
            "session_hash": _session_hash(),
        }
        for attempt in (1, 2):
            reply = await self.transport.request(
                "POST",
                f"{self.base_url}{config.api_prefix}/run/predict",
                json=body,
                headers={**self._space_headers(), **await self._identity_headers()},
                max_bytes=self.transport.max_stream_bytes,  # the answer carries the outputs
            )
            answer = reply.json()
            if (
                reply.status == 200
                and isinstance(answer, dict)
                and isinstance(answer.get("data"), list)
            ):
                return list(answer["data"])
            if isinstance(answer, dict) and "error" in answer:
                error = protocol.error_from_output(answer, self.space_id, self.caller)
                again = await self.reupload_lost(body["data"]) if attempt == 1 else None
                if again is None:
                    raise error
                body["data"] = again  # the Space restarted and lost our files: once more
                continue
            raise _status_error(reply.status, "calling the function", self.space_id)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _inputs(self, endpoint: Endpoint, data: Sequence[Any]) -> list[Any]:
        """The payload to send: defaults filled, files uploaded (in parallel)."""
        filled = endpoint_schema(await self.config(), endpoint, space=self.space_id).fill(data)
        slots = [
            (i, j, v)
            for i, value in enumerate(filled)
            for j, v in (enumerate(value) if isinstance(value, list) else [(None, value)])
            if isinstance(v, (Media, os.PathLike))
        ]
        if not slots:
            return filled
        uploaded = await gather_all(self.upload(Media.of(v)) for _, _, v in slots)
        filled = [list(v) if isinstance(v, list) else v for v in filled]  # caller's lists kept
        for (i, j, _), file_data in zip(slots, uploaded, strict=True):
            if j is None:
                filled[i] = file_data
            else:
                filled[i][j] = file_data
        return filled

    async def _join(self, job: Job, *, name: str | int | None) -> Busy | None:
        """One place in the Space's queue for `job`, or `Busy` when the Space turned the
        join away with a 503 (its queue is full: the job waits, see `Job`)."""
        config = await self.config()
        for attempt in (1, 2):
            payload = {
                "data": job.data,
                "fn_index": job.endpoint.fn_index,
                "session_hash": job.session_hash,
                "trigger_id": job.endpoint.trigger_id,
                "event_data": None,
            }
            headers = {**self._space_headers(), **await self._identity_headers()}
            reply = await self.transport.request(
                "POST",
                f"{self.base_url}{config.api_prefix}/queue/join",
                json=payload,
                headers=headers,
                deadline=job.deadline,
                # A full queue is waited through by the job (with events), not retried
                # blind here.
                retry_statuses=JOIN_RETRY_STATUSES,
            )
            answer = reply.json()
            if (
                reply.status == 200
                and isinstance(answer, dict)
                and isinstance(answer.get("event_id"), str)
            ):
                job.event_id = answer["event_id"]
                job._joined_at = asyncio.get_running_loop().time()
                return None
            if reply.status == 503:
                return Busy(_detail(answer) or "HTTP 503", reply.retry_after)
            if attempt == 1 and reply.status in (400, 404, 422, 500) and name is not None:
                # The Space may have changed (fn_index moved): refresh the config once.
                fresh = await self.config(refresh=True)
                moved = fresh.find(name)
                if moved is not None and moved != job.endpoint:
                    job.endpoint = moved
                    config = fresh
                    continue
            raise _join_error(reply.status, answer, reply.retry_after, self.space_id)
        raise AssertionError("unreachable")  # pragma: no cover

    def queue_backoff(self, attempt: int, hint: float | None) -> float:
        """Seconds before join attempt `attempt + 1` after `attempt` refusals: the
        Space's `Retry-After` when it gives one, else exponential from 1 s to a 30 s
        ceiling with ±50 % jitter, so that waiting callers neither hammer the Space nor
        fall into step with each other."""
        first, ceiling = self.queue_backoff_range
        if hint is not None:
            return max(first / 2, float(hint))
        return min(ceiling, first * 2.0 ** (attempt - 1)) * (0.5 + random.random())

    def queue_full_error(
        self, busy: Busy, attempts: int, waited: float, deadline_hit: bool
    ) -> errors.QueueFullError:
        bound = (
            f"the call's {self.transport.timeouts.total:g} s deadline"
            if deadline_hit
            else f"max_queue_wait={self.max_queue_wait:g} s"
        )
        return errors.QueueFullError(
            f"the Space turned the job away for {waited:.0f} s ({busy.reason}; {attempts} "
            f"attempts) until {bound}. A ZeroGPU Space runs one job and holds one more, and is "
            "shared with everyone: try again later, raise max_queue_wait (and timeout), or "
            "duplicate the Space.",
            space=self.space_id,
        )

    async def _rejoin(self, job: Job) -> Busy | None:
        job.session_hash = _session_hash()
        return await self._join_or_cancel(job, job.endpoint.api_name)

    async def _open_stream(self, job: Job) -> aiohttp.ClientResponse:
        config = self._config or await self.config()
        remaining = max(0.001, job.deadline - asyncio.get_running_loop().time())
        url = f"{self.base_url}{config.api_prefix}/queue/data?session_hash={job.session_hash}"
        try:
            resp = await self.transport.open(
                "GET",
                url,
                headers=self._space_headers(),
                timeout=self.transport.client_timeout(total=remaining),
            )
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
            raise errors.SessionLostError(
                f"the connection was reset while opening the event stream ({exc}); "
                "submit the job again.",
                space=self.space_id,
            ) from exc
        if resp.status != 200:
            resp.close()
            if resp.status == 404:
                raise errors.SessionLostError(
                    "the Space does not know our session (HTTP 404 on queue/data)",
                    space=self.space_id,
                )
            raise _status_error(resp.status, "opening the event stream", self.space_id)
        return resp

    async def _cancel_on_server(self, job: Job, *, listening: bool = False) -> None:
        """POST /cancel for the job's event. `listening`: the job's own event stream was
        open until now (its disconnect already makes the server drop the session)."""
        if not job.event_id:
            return
        config = self._config or await self.config()
        if config.major_version < 6 and not listening:
            try:
                await self._hang_up_session(job, config)
            except Exception as exc:  # whatever the stream did, the cancel below is sent
                log.debug("hanging up job %s failed: %r", job.event_id, exc)
        body = {
            "session_hash": job.session_hash,
            "fn_index": job.endpoint.fn_index,
            "event_id": job.event_id,
        }
        with contextlib.suppress(errors.SpaceError, aiohttp.ClientError, asyncio.TimeoutError):
            await self.transport.request(
                "POST",
                f"{self.base_url}{config.api_prefix}/cancel",
                json=body,
                headers=self._space_headers(),
                retry=False,
            )

    async def _hang_up_session(self, job: Job, config: SpaceConfig) -> None:
        """gradio 5's `/cancel` stops a running task but leaves an event still waiting in
        the queue (gradio 6 removes it), so the job would run later, for nobody, on the
        caller's GPU quota. gradio 5 drops a session's waiting events when its `queue/data`
        stream disconnects: open it, read one message (the join's `estimation` is already
        pending there, so it comes at once) to be sure the server is serving it, hang up.
        One session per job, so no other job is touched. Best effort, bounded."""
        url = f"{self.base_url}{config.api_prefix}/queue/data?session_hash={job.session_hash}"
        bound = min(HANG_UP_WAIT, self.transport.timeouts.request)
        with contextlib.suppress(errors.SpaceError, aiohttp.ClientError, asyncio.TimeoutError):
            resp = await self.transport.open(
                "GET",
                url,
                headers=self._space_headers(),
                timeout=self.transport.client_timeout(total=bound),
            )
            try:
                if resp.status == 200:
                    # One chunk, not a line: a hostile endless line must not stop the cancel.
                    await resp.content.readany()
            finally:
                resp.close()

    def _spawn(self, coro: Coroutine[Any, Any, Any] | Awaitable[Any]) -> None:
        """Run cleanup in the background; `aclose()` waits for it (bounded)."""
        try:
            task = asyncio.ensure_future(coro)
        except RuntimeError:  # no running loop (interpreter shutdown): nothing to do
            if asyncio.iscoroutine(coro):
                coro.close()
            return
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        task.add_done_callback(_log_failure)

    def _access_advice(self) -> str:
        """What a caller refused by a (private) Space can do, given who it is."""
        if self.caller == "token":
            return (
                "your HF token was sent but has no access to this Space: use a token of an "
                "account that can read it (huggingface.co/settings/tokens)."
            )
        if self.caller == "token_withheld":
            return (
                "your HF token was not sent, as this endpoint is not a Space's https "
                "*.hf.space address; pass send_hf_token=True if it stands for one."
            )
        return "a private Space needs an HF token with access to it (hf_token=... or HF_TOKEN)."

    def _space_headers(self) -> dict[str, str]:
        """Headers for every request to the Space: the caller's own, and the HF token
        where it belongs (`caller_headers`; the transport drops it on a redirect to
        another origin)."""
        return {**self.headers, **caller_headers(self.hf_token)}

    async def _identity_headers(self) -> dict[str, str]:
        """Extra identity for a join or predict: the ZeroGPU JWT when opted in."""
        return await self.identity.headers(self.transport)


def _file_paths(value: Any) -> Iterator[str]:
    """Server paths of the FileData values anywhere in `value`."""
    if protocol.is_file_data(value):
        yield value["path"]
    elif isinstance(value, dict):
        for item in value.values():
            yield from _file_paths(item)
    elif isinstance(value, list):
        for item in value:
            yield from _file_paths(item)


def _replace_paths(value: Any, moved: Mapping[str, str]) -> Any:
    """`value` with the FileData paths in `moved` replaced (new containers, the caller's
    are not touched)."""
    if protocol.is_file_data(value) and value["path"] in moved:
        return {**value, "path": moved[value["path"]], "url": None}
    if isinstance(value, dict):
        return {k: _replace_paths(v, moved) for k, v in value.items()}
    if isinstance(value, list):
        return [_replace_paths(v, moved) for v in value]
    return value


def _log_failure(task: asyncio.Task[Any]) -> None:
    """Cleanup is best effort, but its failure is seen (never "exception never retrieved")."""
    if not task.cancelled() and task.exception() is not None:
        log.warning("background cleanup failed: %r", task.exception())


def _session_hash() -> str:
    return secrets.token_hex(6)


def _open(media: Media) -> Any:
    assert media.path is not None
    return media.path.open("rb")


def _status_error(status: int, what: str, space: str | None) -> errors.SpaceError:
    if status in (401, 403):
        return errors.AuthError(f"access denied (HTTP {status}) {what}", space=space)
    if status == 429:
        return errors.RateLimitError(f"rate limited (HTTP 429) {what}; retry later", space=space)
    return errors.ServerError(
        f"the Space answered HTTP {status} {what}; it may be restarting or broken — retry later",
        space=space,
        status=status,
    )


def _detail(answer: Any) -> str:
    detail = answer.get("detail") if isinstance(answer, dict) else None
    return protocol.strip_html(str(detail))[:200] if detail else ""


def _join_error(
    status: int, answer: Any, retry_after: float | None, space: str | None
) -> errors.SpaceError:
    detail_text = _detail(answer)
    if status == 429:
        return errors.RateLimitError(
            f"the Space rate-limited the request (HTTP 429) {detail_text}; retry later.",
            space=space,
            retry_after=retry_after,
        )
    if status == 422:
        return errors.ServerError(
            f"the Space rejected the inputs (HTTP 422): {detail_text[:300]}. The Space's API may "
            "have changed; check the endpoint's parameters.",
            space=space,
            status=422,
        )
    return _status_error(status, "joining the queue", space)
