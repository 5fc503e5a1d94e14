"""Review groups of a sheet pair as the viewer holds them: what a reviewer checks at once (a revision cloud
with the changes inside it, or the pieces of one object), and the units the change list shows.

The engine stores a pair's groups (`SheetPair.groups_json`) with their changes as 1-based positions in
the pair's change list; here they hold the changes' own ids, so they stay right when the list changes."""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from buildtrace_desktop.viewer.changes import ChangeItem

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class ReviewGroup:
    """One review group. `bbox` is in NEW-page points; `change_ids` are `ChangeItem.change_id`s, in the
    order to check them; `cloud` is the id of the revision cloud the group is, None for an object."""

    group_id: int
    label: str  # "revision cloud 3: 4 changes inside", "12 changes: line work added ×9, note added ×3"
    bbox: Box
    change_ids: tuple[int, ...]
    cloud: int | None = None


@dataclass(frozen=True)
class ReviewUnit:
    """One row of the change list's top level: a group with its changes, or one change in no group.
    `members` are indices into the change list."""

    group: int  # index into the list's groups, -1 for a change in no group
    members: tuple[int, ...]

    @property
    def single(self) -> bool:
        """A unit of one change is shown as just that change."""
        return len(self.members) == 1


def groups_from_json(groups_json: Iterable[dict[str, Any]] | None,
                     items: Sequence[ChangeItem]) -> list[ReviewGroup]:
    """The groups of `SheetPair.groups_json` ({"id", "label", "bbox", "cloud", "changes"}, changes as
    1-based positions in `items`, the pair's changes in order). Positions out of range are left out,
    and so are groups left empty; None (a pair diffed before groups existed) gives no groups."""
    groups = []
    for entry in groups_json or ():
        ids = tuple(items[p - 1].change_id for p in entry.get("changes") or () if 1 <= p <= len(items))
        if not ids:
            continue
        bbox = entry.get("bbox")
        box = tuple(float(v) for v in bbox) if bbox and len(bbox) == 4 else _union(
            [items[p - 1].bbox for p in entry["changes"] if 1 <= p <= len(items)])
        groups.append(ReviewGroup(int(entry.get("id") or len(groups) + 1), str(entry.get("label") or ""),
                                  box, ids, entry.get("cloud")))  # type: ignore[arg-type]
    return groups


def review_units(items: Sequence[ChangeItem], groups: Sequence[ReviewGroup]) -> list[ReviewUnit]:
    """The units of a change list, in the order of its changes: a group where its first change stands
    (the engine lists the changes group by group), a change in no group by itself."""
    index_by_id = {item.change_id: i for i, item in enumerate(items)}
    group_of: dict[int, int] = {}
    members: dict[int, tuple[int, ...]] = {}
    for g, group in enumerate(groups):
        # a change listed in two groups stays in the first
        present = tuple(index_by_id[c] for c in group.change_ids
                        if c in index_by_id and index_by_id[c] not in group_of)
        group_of.update((i, g) for i in present)
        members[g] = present
    units: list[ReviewUnit] = []
    placed: set[int] = set()
    for i in range(len(items)):
        g = group_of.get(i, -1)
        if g < 0:
            units.append(ReviewUnit(-1, (i,)))
        elif g not in placed:
            placed.add(g)
            units.append(ReviewUnit(g, members[g]))
    return units


def _union(boxes: list[Box]) -> Box:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))
