"""Review groups: the units a reviewer checks at once, and the order to check them in.

A reviewer checks a revision by its clouds: each revision cloud with the changes inside it, then what
changed outside every cloud (what the designer did not flag). Outside the clouds, the pieces of one
object (a column symbol drawn as a dozen strokes, the dashes of one line) are one unit: changes closer
to each other than a fraction of their own size join, as long as the unit stays the size of an object.
Then the same mark made in many places (a keynote tag added beside forty doors) is one unit: lone
changes of one kind, size and look, wherever they are.
"""
from __future__ import annotations

from collections import Counter

import cv2
import numpy as np

from buildtrace_desktop.processing.types import Box, Change

JOIN_MIN_PT = 4.0  # pieces closer than this always join (a dash gap, a stroke's break)
JOIN_MAX_PT = 24.0  # and never farther (a third of an inch: two notes side by side stay two)
JOIN_FRACTION = 0.35  # of the smaller piece's longer side
MAX_UNIT_FRACTION = 0.02  # of the sheet's area: a unit larger than this is an area, not an object
SAME_MARK_CORRELATION = 0.85  # two marks' pictures (16 x 16, mean removed) correlate this well
SAME_MARK_SIZE = 0.2  # and their sizes differ by less than this
MARK_MAX_PT = 72.0  # a mark is small: a tag, a symbol, a short note (an inch at most)


def inside(box: Box, outline: Box) -> bool:
    """Whether at least half of `box` lies within `outline`."""
    ix = max(0.0, min(box[2], outline[2]) - max(box[0], outline[0]))
    iy = max(0.0, min(box[3], outline[3]) - max(box[1], outline[1]))
    area = max(1e-6, (box[2] - box[0]) * (box[3] - box[1]))
    return ix * iy >= 0.5 * area


def assign_clouds(changes: list[Change], clouds: list[dict]) -> None:
    """Set each change's `cloud` to the smallest cloud whose outline encloses it (a cloud's own change
    excepted), and each cloud's `changes` to the ids (1-based positions) of the changes it encloses."""
    own = {c["change"] for c in clouds}
    for cloud in clouds:
        cloud["changes"] = []
    for i, change in enumerate(changes, start=1):
        if i in own:
            change.cloud = None
            continue
        around = [c for c in clouds if inside(change.bbox, c["outline"])]
        change.cloud = min(around, key=lambda c: _area(c["outline"]))["id"] if around else None
        if change.cloud is not None:
            next(c for c in clouds if c["id"] == change.cloud)["changes"].append(i)


def review_groups(changes: list[Change], clouds: list[dict], page_size: tuple[float, float],
                  looks: list[np.ndarray | None] | None = None) -> list[dict]:
    """The review groups of a sheet, clouds first: {"id", "label", "bbox", "cloud", "changes"} with the
    changes' 1-based ids. Sets each change's `group`. `looks`: each change's `mark_look`, for the same
    mark made in many places."""
    groups: list[dict] = []
    for cloud in clouds:
        members = sorted({cloud["change"], *cloud["changes"]})
        groups.append(_group(changes, members, cloud["id"], _cloud_label(cloud, changes)))
    in_cloud = {i for g in groups for i in g["changes"]}
    rest = [i for i in range(1, len(changes) + 1) if i not in in_cloud]
    limit = MAX_UNIT_FRACTION * page_size[0] * page_size[1]
    units = _objects(changes, rest, limit)
    marks = _repeated_marks(changes, units, looks)
    for members in units:
        repeated = any(m is members for m in marks) and len(members) > 1
        groups.append(_group(changes, members, None, _mark_label(changes, members) if repeated
                             else _label(changes, members)))
    for gid, group in enumerate(groups, start=1):
        group["id"] = gid
        for i in group["changes"]:
            changes[i - 1].group = gid
    return groups


def _objects(changes: list[Change], ids: list[int], limit: float) -> list[list[int]]:
    """Single-linkage units of the changes `ids` (union-find over the pairs near enough to join, a unit
    never growing past `limit` square points), in reading order of their boxes."""
    parent = {i: i for i in ids}
    box = {i: changes[i - 1].bbox for i in ids}

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    by_x = sorted(ids, key=lambda i: box[i][0])
    for k, a in enumerate(by_x):
        for b in by_x[k + 1:]:
            if changes[b - 1].bbox[0] - changes[a - 1].bbox[2] > JOIN_MAX_PT:
                break  # sorted by left edge: every later box starts farther away still
            ra, rb = root(a), root(b)
            if ra != rb and _joins(changes[a - 1].bbox, changes[b - 1].bbox) \
                    and _area(_union(box[ra], box[rb])) <= limit:
                parent[rb] = ra
                box[ra] = _union(box[ra], box[rb])
    units: dict[int, list[int]] = {}
    for i in ids:
        units.setdefault(root(i), []).append(i)
    order = sorted(units, key=lambda r: (round(box[r][1] / 72), box[r][0]))
    return [sorted(units[r]) for r in order]


def mark_looks(changes: list[Change], old: np.ndarray, new: np.ndarray, dpi: float) -> list[np.ndarray | None]:
    """Each small change's `mark_look`, from the old image where it removed ink, else the new one; None
    for the others (no mark)."""
    k = dpi / 72.0
    return [mark_look(old if c.kind == "removed" else new, tuple(round(v * k) for v in c.bbox)) if _small(c)
            else None for c in changes]


