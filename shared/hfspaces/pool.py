"""Several copies of one Space used as one model: which copy takes a job, failing over,
resting a copy that keeps failing, and refusing a copy that is not the same app.

`EndpointPool` holds what the client knows about each copy (its own jobs in flight, the
queue size and run times the copy reported, the queue limit a 503 revealed, recent
failures). It is shared by every event loop the owning `SpaceModel` runs in: the state is
plain numbers behind a lock, and clients (bound to one loop) stay with `SpaceModel`.

Choosing: the job goes to the copy expected to *finish* it soonest — (jobs ahead + 1) x
that copy's run time — among copies with room; near-equal copies are picked at random so
concurrent callers spread instead of herding. When every copy is at its limit the job
waits in a first-come queue on the client (no 503 storm on the Spaces), and a job far
back in that queue takes a slower copy's free slot rather than wait for a fast one.

Failing over: see `failover_kind`. A job that already produced output is never rerun.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import re
import threading
import time
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from . import errors
from .config import SpaceConfig
from .events import Completed, Event, Partial, Queued, Rerouted, Started, TextDelta
from .generation import Generation
from .transport import public_url

log = logging.getLogger("hfspaces")

#: Copies of one Space in `HFSPACES_ENDPOINTS` / an `endpoint=` string: `space=a|b|owner/dup`.
SEPARATOR = "|"
#: What a copy is assumed to hold (one running, one waiting: the ZeroGPU shape) until it
#: shows more (several of our jobs running at once) or a 503 says less.
DEFAULT_ROOM = 2
#: Consecutive failures that open the circuit (the copy rests, then takes one probe job).
BREAKER_THRESHOLD = 3
BREAKER_REST = (5.0, 300.0)  # first rest, longest rest (doubling in between)
#: Rest after a failure below the threshold (doubling): a natural backoff per copy.
FAILURE_REST = 0.5
#: Rest when a copy's ZeroGPU quota runs out without saying for how long.
QUOTA_REST = 600.0
RATE_LIMIT_REST = 5.0
#: A copy full of other people's jobs (503 with none of ours there) is asked again after this.
FULL_REST = 1.0
#: A 503 this soon after one of our jobs finished there is the copy still clearing that
#: job (gradio frees the slot a moment after it answers): ask again almost at once.
SETTLING = 1.0
SETTLE_REST = 0.05
#: After one of our jobs finishes on a copy where another of ours waits, the next join
#: waits this long: gradio moves the waiting job to the free worker a moment later, and a
#: join before that finds the waiting slot still taken (a 503). The copy is busy with our
#: job meanwhile, so the pause costs nothing.
AFTER_DONE = 0.1
#: Queue sizes reported longer ago than this no longer count.
REPORT_TTL = 15.0
#: Copies whose expected finish is within this factor of the best are picked at random.
TIE = 1.15
#: Waiting jobs look at the pool again at least this often (rests end, reports age).
RECHECK = 0.5
EWMA = 0.3

FailoverKind = Literal["connect", "server", "queue_full", "quota", "rate_limit", "gpu", "lost"]


def split_endpoints(value: str | Sequence[str]) -> list[str]:
    """`"a|b"` or `["a", "b|c"]` → `["a", "b", "c"]` (blanks dropped, order kept)."""
    items = [value] if isinstance(value, str) else list(value)
    out = [part.strip() for item in items for part in str(item).split(SEPARATOR)]
    return [part for part in out if part]


def signature(config: SpaceConfig) -> dict[str, tuple[str, ...]]:
    """What copies must share: every named endpoint and the types of its inputs."""
    return {
        ep.api_name: tuple(config.component_type(i) or "?" for i in ep.inputs)
        for ep in config.endpoints
        if ep.api_name
    }


def difference(
    name: str, sig: Mapping[str, tuple[str, ...]], ref_name: str, ref: Mapping[str, tuple[str, ...]]
) -> str | None:
    """The first way copy `name` differs from copy `ref_name`, in words, or None."""
    missing = sorted(set(ref) - set(sig))
    extra = sorted(set(sig) - set(ref))
    if missing:
        return (
            f"{name} has no endpoint {', '.join('/' + m for m in missing)} (which {ref_name} has)"
        )
    if extra:
        return f"{name} has endpoint {', '.join('/' + e for e in extra)} (which {ref_name} lacks)"
    for api_name in sorted(ref):
        if sig[api_name] != ref[api_name]:
            return (
                f"/{api_name} takes ({', '.join(sig[api_name])}) on {name} but "
                f"({', '.join(ref[api_name])}) on {ref_name}"
            )
    return None


_MAX_SIZE = re.compile(r"max size is (\d+)", re.IGNORECASE)


def failover_kind(exc: BaseException, produced_output: bool) -> FailoverKind | None:
    """Whether a failed job may move to another copy, and why; None: it may not.

    Moved: a copy that cannot be reached or answers 5xx, a full queue, a ZeroGPU quota or
    GPU shortage, a rate limit, a session lost or stalled — all before any output. Never
    moved: a job that produced output (text streamed, or a completed job whose download
    or reading failed: `DownloadError`, `ProtocolError`), an error of the app itself
    (`AppError`: the input's fault, it would fail anywhere), bad input, a cancel."""
    if produced_output or isinstance(exc, errors.InvalidInputError):
        return None
    if isinstance(exc, errors.GPUQuotaExceededError):
        return "quota"
    if isinstance(exc, errors.GPUUnavailableError):
        return "gpu"
    if isinstance(exc, errors.QueueFullError):
        return "queue_full"
    if isinstance(exc, errors.RateLimitError):
        return "rate_limit"
    if isinstance(exc, errors.ConnectError):
        return "connect"
    if isinstance(exc, errors.ServerError) and (exc.status or 0) in (404, 500, 502, 503, 504):
        return "server"
    if isinstance(exc, errors.AuthError):
        return "server"  # this copy refuses our identity: another may not
    if isinstance(exc, (errors.SessionLostError, errors.SpaceTimeoutError)):
        return None if getattr(exc, "after_output", False) else "lost"
    return None


@dataclass
class Member:
    """One copy of the Space and what the client knows about it (monotonic seconds)."""

    target: str
    label: str
    in_flight: int = 0
    running: int = 0
    room: int = DEFAULT_ROOM
    #: Jobs the copy takes at most (running + the queue size a 503 named), once known.
    limit: int | None = None
    reported: int | None = None
    reported_at: float = 0.0
    service: float | None = None
    failures: int = 0
    trips: int = 0
    rest_until: float = 0.0
    rest_reason: str = ""
    probing: bool = False
    refused: errors.EndpointMismatchError | None = None
    signature: dict[str, tuple[str, ...]] | None = None
    served: int = 0
    failed: int = 0
    done_at: float = 0.0

    def resting(self, now: float) -> bool:
        return now < self.rest_until

    def has_room(self) -> bool:
        return self.in_flight < (1 if self.probing else self.room)

    def ahead(self, now: float) -> int:
        """Jobs ahead of a new one: ours in flight, or the last reported queue if larger."""
        fresh = self.reported if now - self.reported_at < REPORT_TTL else None
        return max(self.in_flight, fresh or 0)

    def health(self, now: float) -> dict[str, Any]:
        state = (
            "refused"
            if self.refused
            else f"resting {self.rest_until - now:.0f}s ({self.rest_reason})"
            if self.resting(now)
            else "probing"
            if self.probing
            else "ready"
        )
        return {
            "endpoint": self.label,
            "state": state,
            "in_flight": self.in_flight,
            "room": self.room,
            "queue_size": self.reported if now - self.reported_at < REPORT_TTL else None,
            "mean_run_s": None if self.service is None else round(self.service, 3),
            "served": self.served,
            "failed": self.failed,
            "refused": str(self.refused) if self.refused else None,
        }


@dataclass
class _Waiter:
    loop: asyncio.AbstractEventLoop
    wake: asyncio.Future[None] | None = None


class EndpointPool:
    """The copies of one Space behind one model. Use `run` for each job."""

    def __init__(self, targets: Sequence[str], *, space: str) -> None:
        if len(set(targets)) != len(targets):
            twice = sorted({t for t in targets if targets.count(t) > 1})
            raise errors.InvalidInputError(
                f"endpoint listed twice in the pool: {', '.join(map(public_url, twice))}"
            )
        self.space = space
        self.members = [Member(t, public_url(t)) for t in targets]
        self._lock = threading.Lock()
        self._waiters: list[_Waiter] = []
        self._reference: Member | None = None

    def __repr__(self) -> str:
        return f"EndpointPool({[m.label for m in self.members]!r})"

    def health(self) -> list[dict[str, Any]]:
        """Each copy's state for display: ready/probing/resting/refused, load, counters."""
        now = time.monotonic()
        with self._lock:
            return [m.health(now) for m in self.members]

    async def check(
        self,
        read_config: Callable[[Member], Any],
        read_queue: Callable[[Member], Any],
    ) -> list[dict[str, Any]]:
        """Ask every copy now — its `/config`, checked against the others, and its queue
        size — and return the health of each (an unreachable copy says why)."""

        async def one(member: Member) -> str | None:
            try:
                await self._check_copy(member, read_config)
                size = await read_queue(member)
            except errors.SpaceError as exc:
                return f"{type(exc).__name__}: {exc.message}"
            if size is not None:
                member.reported, member.reported_at = size, time.monotonic()
            return None

        problems = await asyncio.gather(*(one(m) for m in self.members))
        report = self.health()
        for entry, problem in zip(report, problems, strict=True):
            if problem is not None and entry["state"] != "refused":
                entry["state"] = "unreachable"
                entry["error"] = problem
        return report

    # -- one job ------------------------------------------------------------------

    async def run(
        self,
        start: Callable[[Member], AsyncIterator[Event | Generation]],
        validate: Callable[[Member], Any],
        *,
        deadline_s: float,
        max_attempts: int,
    ) -> AsyncIterator[Event | Generation]:
        """Run one job on the best copy, moving it on failures it may move on.

        `start(member)` starts the job's events on a copy (ending with a `Generation` for a
        model's job, a `Completed` for a raw endpoint call such as a tool's; events that end
        without either must raise); `validate(member)` returns an awaitable `SpaceConfig`
        of that copy (checked once per copy). Yields the job's events, a `Rerouted` for
        each move, and the final event (a `Generation` names the serving copy as its
        `endpoint`). Raises the last error when no copy can take the job in time."""
        loop = asyncio.get_running_loop()
        deadline = time.monotonic() + deadline_s
        attempts = 0
        last: BaseException | None = None
        while True:
            member = await self._acquire(loop, deadline, last)
            produced = started = False
            began = time.monotonic()
            try:
                await self._check_copy(member, validate)
                events = start(member)
                try:
                    async for event in events:
                        self._observe(member, event)
                        if isinstance(event, (Generation, Completed)):
                            self._succeeded(member, event.duration or time.monotonic() - began)
                            if isinstance(event, Generation):
                                event = replace(event, endpoint=member.label)
                            yield event
                            return
                        # Output already seen: the job is never run again elsewhere.
                        produced = produced or isinstance(event, (TextDelta, Partial))
                        started = started or isinstance(event, Started)
                        yield event
                finally:
                    await events.aclose()  # type: ignore[attr-defined]
            except errors.EndpointMismatchError as exc:
                last = exc
                yield Rerouted(member.label, str(exc), type(exc).__name__, attempts)
                continue
            except Exception as exc:
                kind = failover_kind(exc, produced)
                if kind is None:
                    raise
                attempts += kind != "queue_full"  # a full copy is waited for, bounded
                self._failed(member, kind, exc)
                if attempts >= max_attempts or time.monotonic() >= deadline:
                    raise
                last = exc
                log.info("moving a job off %s after %s: %s", member.label, kind, exc)
                yield Rerouted(member.label, str(exc), type(exc).__name__, attempts)
            finally:
                self._release(member, started)

    # -- choosing -----------------------------------------------------------------

    async def _acquire(
        self, loop: asyncio.AbstractEventLoop, deadline: float, last: BaseException | None
    ) -> Member:
        """Claim a slot on the best copy, waiting in line while every copy is full."""
        me = _Waiter(loop)
        with self._lock:
            self._waiters.append(me)
        try:
            while True:
                now = time.monotonic()
                with self._lock:
                    position = self._waiters.index(me)
                    chosen, wake_next, next_free = self._choose(now, position)
                    if chosen is not None:
                        chosen.in_flight += 1
                        self._waiters.remove(me)
                        return chosen
                    me.wake = loop.create_future()
                    if wake_next:
                        self._wake(position + 1)
                if next_free is None:
                    raise last or errors.EndpointMismatchError(
                        "no copy of the Space can take the job", space=self.space
                    )
                bound = min(deadline, next_free, now + RECHECK) - now
                if now >= deadline:
                    raise last or errors.SpaceTimeoutError(
                        "every copy of the Space stayed full or resting until the deadline; "
                        "add copies or raise `timeout`",
                        space=self.space,
                    )
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(asyncio.shield(me.wake), max(0.001, bound))
        finally:
            with self._lock:
                if me in self._waiters:
                    index = self._waiters.index(me)
                    self._waiters.remove(me)
                    self._wake(index)  # whatever woke us passes on to the next in line

    def _choose(self, now: float, position: int) -> tuple[Member | None, bool, float | None]:
        """(copy to take now, wake the next waiter, when to look again). Under the lock.

        `position` is this job's place in the client's line. A free slot goes to the job
        at the front unless a full copy would finish it sooner (a fast copy about to free
        up beats a slow one free now); then the next in line is asked, and a job far
        enough back takes it. The third value is None when no copy can ever take a job."""
        usable = [m for m in self.members if m.refused is None]
        if not usable:
            return None, False, None
        awake = [m for m in usable if not m.resting(now)]
        if not awake:
            return None, False, min(m.rest_until for m in usable)
        default = self._typical_service()
        finish = {id(m): (m.ahead(now) + 1) * (m.service or default) for m in awake}
        free = [m for m in awake if m.has_room()]
        if not free:
            return None, False, now + RECHECK
        best = min(finish[id(m)] for m in free)
        full = [finish[id(m)] for m in awake if not m.has_room()]
        if full:
            # Waiting: the jobs ahead (ours in flight, and in line before this one) drain
            # through every copy at its rate; no sooner than the best full copy frees up.
            rate = sum(1.0 / (m.service or default) for m in awake)
            ahead = sum(m.in_flight for m in awake) + position
            if max((ahead + 1) / rate, min(full)) * TIE < best:
                return None, True, now + RECHECK
        near = [m for m in free if finish[id(m)] <= best * TIE]
        return random.choice(near), False, now

    def _typical_service(self) -> float:
        known = [m.service for m in self.members if m.service is not None]
        return sum(known) / len(known) if known else 1.0

    def _wake(self, index: int) -> None:
        """Wake the waiter at `index` (if any). Under the lock; any loop."""
        if index < len(self._waiters):
            waiter = self._waiters[index]
            if waiter.wake is not None and not waiter.wake.done():
                waiter.loop.call_soon_threadsafe(_set, waiter.wake)

    def _release(self, member: Member, started: bool) -> None:
        with self._lock:
            member.in_flight -= 1
            member.running -= started
            self._wake(0)

    # -- what the copies tell us ------------------------------------------------

    def _observe(self, member: Member, event: object) -> None:
        if isinstance(event, Queued) and event.queue_size is not None:
            member.reported, member.reported_at = event.queue_size, time.monotonic()
        elif isinstance(event, Started):
            with self._lock:
                member.running += 1
                if member.running >= member.in_flight and member.limit is None:
                    # All our jobs there run at once: the copy serves in parallel.
                    member.room = max(member.room, member.in_flight + 1)

    def _succeeded(self, member: Member, duration: float) -> None:
        with self._lock:
            member.served += 1
            member.done_at = time.monotonic()
            if member.in_flight > 1:
                self._rest(member, member.done_at + AFTER_DONE, "settling")
            member.failures = member.trips = 0
            member.probing = False
            if member.limit is not None and member.room < member.limit:
                member.room += 1  # room lost to other people's jobs comes back slowly
            member.service = (
                duration
                if member.service is None
                else member.service * (1 - EWMA) + duration * EWMA
            )

    def _failed(self, member: Member, kind: FailoverKind, exc: BaseException) -> None:
        now = time.monotonic()
        with self._lock:
            if kind == "queue_full":
                found = _MAX_SIZE.search(str(exc))
                # A 503 says how many may wait there (plus one running); ours already
                # there show what fits beside other people's jobs.
                if found:
                    member.limit = int(found.group(1)) + 1
                if member.limit is not None:
                    member.room = min(member.room, member.limit)
                if now - member.done_at < SETTLING:
                    self._rest(member, now + SETTLE_REST, "full")
                    return
                member.room = max(1, min(member.limit or member.room, member.in_flight - 1))
                if member.in_flight <= 1:
                    self._rest(member, now + FULL_REST * (0.5 + random.random()), "full")
                return
            if kind == "quota":
                wait = getattr(exc, "retry_after", None)
                seconds = wait.total_seconds() if wait is not None else QUOTA_REST
                self._rest(member, now + seconds, "ZeroGPU quota")
                return
            if kind == "rate_limit":
                wait = getattr(exc, "retry_after", None)
                self._rest(member, now + (wait or RATE_LIMIT_REST), "rate limited")
                return
            member.failed += 1
            member.failures += 1
            if member.probing or member.failures >= BREAKER_THRESHOLD:
                first, longest = BREAKER_REST
                rest = min(longest, first * 2**member.trips)
                member.trips += 1
                member.probing = True  # after the rest, one job at a time until one succeeds
                self._rest(member, now + rest, f"circuit open after {kind}")
            else:
                self._rest(member, now + FAILURE_REST * 2 ** (member.failures - 1), kind)

    @staticmethod
    def _rest(member: Member, until: float, reason: str) -> None:
        if until > member.rest_until:
            member.rest_until, member.rest_reason = until, reason

    async def _check_copy(self, member: Member, validate: Callable[[Member], Any]) -> None:
        """Each copy is checked once against the first one read: same endpoints, same
        inputs. A copy that differs is refused for good, with the difference named."""
        if member.signature is not None:
            return
        first = self.members[0]
        if self._reference is None and member is not first and first.signature is None:
            # The first copy listed is the reference when it answers.
            with contextlib.suppress(errors.SpaceError):
                await self._check_copy(first, validate)
        config: SpaceConfig = await validate(member)
        sig = signature(config)
        with self._lock:
            if member.signature is not None or member.refused is not None:
                return
            ref = self._reference
            if ref is None or ref is member:
                self._reference, member.signature = member, sig
                return
            assert ref.signature is not None
            diff = difference(member.label, sig, ref.label, ref.signature)
            if diff is None:
                member.signature = sig
                return
            member.refused = errors.EndpointMismatchError(
                f"copy refused: {diff}. Every endpoint of a pool must serve the same app.",
                space=self.space,
            )
        log.warning("%s", member.refused)
        raise member.refused


def _set(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)
