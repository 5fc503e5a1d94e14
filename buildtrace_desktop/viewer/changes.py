"""The change list of one sheet pair: items that announce inserted / removed / changed, a cursor, and the
pair's review groups (a revision cloud with the changes inside it, the pieces of one object).

A Qt item model that shows it is a thin adapter listening to these signals.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace

from buildtrace_desktop.errors import BadInputError
from buildtrace_desktop.viewer.groups import Box, ReviewGroup, ReviewUnit, groups_from_json, review_units
from buildtrace_desktop.viewer.signals import Signal

REVIEW_STATUSES = ("open", "accepted", "rejected", "needs_rfi")
REVIEW_TITLES = {"open": "Open", "accepted": "Accepted", "rejected": "Rejected", "needs_rfi": "Needs RFI"}

__all__ = ["Box", "ChangeItem", "ChangeListModel", "ReviewGroup", "ReviewUnit", "groups_from_json",
           "region_words", "where_words"]


@dataclass(frozen=True)
class ChangeItem:
    """One change as the viewer shows it. `bbox` is in NEW-page points, origin top-left."""

    change_id: int
    kind: str  # added | removed | modified
    bbox: Box
    sheet: str = ""  # sheet number of the pair, for the location text
    page_size: tuple[float, float] = (0.0, 0.0)  # NEW page width, height in points
    text_removed: tuple[str, ...] = field(default_factory=tuple)
    text_added: tuple[str, ...] = field(default_factory=tuple)
    status: str = "open"
    note: str = ""
    what: str = ""  # in a reviewer's words: "note added", "dimension changed"; empty on older pairs
    group: int | None = None  # id of its review group (engine's, 1-based within the pair)
    cloud: int | None = None  # id of the revision cloud that encloses it
    tag: str | None = None  # a revision cloud's own change: the tag text ("3")

    @property
    def title(self) -> str:
        """What it is: 'note added', 'revision cloud 3 added'; the kind when the engine said nothing."""
        title = self.what or self.kind
        if self.tag and title.startswith("revision cloud"):
            return title.replace("revision cloud", f"revision cloud {self.tag}", 1)
        return f"{title} (tag {self.tag})" if self.tag else title

    @property
    def reviewed(self) -> bool:
        return self.status != "open"

    @property
    def centre(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.bbox
        return (x0 + x1) / 2, (y0 + y1) / 2

    @property
    def region(self) -> str:
        """Where on the sheet in words only: 'upper left'."""
        return region_words(*self.centre, self.page_size)

    @property
    def where(self) -> str:
        """Where on the sheet, in words and inches from the top-left corner: 'upper left (3.1, 2.0 in)'."""
        return where_words(self.bbox, self.page_size)

    @property
    def location(self) -> str:
        """`where`, prefixed by the sheet number when known."""
        return f"{self.sheet} {self.where}" if self.sheet else self.where

    @property
    def text(self) -> str:
        """The changed text in one line: 'old → new', '+ added', '− removed', or ''."""
        removed = " ".join(self.text_removed)
        added = " ".join(self.text_added)
        if removed and added:
            return f"{removed} → {added}"
        if added:
            return f"+ {added}"
        if removed:
            return f"− {removed}"
        return ""


def where_words(bbox: Box, page_size: tuple[float, float]) -> str:
    """Where a box's centre lies, in words and inches from the top-left corner: 'upper left (3.1, 2.0 in)'."""
    cx, cy = (bbox[0] + bbox[2]) / 2, (bbox[1] + bbox[3]) / 2
    return f"{region_words(cx, cy, page_size)} ({cx / 72:.1f}, {cy / 72:.1f} in)".strip()


