"""The Qt-free viewer models: validated layer properties with events, viewer state, the change list,
tiles of a real page and the bounded cache."""
from __future__ import annotations

import numpy as np
import pymupdf
import pytest
from ui_helpers import NEW_PDF, OLD_PDF

from buildtrace_desktop.errors import BadInputError
from buildtrace_desktop.viewer.changes import ChangeItem, ChangeListModel, region_words
from buildtrace_desktop.viewer.layers import COLOUR_BLIND_PALETTE, DEFAULT_PALETTE, LayerStack, OverlayLayer
from buildtrace_desktop.viewer.signals import Signal
from buildtrace_desktop.viewer.state import ViewerState
from buildtrace_desktop.viewer.tiles import (
    TILE_PX,
    LruCache,
    PageSpec,
    SheetSource,
    ink_layers,
    level_for_zoom,
    tile_rect,
    tiles_covering,
)


def recorder(signal: Signal) -> list:
    seen: list = []
    signal.connect(lambda *args: seen.append(args[0] if len(args) == 1 else args))
    return seen


def test_opacity_outside_0_1_raises_and_keeps_the_old_value() -> None:
    layer = OverlayLayer("old_only", "#d62728", opacity=0.5)
    for bad in (-0.01, 1.5, "lots", None):
        with pytest.raises(BadInputError):
            layer.opacity = bad
    assert layer.opacity == 0.5
    with pytest.raises(BadInputError):
        OverlayLayer("old_only", "#d62728", opacity=2)


def test_each_property_fires_its_own_event_once_per_real_change() -> None:
    layer = OverlayLayer("new_only", "#2ca02c")
    opacity, visible, colour = (recorder(layer.events.opacity), recorder(layer.events.visible),
                                recorder(layer.events.colour))
    layer.opacity = 0.25
    layer.opacity = 0.25  # no change, no event
    layer.visible = False
    layer.colour = "#0072B2"
    assert opacity == [0.25]
    assert visible == [False]
    assert colour == ["#0072b2"]
    with pytest.raises(BadInputError):
        layer.colour = "blue"
    with pytest.raises(BadInputError):
        OverlayLayer("background", "#000000")


def test_blocked_signal_suppresses_the_echo() -> None:
    layer = OverlayLayer("common", "#8c8c8c")
    seen = recorder(layer.events.opacity)
    with layer.events.opacity.blocked():
        layer.opacity = 0.3
    layer.opacity = 0.4
    assert seen == [0.4]


def test_palette_switch_recolours_every_layer_with_events() -> None:
    state = ViewerState()
    assert state.layers["old_only"].colour == DEFAULT_PALETTE.old_only
    palettes, colours = recorder(state.events.palette), recorder(state.layers["new_only"].events.colour)
    state.palette = "colour_blind"
    assert palettes == ["colour_blind"]
    assert colours == [COLOUR_BLIND_PALETTE.new_only]
    assert [layer.colour for layer in state.layers] == [
        COLOUR_BLIND_PALETTE.old_only, COLOUR_BLIND_PALETTE.new_only, COLOUR_BLIND_PALETTE.common,
        COLOUR_BLIND_PALETTE.changes]
    with pytest.raises(BadInputError):
        state.palette = "rainbow"


def test_viewer_state_validates_mode_swipe_and_clamps_zoom() -> None:
    state = ViewerState()
    modes = recorder(state.events.mode)
    state.mode = "swipe"
    assert modes == ["swipe"]
    with pytest.raises(BadInputError):
        state.mode = "3d"
    with pytest.raises(BadInputError):
        state.swipe = 1.2
    state.zoom = 1e9
    assert state.zoom == 16.0
    assert [layer.name for layer in LayerStack()] == ["old_only", "new_only", "common", "changes"]


def _item(i: int, status: str = "open") -> ChangeItem:
    return ChangeItem(i, "added", (10.0 * i, 10.0, 10.0 * i + 5, 15.0), "A101", (100.0, 100.0), status=status)


def test_change_list_announces_inserted_removed_changed_and_current() -> None:
    model = ChangeListModel([_item(1), _item(2)])
    inserted, removed, changed, current = (recorder(model.events.inserted), recorder(model.events.removed),
                                           recorder(model.events.changed), recorder(model.events.current))
    model.append(_item(3))
    model.current = 2
    model.remove(0)
    assert inserted == [(2, _item(3))]
    assert removed == [(0, _item(1))]
    assert model.current == 1 and model[1].change_id == 3  # the cursor follows its item
    item = model.update(1, status="needs_rfi", note="ask the architect")
    assert changed == [(1, item)] and item.status == "needs_rfi"
    with pytest.raises(BadInputError):
        model.update(0, status="maybe")
    assert current == [2]


def test_next_and_previous_wrap_around() -> None:
    model = ChangeListModel([_item(1), _item(2), _item(3)])
    assert [model.next(), model.next(), model.next(), model.next()] == [0, 1, 2, 0]
    assert model.previous() == 2
    assert ChangeListModel().next() == -1


