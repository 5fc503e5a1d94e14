"""Revision clouds among the changed ink: found (processing/clouds.py), taken out of the masks so that
what they enclose is reported on its own, and told from the pieces of their outline the trace missed.
Coloured revision marks on a colour scan are looked at in colour too: a cloud drawn in red over black
walls keeps its outline whole there, where the gray diff cuts it at every line it crosses."""
from __future__ import annotations

import cv2
import numpy as np

from buildtrace_desktop.processing import clouds
from buildtrace_desktop.processing.imaging import drop_specks
from buildtrace_desktop.processing.regions import Region

CLOUD_FRINGE_PT = 1.5  # medium ink: explains dark ink on the other side, a light hatch does not
COLOURED = 60  # chroma (largest less smallest of R, G, B) of a coloured mark; JPEG fringes stay under it


def colour_changes(old_chroma: np.ndarray, new_chroma: np.ndarray, tolerance_px: int,
                   min_blob_px: int) -> tuple[np.ndarray, np.ndarray]:
    """(added, removed) coloured ink (uint8 0/1): coloured on one side with none within the tolerance on
    the other, specks dropped."""
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * tolerance_px + 1, 2 * tolerance_px + 1))
    old_ink = (old_chroma >= COLOURED).astype(np.uint8)
    new_ink = (new_chroma >= COLOURED).astype(np.uint8)
    added = new_ink & (1 - cv2.dilate(old_ink, kernel))
    removed = old_ink & (1 - cv2.dilate(new_ink, kernel))
    return drop_specks(added, min_blob_px), drop_specks(removed, min_blob_px)


def take_out_clouds(added: np.ndarray, removed: np.ndarray, dpi: float, added_soft: np.ndarray | None = None,
                    removed_soft: np.ndarray | None = None,
                    colour: tuple[np.ndarray, np.ndarray] | None = None,
                    scales: tuple[float, ...] = (1.0,)) -> list[Region]:
    """Regions of the revision clouds drawn (in `added`) or erased (in `removed`), their outline and tag
    taken out of the masks, in place: what a cloud encloses is reported as changes of their own.
    `added_soft` / `removed_soft`: the same at a lighter ink level, and `colour` (added, removed) the
    coloured ink that changed, where clouds are also looked for, each only where none was found before.
    `scales`: the page's true resolution over `dpi` where it is not known (an untagged raster), tried in
    turn: a cloud's figures are in points, and a 300 dpi export read as 72 dpi has scallops four times
    too big."""
    out = []
    # The outline's own fringe (a scan's ragged edge, anti-aliasing) goes with it, not as slivers.
    reach = max(1, round(CLOUD_FRINGE_PT * dpi / 72.0))
    fringe = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * reach + 1, 2 * reach + 1))
    tinted = colour or (None, None)
    for status, mask, soft, coloured in (("added", added, added_soft, tinted[0]),
                                         ("removed", removed, removed_soft, tinted[1])):
        found: list[clouds.CloudShape] = []
        for source in (mask, None if soft is None else mask | soft, coloured):
            for scale in scales if source is not None else ():
                # a lighter level, colour or another scale only where nothing holds a cloud yet
                found += [c for c in clouds.find_clouds(source, dpi * scale)
                          if not any(clouds.overlap(c.outline_px, f.outline_px) for f in found)]
        for shape in found:
            x0, y0, x1, y1 = shape.box_px
            count = int(cv2.countNonZero(shape.mask))
            own = cv2.dilate(shape.mask, fringe).astype(bool)
            mask[y0:y1, x0:x1][own] = 0
            out.append(Region(shape.box_px, count if status == "added" else 0, count if status == "removed" else 0,
                              cloud=status, outline_px=shape.outline_px, tag_px=shape.tag_px))
    return out


def on_outline(box: tuple, cloud: Region, dpi: float) -> bool:
    """Whether a region lies on a cloud's outline band (pieces of scallops the outline trace missed),
    not inside it where the revised content is. The band is a scallop deep: a tenth of the cloud's
    smaller side, at least 6 pt."""
    x0, y0, x1, y1 = cloud.outline_px or cloud.box_px
    band = max(6.0 * dpi / 72.0, 0.1 * min(x1 - x0, y1 - y0))
    inside = box[0] >= x0 - band / 2 and box[1] >= y0 - band / 2 and box[2] <= x1 + band / 2 and box[3] <= y1 + band / 2
    core = (x0 + band, y0 + band, x1 - band, y1 - band)
    touches_core = box[0] < core[2] and box[2] > core[0] and box[1] < core[3] and box[3] > core[1]
    return inside and not touches_core


def mostly_inside(box: tuple, outer: tuple) -> bool:
    ix = max(0, min(box[2], outer[2]) - max(box[0], outer[0]))
    iy = max(0, min(box[3], outer[3]) - max(box[1], outer[1]))
    return ix * iy >= 0.5 * max(1, (box[2] - box[0]) * (box[3] - box[1]))


