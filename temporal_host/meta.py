"""The typed view of an entry's `meta.temporal` block (temporal.md §1.3, §1.4): one parser.

    meta:
      temporal:
        workflow: {worker: app:worker, name: OrderWorkflow}   # workflow entries
        activity: {worker: app:worker, local: false}          # function / process entries

Worker references are resolved against the entry's namespace here, once. A malformed block
(a worker that is not a string, an unknown field) is an `Invalid` error naming the entry and
the field.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import attrs
import cattrs
from cattrs.errors import ClassValidationError

from actors.errors import invalid
from actors.registry import Entry


@attrs.frozen
class WorkflowMeta:
    worker: str | None = None
    """The `temporal.worker` entry ID, resolved; None when the entry names none."""
    name: str | None = None
    """A custom Temporal workflow type."""


@attrs.frozen
class ActivityMeta:
    worker: str | None = None
    local: bool = False


@attrs.frozen
class TemporalMeta:
    entry_id: str
    workflow: WorkflowMeta | None = None
    activity: ActivityMeta | None = None

    @staticmethod
    def of(entry: Entry) -> TemporalMeta:
        """Parsed once per entry (a workflow reads it for every activity it calls)."""
        return _PARSED.get(entry)

    @property
    def workflow_type(self) -> str:
        """`meta.temporal.workflow.name`, else the entry ID (§1.3), everywhere a type is needed."""
        name = self.workflow.name if self.workflow is not None else None
        return name or self.entry_id

    @property
    def workflow_worker(self) -> str | None:
        return self.workflow.worker if self.workflow is not None else None

    @property
    def activity_worker(self) -> str | None:
        return self.activity.worker if self.activity is not None else None

    @property
    def local_activity(self) -> bool:
        return self.activity is not None and self.activity.local


def _strict(value: Any, kind: type) -> Any:
    if not isinstance(value, kind) or (kind is str and not value):
        raise ValueError(f"expected a {'non-empty string' if kind is str else kind.__name__}")
    return value


_converter = cattrs.Converter(forbid_extra_keys=True)
_converter.register_structure_hook(str, lambda value, _: _strict(value, str))
_converter.register_structure_hook(bool, lambda value, _: _strict(value, bool))


T = TypeVar("T")


class PerEntry(Generic[T]):
    """A value derived from an entry, made once per `Entry` object. Entries are immutable (a
    change is a new Entry under the same ID), so the value is too.

    Kept by entry ID, the entry beside its value and compared by identity: a hit costs a
    dict lookup and an `is`, where a WeakKeyDictionary compared the entries field by field
    (attrs eq, their meta and data dicts) on every lookup, and a workflow looks up the
    entry of each activity it calls. One slot per ID: a replaced entry's value is made
    again and replaces the old one, so the cache is bounded by the registry's IDs."""

    def __init__(self, make: Callable[[Entry], T]) -> None:
        self._make = make
        self._by_id: dict[str, tuple[Entry, T]] = {}

    def get(self, entry: Entry) -> T:
        hit = self._by_id.get(entry.id)
        if hit is not None and hit[0] is entry:
            return hit[1]
        value = self._make(entry)
        self._by_id[entry.id] = (entry, value)
        return value


def _structure(entry: Entry) -> TemporalMeta:
    block = entry.meta.get("temporal")
    if block is None:
        return TemporalMeta(entry.id)
    if not isinstance(block, dict):
        raise invalid(f"{entry.id}: meta.temporal must be a mapping")
    parts: dict[str, Any] = {}
    sections: tuple[tuple[str, type[WorkflowMeta] | type[ActivityMeta]], ...] = (
        ("workflow", WorkflowMeta),
        ("activity", ActivityMeta),
    )
    for section, cls in sections:
        value = block.get(section)
        if value is None:
            continue
        if not isinstance(value, dict):
            raise invalid(f"{entry.id}: meta.temporal.{section} must be a mapping")
        try:
            parsed = _converter.structure(value, cls)
        except ClassValidationError as exc:
            raise invalid(f"{entry.id}: {_problem(exc, f'meta.temporal.{section}.')}") from None
        if parsed.worker is not None:
            parsed = attrs.evolve(parsed, worker=entry.resolve_ref(parsed.worker))
        parts[section] = parsed
    return TemporalMeta(entry.id, **parts)


def _problem(group: ClassValidationError, prefix: str) -> str:
    exc = group.exceptions[0]
    extra = getattr(exc, "extra_fields", None)
    if extra:
        return f"unknown field {prefix}{sorted(extra)[0]}"
    notes = [n for n in getattr(exc, "__notes__", []) if hasattr(n, "name")]
    return f"{prefix}{notes[0].name if notes else '?'}: {exc}"


_PARSED = PerEntry(_structure)


def workflow_type(entry: Entry) -> str:
    return TemporalMeta.of(entry).workflow_type