def test_change_text_and_location_in_words() -> None:
    item = ChangeItem(7, "modified", (1480, 694, 1492, 702), "AF101", (3024, 2160), ("167",), ("175",))
    assert item.text == "167 → 175"
    assert item.location.startswith("AF101 upper centre")
    assert region_words(50, 50, (100, 100)) == "centre"
    assert region_words(95, 95, (100, 100)) == "lower right"


def test_levels_and_tiles_cover_the_visible_rect_only() -> None:
    assert level_for_zoom(1.0) == 0
    assert level_for_zoom(1.01) == 1
    assert level_for_zoom(0.3) == -1
    page = (3024.0, 2160.0)
    tiles = list(tiles_covering((0, 0, 600, 400), 0, page))
    assert tiles == [(0, 0), (1, 0)]  # 512-point tiles at 1 px/pt
    assert tile_rect(0, 5, 4, page) == (2560.0, 2048.0, 3024.0, 2160.0)  # cut at the page edge
    assert len(list(tiles_covering((-50, -50, 5000, 5000), -3, page))) == 1  # whole page, one tile


def test_tile_of_a_real_page_equals_a_direct_render() -> None:
    source = SheetSource(PageSpec.of(str(NEW_PDF), 0))
    tile = source.render_tile(0, 2, 1)
    with pymupdf.open(NEW_PDF) as doc:
        pix = doc[0].get_pixmap(clip=pymupdf.Rect(1024, 512, 1536, 1024), colorspace=pymupdf.csGRAY)
        direct = np.frombuffer(pix.samples, np.uint8).reshape(pix.height, pix.width)
    assert tile.shape == (TILE_PX, TILE_PX)
    assert (tile < 128).sum() > 1000  # real ink, not a blank tile
    assert np.array_equal(tile, direct)
    source.close()


def test_old_page_is_drawn_warped_by_the_alignment_matrix() -> None:
    plain = SheetSource(PageSpec.of(str(OLD_PDF), 0)).render_tile(0, 2, 1)
    shifted = SheetSource(PageSpec.of(str(OLD_PDF), 0, [[1, 0, 12], [0, 1, 7]])).render_tile(0, 2, 1)
    assert np.abs(shifted[7:, 12:].astype(int) - plain[:-7, :-12]).mean() < 0.5
    assert np.abs(shifted.astype(int) - plain).mean() > 5


def test_ink_layers_split_old_only_new_only_and_common() -> None:
    old = np.full((4, 4), 255, np.uint8)
    new = old.copy()
    old[0, 0] = new[0, 0] = 0  # common
    old[1, 1] = 0  # removed
    new[2, 2] = 0  # added
    layers = ink_layers(old, new)
    assert layers["common"][0, 0] == 1 and layers["old_only"][0, 0] == 0
    assert layers["old_only"][1, 1] == 1 and layers["new_only"][1, 1] == 0
    assert layers["new_only"][2, 2] == 1 and layers["common"][2, 2] == 0


def test_ink_layers_of_edge_tiles_a_pixel_apart_take_the_new_tiles_shape() -> None:
    """Two scans of one sheet 6000 x 4285 and 6000 x 4286 px: their bottom tiles differ by a row."""
    new = np.full((48, 512), 255, np.uint8)
    new[47, 3] = 0
    old = np.zeros((47, 512), np.uint8)
    layers = ink_layers(old, new)
    assert all(layer.shape == (48, 512) for layer in layers.values())
    assert layers["new_only"][47, 3] == 1 and layers["old_only"][0, 0] == 1
    assert ink_layers(np.zeros((49, 513), np.uint8), new)["common"][47, 3] == 1


def test_lru_cache_stays_within_its_byte_budget() -> None:
    cache: LruCache[int, bytes] = LruCache(1000, len)
    for i in range(50):
        cache.put(i, b"x" * 100)
        assert cache.bytes <= 1000
    assert len(cache) == 10 and 49 in cache and 0 not in cache
    cache.get(40)
    cache.put(99, b"y" * 100)
    assert 40 in cache and 41 not in cache  # recently used entries survive


def test_image_sheets_use_the_engines_points_1px_per_72_dpi_tag(tmp_path) -> None:  # noqa: ANN001
    with pymupdf.open(NEW_PDF) as doc:
        pix = doc[0].get_pixmap(dpi=20, colorspace=pymupdf.csGRAY)
    from PIL import Image

    untagged = tmp_path / "scan.png"
    Image.frombytes("L", (pix.width, pix.height), pix.samples).save(untagged)  # no dpi tag
    source = SheetSource(PageSpec.of(str(untagged)))
    assert source.page_size == pytest.approx((pix.width, pix.height))  # untagged: 1 px = 1 pt
    tile = source.render_rect((0, 0, pix.width, pix.height), 1.0)
    original = np.frombuffer(pix.samples, np.uint8).reshape(pix.height, pix.width)
    assert tile.shape == original.shape and np.abs(tile.astype(int) - original).mean() < 2
    pix.set_dpi(150, 150)
    tagged = tmp_path / "scan150.png"
    pix.save(tagged)
    assert SheetSource(PageSpec.of(str(tagged))).page_size == pytest.approx(
        (pix.width * 72 / 150, pix.height * 72 / 150), rel=1e-3)
