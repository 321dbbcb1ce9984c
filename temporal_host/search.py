"""Search attributes: one type inference for start options and `workflow.attrs` (§3.5, §13).

Types are inferred from the Lua values: string → Keyword, boolean → Bool, integral number →
Int, other number → Double, array of strings → KeywordList, Time → Datetime.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

from temporalio.common import SearchAttributeKey, SearchAttributePair, TypedSearchAttributes

from actors.errors import invalid
from lua_bindings.gotime import SECOND, GoTime


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