def region_words(x: float, y: float, page_size: tuple[float, float]) -> str:
    """'upper left', 'centre', 'lower right' … for a point on a page of `page_size` points."""
    width, height = page_size
    if width <= 0 or height <= 0:
        return ""
    col = ("left", "centre", "right")[min(2, int(3 * x / width))] if x >= 0 else "left"
    row = ("upper", "middle", "lower")[min(2, int(3 * y / height))] if y >= 0 else "upper"
    if row == "middle" and col == "centre":
        return "centre"
    if row == "middle":
        return f"middle {col}"
    return f"{row} {col}"


def check_status(status: str) -> str:
    if status not in REVIEW_STATUSES:
        raise BadInputError(f"Unknown review status {status!r}; use one of {', '.join(REVIEW_STATUSES)}.")
    return status


class ChangeListModel:
    """Ordered changes of one pair and its review groups. Signals: `inserted(index, item)`,
    `removed(index, item)`, `changed(index, item)`, `reset()`, `current(index)` (-1 for none),
    `current_group(index)` (a group picked as a whole, -1 for none).

    The changes come group by group, so N / P (`next`, `previous`) walk them in the order a reviewer
    checks them; `next_group` / `previous_group` jump to the first change of the next / previous unit."""

    def __init__(self, items: list[ChangeItem] | None = None, groups: Iterable[ReviewGroup] = ()) -> None:
        self.events = _ChangeEvents()
        self._items: list[ChangeItem] = list(items or [])
        self._groups: tuple[ReviewGroup, ...] = tuple(groups)
        self._units: list[ReviewUnit] | None = None  # made on demand, dropped when the list changes
        self._unit_of: dict[int, int] = {}  # change index -> unit index, made with the units
        self._current = -1
        self._current_group = -1

    def __len__(self) -> int:
        return len(self._items)

    def __getitem__(self, index: int) -> ChangeItem:
        return self._items[index]

    def __iter__(self):
        return iter(list(self._items))

    def reset(self, items: list[ChangeItem], groups: Iterable[ReviewGroup] = ()) -> None:
        """New contents; without groups the list is flat (every change its own unit)."""
        self._items = list(items)
        self._groups = tuple(groups)
        self._units = None
        self._current = -1
        self._current_group = -1
        self.events.reset.emit()
        self.events.current.emit(-1)

    def insert(self, index: int, item: ChangeItem) -> None:
        index = max(0, min(index, len(self._items)))
        self._items.insert(index, item)
        self._units = None
        if self._current >= index:
            self._current += 1
        self.events.inserted.emit(index, item)

    def append(self, item: ChangeItem) -> None:
        self.insert(len(self._items), item)

    def remove(self, index: int) -> ChangeItem:
        item = self._items.pop(index)
        self._units = None
        if self._current == index:
            self._current = -1
            self.events.current.emit(-1)
        elif self._current > index:
            self._current -= 1
        self.events.removed.emit(index, item)
        return item

    def index_of(self, change_id: int) -> int:
        for i, item in enumerate(self._items):
            if item.change_id == change_id:
                return i
        return -1

    def update(self, index: int, **fields: object) -> ChangeItem:
        """Replace fields of one item (status is validated) and announce it."""
        if "status" in fields:
            check_status(str(fields["status"]))
        item = replace(self._items[index], **fields)
        self._items[index] = item
        self.events.changed.emit(index, item)
        return item

    # --- groups ------------------------------------------------------------------------------------
    @property
    def groups(self) -> tuple[ReviewGroup, ...]:
        return self._groups

    @property
    def units(self) -> list[ReviewUnit]:
        """What a reviewer checks one at a time, in order: each group with its changes (those still in
        the list), and each change in no group on its own."""
        return self._made_units()

    def unit_of(self, index: int) -> int:
        """The unit holding change `index`, -1 for none."""
        self._made_units()
        return self._unit_of.get(index, -1)

    def _made_units(self) -> list[ReviewUnit]:
        if self._units is None:
            self._units = review_units(self._items, self._groups)
            self._unit_of = {i: u for u, unit in enumerate(self._units) for i in unit.members}
        return self._units

    def group_is_cloud(self, group: int) -> bool:
        return 0 <= group < len(self._groups) and self._groups[group].cloud is not None

    def reviewed_count(self, members: Iterable[int]) -> int:
        return sum(self._items[i].reviewed for i in members)

    def summary_line(self) -> str:
        """'12 changes in 5 groups; 2 revision clouds; 3 changes outside any cloud' (the clouds' part only
        when the sheet has clouds; '12 changes' when the pair has no groups)."""
        count = len(self._items)
        if not self._groups:
            return _plural(count, "change")
        line = f"{_plural(count, 'change')} in {_plural(len(self.units), 'group')}"
        clouds = [unit for unit in self.units if self.group_is_cloud(unit.group)]
        if clouds:
            outside = count - sum(len(unit.members) for unit in clouds)
            line += f"; {_plural(len(clouds), 'revision cloud')}"
            line += f"; {_plural(outside, 'change')} outside any cloud"
        return line

    # --- cursor ------------------------------------------------------------------------------------
    @property
    def current(self) -> int:
        return self._current

    @current.setter
    def current(self, index: int) -> None:
        if not -1 <= index < len(self._items):
            raise IndexError(f"change index {index} out of range 0..{len(self._items) - 1}")
        if index != self._current:
            self._current = index
            self.events.current.emit(index)
        if index >= 0 and self._current_group >= 0:  # a change picked: no group is picked as a whole
            self._current_group = -1
            self.events.current_group.emit(-1)

    @property
    def current_group(self) -> int:
        return self._current_group

    @current_group.setter
    def current_group(self, index: int) -> None:
        """Pick a group as a whole (the viewer shows all of it); no single change is current then."""
        if not -1 <= index < len(self._groups):
            raise IndexError(f"group index {index} out of range 0..{len(self._groups) - 1}")
        if index == self._current_group:
            return
        self._current_group = index
        if index >= 0 and self._current >= 0:
            self._current = -1
            self.events.current.emit(-1)
        self.events.current_group.emit(index)

    def next(self) -> int:
        """Move to the next change (wrapping); returns the new index, -1 when the list is empty. From a
        group picked as a whole, its first change."""
        unit = self._picked_unit()
        if self._current < 0 and unit >= 0:
            self.current = self.units[unit].members[0]
        elif self._items:
            self.current = (self._current + 1) % len(self._items)
        return self._current

    def previous(self) -> int:
        unit = self._picked_unit()
        if self._current < 0 and unit >= 0:
            self.current = (self.units[unit].members[0] - 1) % len(self._items)
        elif self._items:
            self.current = (self._current - 1) % len(self._items) if self._current >= 0 else len(self._items) - 1
        return self._current

    def next_group(self) -> int:
        """Move to the first change of the next unit (wrapping); returns the new change index."""
        return self._go_to_unit(+1)

    def previous_group(self) -> int:
        """Move to the first change of the previous unit (wrapping); returns the new change index."""
        return self._go_to_unit(-1)

    def _go_to_unit(self, step: int) -> int:
        units = self.units
        if not units:
            return self._current
        at = self._cursor_unit()
        target = (at + step) % len(units) if at >= 0 else (0 if step > 0 else len(units) - 1)
        self.current = units[target].members[0]
        return self._current

    def _cursor_unit(self) -> int:
        if self._current >= 0:
            return self.unit_of(self._current)
        return self._picked_unit()

    def _picked_unit(self) -> int:
        """The unit of the group picked as a whole, -1 for none."""
        if self._current_group < 0:
            return -1
        return next((u for u, unit in enumerate(self.units) if unit.group == self._current_group), -1)


class _ChangeEvents:
    def __init__(self) -> None:
        self.inserted = Signal()
        self.removed = Signal()
        self.changed = Signal()
        self.reset = Signal()
        self.current = Signal()
        self.current_group = Signal()


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' * (count != 1)}"
