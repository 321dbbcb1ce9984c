"""Search attributes: one type inference for start options and `workflow.attrs` (§3.5, §13).

Types are inferred from the Lua values: string → Keyword, boolean → Bool, integral number →
Int, other number → Double, array of strings → KeywordList, Time → Datetime.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, cast

import anyio
from temporalio.api.operatorservice.v1 import (
    AddSearchAttributesRequest,
    ListSearchAttributesRequest,
)
from temporalio.client import Client
from temporalio.common import (
    SearchAttributeIndexedValueType,
    SearchAttributeKey,
    SearchAttributePair,
    TypedSearchAttributes,
)
from temporalio.service import RPCError, RPCStatusCode

if TYPE_CHECKING:
    from temporalio.api.enums.v1 import IndexedValueType

from actors.errors import InvalidError, invalid
from corelib.gotime import SECOND, GoTime

log = logging.getLogger(__name__)


def typed(key: str, values: dict[str, Any]) -> TypedSearchAttributes:
    """`values` (name → Lua value) with inferred types; `Invalid` naming a bad value."""
    return TypedSearchAttributes([pair(f"{key}.{name}", name, v) for name, v in values.items()])


def pair(key: str, name: str, value: Any) -> SearchAttributePair[Any]:
    if isinstance(value, bool):
        return SearchAttributePair(SearchAttributeKey.for_bool(name), value)
    if isinstance(value, str):
        return SearchAttributePair(SearchAttributeKey.for_keyword(name), value)
    if isinstance(value, int):
        return SearchAttributePair(SearchAttributeKey.for_int(name), value)
    if isinstance(value, float) and math.isfinite(value):
        if value.is_integer():
            return SearchAttributePair(SearchAttributeKey.for_int(name), int(value))
        return SearchAttributePair(SearchAttributeKey.for_float(name), value)
    if isinstance(value, list) and all(isinstance(item, str) for item in value):
        return SearchAttributePair(SearchAttributeKey.for_keyword_list(name), value)
    if isinstance(value, GoTime):
        moment = datetime.fromtimestamp(value.unix_ns // SECOND, UTC).replace(
            microsecond=value.unix_ns % SECOND // 1000
        )
        return SearchAttributePair(SearchAttributeKey.for_datetime(name), moment)
    raise invalid(
        f"{key}: unsupported search attribute value (expected a string, boolean, number, "
        "array of strings or Time)"
    )


# -- registration (issue 12 item 4) -------------------------------------------------------------

TYPE_NAMES = {
    SearchAttributeIndexedValueType.TEXT: "Text",
    SearchAttributeIndexedValueType.KEYWORD: "Keyword",
    SearchAttributeIndexedValueType.INT: "Int",
    SearchAttributeIndexedValueType.DOUBLE: "Double",
    SearchAttributeIndexedValueType.BOOL: "Bool",
    SearchAttributeIndexedValueType.DATETIME: "Datetime",
    SearchAttributeIndexedValueType.KEYWORD_LIST: "KeywordList",
}
"""The type names of `temporal operator search-attribute create --type` (and of YAML)."""
_COMPATIBLE = {("Keyword", "Text")}
"""(inferred, registered) pairs that the server accepts although the names differ."""


def inferred_types(key: str, values: dict[str, Any]) -> dict[str, str]:
    """name → type name, inferred from the Lua values as `typed` does."""
    return {pair.key.name: TYPE_NAMES[pair.key.indexed_value_type] for pair in typed(key, values)}


class SearchAttributes:
    """What one namespace knows of custom search attributes, as seen through one client.

    `ensure` checks that attributes exist with a compatible type before a start or an upsert
    uses them: on the embedded dev server (`register=True`) a missing one is registered with
    its inferred type, elsewhere it is an `Invalid` error naming it, which reaches the caller
    as `nil, err`, never a workflow task failing on every retry.
    """

    def __init__(self, client: Client, *, register: bool) -> None:
        self.client = client
        self.register = register
        self._known: dict[str, str] = {}
        self._lock = anyio.Lock()

    async def ensure(self, wanted: Mapping[str, str]) -> None:
        async with self._lock:
            if any(name not in self._known for name in wanted):
                await self._refresh()
            missing = {name: kind for name, kind in wanted.items() if name not in self._known}
            if missing and self.register:
                await self._add(missing)
                await self._refresh()
                missing = {name: k for name, k in wanted.items() if name not in self._known}
            for name, kind in wanted.items():
                if name in missing:
                    raise InvalidError(
                        f"search attribute {name} is not registered in namespace "
                        f"{self.client.namespace} (register it: temporal operator "
                        f"search-attribute create --name {name} --type {kind}, or list it "
                        "in the temporal.client entry's search_attributes)"
                    )
                known = self._known[name]
                if known != kind and (kind, known) not in _COMPATIBLE:
                    raise InvalidError(
                        f"search attribute {name} is registered as {known}, "
                        f"but the value given is a {kind}"
                    )

    async def add(self, types: Mapping[str, str]) -> None:
        """Register `types` (name → type name), those not yet known; existing ones stay."""
        async with self._lock:
            await self._refresh()
            missing = {name: kind for name, kind in types.items() if name not in self._known}
            if missing:
                await self._add(missing)
                await self._refresh()

    async def _refresh(self) -> None:
        response = await self.client.operator_service.list_search_attributes(
            ListSearchAttributesRequest(namespace=self.client.namespace)
        )
        known = {**response.system_attributes, **response.custom_attributes}
        self._known = {
            name: TYPE_NAMES.get(SearchAttributeIndexedValueType(value), "?")
            for name, value in known.items()
            if value in _VALUES
        }

    async def _add(self, types: Mapping[str, str]) -> None:
        by_name = {v: k for k, v in TYPE_NAMES.items()}
        request = AddSearchAttributesRequest(
            namespace=self.client.namespace,
            search_attributes={
                name: cast("IndexedValueType.ValueType", int(by_name[kind]))
                for name, kind in types.items()
            },
        )
        try:
            await self.client.operator_service.add_search_attributes(request)
        except RPCError as exc:
            if exc.status != RPCStatusCode.ALREADY_EXISTS:
                raise InvalidError(
                    f"cannot register search attributes {', '.join(types)}: {exc.message}"
                ) from None
        log.info("registered search attributes %s", ", ".join(f"{n}={k}" for n, k in types.items()))


_VALUES = frozenset(int(value) for value in TYPE_NAMES)
