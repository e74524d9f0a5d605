"""`SpaceCopies`: one Space reached at one endpoint or at several copies of it (a pool).
It holds what `SpaceModel` and the Space tools' `SpaceConnection` share: the client options,
the clients (one per copy and running event loop), and the run of one job on the best copy.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any

from .client import DEFAULT_MAX_QUEUE_WAIT, SpaceClient
from .events import Event
from .generation import Generation
from .loop_clients import LoopClients
from .pool import EndpointPool
from .protocol import is_space_id
from .secret import Secret
from .sync import close_at_exit
from .transport import Timeouts, public_url

#: Starts one job on a copy: `start(client, label)` → the job's events.
Start = Callable[[SpaceClient, str], AsyncIterator[Event | Generation]]


class SpaceCopies:
    """`endpoints`: Space ids and URLs (as given: a URL may carry `user:password@`, which
    only the client sees). `space` names the Space: a URL copy speaks for it (its ZeroGPU
    identity), a Space id for itself. Several endpoints (or `pooled=True`) form a pool."""

    def __init__(
        self,
        endpoints: Sequence[str],
        *,
        space: str,
        hf_token: Any = None,
        send_hf_token: bool | None = None,
        zerogpu_jwt: bool = False,
        hub_url: str | None = None,
        timeout: Timeouts | float | None = None,
        max_retries: int = 3,
        max_quota_wait: float = 0.0,
        max_queue_wait: float = DEFAULT_MAX_QUEUE_WAIT,
        pooled: bool | None = None,
    ) -> None:
        self.endpoints = list(endpoints)
        self.space = space
        self.timeouts = Timeouts.of(timeout)
        self.max_retries = max_retries
        self.options: dict[str, Any] = {
            # Read HF_TOKEN once, here; False keeps "anonymous" anonymous in the client.
            "hf_token": Secret.coerce(hf_token) or False,
            "send_hf_token": send_hf_token,
            "zerogpu_jwt": zerogpu_jwt,
            "hub_url": hub_url,
            "timeout": self.timeouts,
            "max_retries": max_retries,
            "max_quota_wait": max_quota_wait,
            "max_queue_wait": max_queue_wait,
        }
        #: Several copies: jobs are spread over them and moved off failing ones.
        self.pool: EndpointPool | None = None
        if len(self.endpoints) > 1 if pooled is None else pooled:
            self.pool = EndpointPool(self.endpoints, space=space)
            # In a pool the pool retries, on another copy, and holds a job while every
            # copy is full: a copy's own client turns a failure or a 503 over at once.
            self.options.update(max_retries=0, max_queue_wait=0.0)
        for target in self.endpoints:
            self._new_client(target)  # validates the targets and settings now
        self._clients = LoopClients(self._new_client)
        # Sync calls open a session in the shared background loop: close it at exit.
        close_at_exit(self)

    def _new_client(self, target: str) -> SpaceClient:
        own = self.space if is_space_id(self.space) else None
        space_id = None if is_space_id(target) else own
        return SpaceClient(target, space_id=space_id, **self.options)

    def client_for(self, target: str) -> SpaceClient:
        """The client of one copy for the running event loop (sessions are bound to one
        loop)."""
        return self._clients.get(target)

    @property
    def client(self) -> SpaceClient:
        """The client of the (first) copy for the running event loop."""
        return self.client_for(self.endpoints[0])

    async def aclose(self) -> None:
        """Close the clients of the running loop (others close with their loop)."""
        await self._clients.aclose()

    def run(self, start: Start) -> AsyncIterator[Event | Generation]:
        """One job's events: on the one endpoint, or through the pool, which chooses the
        copy, moves the job off failing ones before any output and says so (`Rerouted`)."""
        if self.pool is None:
            return start(self.client, public_url(self.endpoints[0]))
        return self.pool.run(
            lambda member: start(self.client_for(member.target), member.label),
            lambda member: self.client_for(member.target).config(),
            deadline_s=self.timeouts.total,
            max_attempts=len(self.endpoints) + self.max_retries,
        )

    async def check(self) -> list[dict[str, Any]]:
        """Ask each copy now (config, copies alike, queue size); see `EndpointPool.check`."""
        pool = self.pool or EndpointPool(self.endpoints, space=self.space)
        return await pool.check(
            lambda member: self.client_for(member.target).config(),
            lambda member: self.client_for(member.target).queue_size(),
        )
