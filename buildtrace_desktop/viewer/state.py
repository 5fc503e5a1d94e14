"""What the viewer shows: mode, zoom and centre, sync on/off, palette. Signals of the same names."""
from __future__ import annotations

from buildtrace_desktop.errors import BadInputError
from buildtrace_desktop.viewer.layers import LayerStack, palette_named
from buildtrace_desktop.viewer.signals import Signal

MODES = ("side_by_side", "overlay", "swipe")
MODE_TITLES = {"side_by_side": "Side by side", "overlay": "Overlay", "swipe": "Swipe"}
MIN_ZOOM = 0.02  # device pixels per page point
MAX_ZOOM = 16.0


class ViewerState:
    """Model of one sheet-pair viewer. `zoom` is device pixels per page point; `center` is in NEW-page
    points. `swipe` is the fraction (0..1) of the page width left of the swipe line."""

    def __init__(self, palette: str = "default") -> None:
        self.events = _StateEvents()
        self._mode = "overlay"
        self._zoom = 1.0
        self._center = (0.0, 0.0)
        self._sync = True
        self._palette = palette_named(palette).name
        self._swipe = 0.5
        self.layers = LayerStack(palette_named(palette))

    @property
    def mode(self) -> str:
        return self._mode

    @mode.setter
    def mode(self, value: str) -> None:
        if value not in MODES:
            raise BadInputError(f"Unknown viewer mode {value!r}; modes are {', '.join(MODES)}.")
        if value != self._mode:
            self._mode = value
            self.events.mode.emit(value)

    @property
    def zoom(self) -> float:
        return self._zoom

    @zoom.setter
    def zoom(self, value: float) -> None:
        value = min(MAX_ZOOM, max(MIN_ZOOM, float(value)))
        if value != self._zoom:
            self._zoom = value
            self.events.zoom.emit(value)

    @property
    def center(self) -> tuple[float, float]:
        return self._center

    @center.setter
    def center(self, value: tuple[float, float]) -> None:
        x, y = (float(v) for v in value)
        if (x, y) != self._center:
            self._center = (x, y)
            self.events.center.emit(self._center)

    @property
    def sync(self) -> bool:
        return self._sync

    @sync.setter
    def sync(self, value: bool) -> None:
        value = bool(value)
        if value != self._sync:
            self._sync = value
            self.events.sync.emit(value)

    @property
    def palette(self) -> str:
        return self._palette

    @palette.setter
    def palette(self, name: str) -> None:
        palette = palette_named(name)
        if palette.name != self._palette:
            self._palette = palette.name
            self.layers.apply_palette(palette)
            self.events.palette.emit(palette.name)

    @property
    def swipe(self) -> float:
        return self._swipe

    @swipe.setter
    def swipe(self, value: float) -> None:
        value = float(value)
        if not 0.0 <= value <= 1.0:
            raise BadInputError(f"The swipe position must be between 0 and 1, got {value:g}.")
        if value != self._swipe:
            self._swipe = value
            self.events.swipe.emit(value)


class _StateEvents:
    def __init__(self) -> None:
        self.mode = Signal()
        self.zoom = Signal()
        self.center = Signal()
        self.sync = Signal()
        self.palette = Signal()
        self.swipe = Signal()
