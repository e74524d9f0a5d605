"""Client-side stop sequences over a stream of text deltas."""

from __future__ import annotations


class StopScanner:
    """Feed deltas; get back text safe to emit. Holds back a tail that could still become
    a stop sequence, and reports when one is hit (the caller then cancels the job)."""

    def __init__(self, stops: tuple[str, ...] | list[str]) -> None:
        self.stops = tuple(s for s in stops if s)
        self._hold = max((len(s) for s in self.stops), default=1) - 1
        self._text = ""
        self._emitted = 0
        self.stopped = False

    @property
    def text(self) -> str:
        """Everything accepted so far (truncated at the stop sequence once hit)."""
        return self._text

    def feed(self, delta: str) -> str:
        if self.stopped:
            return ""
        if not self.stops:
            self._text += delta
            self._emitted = len(self._text)
            return delta
        search_from = max(0, len(self._text) - self._hold)
        self._text += delta
        # The stop that completes first wins (as if checked token by token), so the result
        # does not depend on how the text was split into deltas.
        found = ((self._text.find(s, search_from), len(s)) for s in self.stops)
        _, cut = min(((i + n, i) for i, n in found if i >= 0), default=(-1, -1))
        if cut >= 0:
            self._text = self._text[:cut]
            self.stopped = True
            safe = len(self._text)
        else:
            safe = max(self._emitted, len(self._text) - self._partial_tail())
        out = self._text[self._emitted : safe]
        self._emitted = safe
        return out

    def _partial_tail(self) -> int:
        """Length of the longest end of the text that could still grow into a stop."""
        text = self._text
        for n in range(min(self._hold, len(text)), 0, -1):
            tail = text[-n:]
            if any(stop.startswith(tail) for stop in self.stops):
                return n
        return 0

    def flush(self) -> str:
        """End of stream: release the held-back tail."""
        out = self._text[self._emitted :]
        self._emitted = len(self._text)
        return out
