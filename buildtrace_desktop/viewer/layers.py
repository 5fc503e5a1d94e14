"""Overlay layers: old-only ink, new-only ink, common ink and change boxes.

Each layer has validated properties (visible, opacity, colour); every setter fires a signal of the same
name, so a view can listen and keep no state of its own.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from buildtrace_desktop.errors import BadInputError
from buildtrace_desktop.viewer.signals import Signal

LAYER_NAMES = ("old_only", "new_only", "common", "changes")
LAYER_TITLES = {
    "old_only": "Old only",
    "new_only": "New only",
    "common": "Common",
    "changes": "Change boxes",
}
_HEX_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")


@dataclass(frozen=True)
class Palette:
    """Colours of the overlay layers as '#rrggbb'."""

    name: str
    title: str
    old_only: str
    new_only: str
    common: str
    changes: str


# Default: the red/green/gray convention of drawing-comparison tools.
DEFAULT_PALETTE = Palette("default", "Red / green", "#d62728", "#2ca02c", "#8c8c8c", "#1f77b4")
# Colour-blind safe (Okabe-Ito): vermillion / blue stay distinct for deuteranopes and protanopes.
COLOUR_BLIND_PALETTE = Palette(
    "colour_blind", "Colour-blind safe (orange / blue)", "#d55e00", "#0072b2", "#999999", "#cc79a7"
)
PALETTES = {p.name: p for p in (DEFAULT_PALETTE, COLOUR_BLIND_PALETTE)}


def palette_named(name: str) -> Palette:
    try:
        return PALETTES[name]
    except KeyError:
        raise BadInputError(f"Unknown palette {name!r}; choose one of {', '.join(PALETTES)}.") from None


def validate_colour(colour: str) -> str:
    if not isinstance(colour, str) or not _HEX_COLOUR.match(colour):
        raise BadInputError(f"A layer colour must look like '#rrggbb', got {colour!r}.")
    return colour.lower()


def hex_to_rgb(colour: str) -> tuple[int, int, int]:
    c = validate_colour(colour)
    return int(c[1:3], 16), int(c[3:5], 16), int(c[5:7], 16)


class OverlayLayer:
    """One layer of the overlay view. Signals: `visible(bool)`, `opacity(float)`, `colour(str)`."""

    def __init__(self, name: str, colour: str, visible: bool = True, opacity: float = 1.0) -> None:
        if name not in LAYER_NAMES:
            raise BadInputError(f"Unknown layer {name!r}; layers are {', '.join(LAYER_NAMES)}.")
        self.name = name
        self.title = LAYER_TITLES[name]
        self.events = _LayerEvents()
        self._visible = bool(visible)
        self._opacity = self._checked_opacity(opacity)
        self._colour = validate_colour(colour)

    @staticmethod
    def _checked_opacity(value: float) -> float:
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise BadInputError(f"Opacity must be a number between 0 and 1, got {value!r}.") from None
        if not 0.0 <= value <= 1.0:
            raise BadInputError(f"Opacity must be between 0 and 1, got {value:g}.")
        return value

    @property
    def visible(self) -> bool:
        return self._visible

    @visible.setter
    def visible(self, value: bool) -> None:
        value = bool(value)
        if value != self._visible:
            self._visible = value
            self.events.visible.emit(value)

    @property
    def opacity(self) -> float:
        return self._opacity

    @opacity.setter
    def opacity(self, value: float) -> None:
        value = self._checked_opacity(value)
        if value != self._opacity:
            self._opacity = value
            self.events.opacity.emit(value)

    @property
    def colour(self) -> str:
        return self._colour

    @colour.setter
    def colour(self, value: str) -> None:
        value = validate_colour(value)
        if value != self._colour:
            self._colour = value
            self.events.colour.emit(value)

    def __repr__(self) -> str:
        return f"OverlayLayer({self.name!r}, visible={self._visible}, opacity={self._opacity:g}, colour={self._colour!r})"


class _LayerEvents:
    def __init__(self) -> None:
        self.visible = Signal()
        self.opacity = Signal()
        self.colour = Signal()

    def disconnect_all(self) -> None:
        for signal in (self.visible, self.opacity, self.colour):
            signal.disconnect()


class LayerStack:
    """The four overlay layers, in drawing order, coloured from one palette."""

    def __init__(self, palette: Palette = DEFAULT_PALETTE) -> None:
        self.layers = [OverlayLayer(name, getattr(palette, name)) for name in LAYER_NAMES]
        self.layers[-1].opacity = 1.0

    def __getitem__(self, name: str) -> OverlayLayer:
        for layer in self.layers:
            if layer.name == name:
                return layer
        raise KeyError(name)

    def __iter__(self):
        return iter(self.layers)

    def apply_palette(self, palette: Palette) -> None:
        for layer in self.layers:
            layer.colour = getattr(palette, layer.name)
