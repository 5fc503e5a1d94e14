"""A tiny signal: the model layer announces changes without knowing who listens (or that Qt exists)."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any


class Signal:
    """`connect(fn)`, `disconnect(fn)`, `emit(*args)`. Listeners run in the emitting thread, in order."""

    def __init__(self) -> None:
        self._listeners: list[Callable[..., Any]] = []
        self._blocked = False

    def connect(self, listener: Callable[..., Any]) -> None:
        if listener not in self._listeners:
            self._listeners.append(listener)

    def disconnect(self, listener: Callable[..., Any] | None = None) -> None:
        """Remove one listener, or all of them when `listener` is None."""
        if listener is None:
            self._listeners.clear()
        elif listener in self._listeners:
            self._listeners.remove(listener)

    def emit(self, *args: Any) -> None:
        if self._blocked:
            return
        for listener in list(self._listeners):
            listener(*args)

    def blocked(self) -> _Blocker:
        """`with signal.blocked(): ...` suppresses the echo of a change a view just made itself."""
        return _Blocker(self)

    def __len__(self) -> int:
        return len(self._listeners)


class _Blocker:
    def __init__(self, signal: Signal) -> None:
        self._signal = signal
        self._was = False

    def __enter__(self) -> Signal:
        self._was = self._signal._blocked
        self._signal._blocked = True
        return self._signal

    def __exit__(self, *exc: object) -> None:
        self._signal._blocked = self._was