def mark_look(img: np.ndarray, box_px: tuple[int, int, int, int]) -> np.ndarray | None:
    """A change's picture for telling the same mark elsewhere: its box of `img` at 16 x 16, mean
    removed, unit length; None for a blank box."""
    x0, y0, x1, y1 = (int(v) for v in box_px)
    x0, y0, x1, y1 = max(0, x0 - 1), max(0, y0 - 1), x1 + 1, y1 + 1  # a line's box is a pixel thin
    crop = img[y0:y1, x0:x1]
    if crop.size == 0 or crop.std() < 1:
        return None
    look = cv2.resize(crop, (16, 16), interpolation=cv2.INTER_AREA).astype(np.float32)
    look -= look.mean()
    norm = float(np.linalg.norm(look))
    return look / norm if norm > 0 else None


def _repeated_marks(changes: list[Change], units: list[list[int]],
                    looks: list[np.ndarray | None] | None) -> list[list[int]]:
    """The lone changes of `units` that are one mark made again (same kind and what, sizes within
    SAME_MARK_SIZE, pictures correlating SAME_MARK_CORRELATION), joined in place: each such unit
    takes in the later ones, which leave `units`. Returns the units that take marks in."""
    if looks is None:
        return []
    marks: list[list[int]] = []
    for unit in list(units):
        if len(unit) != 1 or not _small(changes[unit[0] - 1]) or looks[unit[0] - 1] is None:
            continue
        i = unit[0]
        same = next((m for m in marks if _same_mark(changes[m[0] - 1], changes[i - 1], looks[m[0] - 1],
                                                     looks[i - 1])), None)
        if same is None:
            marks.append(unit)
        else:
            same.append(i)
            units.remove(unit)
    return marks


def _small(change: Change) -> bool:
    return max(change.bbox[2] - change.bbox[0], change.bbox[3] - change.bbox[1]) <= MARK_MAX_PT


def _same_mark(a: Change, b: Change, look_a: np.ndarray, look_b: np.ndarray) -> bool:
    if a.kind != b.kind or a.what != b.what:
        return False
    for k in (0, 1):
        sa, sb = a.bbox[k + 2] - a.bbox[k], b.bbox[k + 2] - b.bbox[k]
        if abs(sa - sb) > SAME_MARK_SIZE * max(sa, sb, 1e-6):
            return False
    return float((look_a * look_b).sum()) >= SAME_MARK_CORRELATION


def _joins(a: Box, b: Box) -> bool:
    smaller = min(max(a[2] - a[0], a[3] - a[1]), max(b[2] - b[0], b[3] - b[1]))
    reach = min(JOIN_MAX_PT, max(JOIN_MIN_PT, JOIN_FRACTION * smaller))
    gap = max(max(a[0], b[0]) - min(a[2], b[2]), max(a[1], b[1]) - min(a[3], b[3]), 0.0)
    return gap <= reach


def _group(changes: list[Change], members: list[int], cloud: int | None, label: str) -> dict:
    box = changes[members[0] - 1].bbox
    for i in members[1:]:
        box = _union(box, changes[i - 1].bbox)
    return {"id": 0, "label": label, "bbox": [round(float(v), 2) for v in box], "cloud": cloud, "changes": members}


def _cloud_label(cloud: dict, changes: list[Change]) -> str:
    name = f"revision cloud {cloud['tag']}" if cloud.get("tag") else "revision cloud"
    status = " (removed)" if cloud.get("status") == "removed" else ""
    inner = len(cloud["changes"])
    what = f"{inner} change{'s' * (inner != 1)} inside" if inner else "nothing changed inside"
    return f"{name}{status}: {what}"


def _label(changes: list[Change], members: list[int]) -> str:
    if len(members) == 1:
        return changes[members[0] - 1].what or changes[members[0] - 1].kind
    counts = Counter(changes[i - 1].what or changes[i - 1].kind for i in members)
    parts = [f"{what} ×{n}" if n > 1 else what for what, n in counts.most_common()]
    return f"{len(members)} changes: " + ", ".join(parts)


def _mark_label(changes: list[Change], members: list[int]) -> str:
    first = changes[members[0] - 1]
    return f"the same mark in {len(members)} places: {first.what or first.kind}"


def _union(a: Box, b: Box) -> Box:
    return (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))


def _area(b) -> float:
    return max(0.0, b[2] - b[0]) * max(0.0, b[3] - b[1])


def organise(changes: list[Change], clouds: list[dict], page_size: tuple[float, float],
             looks: list[np.ndarray | None] | None = None) -> tuple[list[Change], list[dict], list[dict]]:
    """Changes, clouds and groups of a sheet, the changes reordered group by group (so that the next
    change is the next one to check) and every id (1-based position) renumbered to match."""
    assign_clouds(changes, clouds)
    groups = review_groups(changes, clouds, page_size, looks)
    order = [i for g in groups for i in g["changes"]]
    new_id = {old: new for new, old in enumerate(order, start=1)}
    ordered = [changes[i - 1] for i in order]
    for cloud in clouds:
        cloud["change"] = new_id[cloud["change"]]
        cloud["changes"] = sorted(new_id[i] for i in cloud["changes"])
        cloud.pop("outline", None)
    for group in groups:
        group["changes"] = [new_id[i] for i in group["changes"]]
    return ordered, clouds, groups
