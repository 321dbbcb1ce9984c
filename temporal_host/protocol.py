"""What travels through Temporal, in one place: payloads, errors, headers, workflow PIDs.

Both the client side (starting, signalling, watching workflows) and the worker side (the
workflow driver, activities) use these, so a value or an error means the same on both ends
(temporal.md §2, §15, §16).
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Self

import temporalio.api.common.v1
from temporalio.converter import (
    BinaryNullPayloadConverter,
    BinaryPlainPayloadConverter,
    CompositePayloadConverter,
    DataConverter,
    EncodingPayloadConverter,
    SerializationContext,
)
from temporalio.exceptions import (
    ActivityError,
    ApplicationError,
    CancelledError,
    ChildWorkflowError,
    TerminatedError,
    TimeoutError,
)

from actors import errors
from actors.errors import ActorError, Error, InternalError, InvalidError
from actors.pid import PID
from corelib import jsoncodec
from corelib.gotime import Duration, GoTime
from lua_bindings.modules.security import (
    ACTOR_KEY,
    SCOPE_KEY,
    Actor,
    Scope,
    context_actor,
    context_scope,
)

Payload = temporalio.api.common.v1.Payload
log = logging.getLogger(__name__)

CONTEXT_HEADER = "wippy-context"
SENDER_KEY = "temporal.signal.from"
FAILURE_SOURCE = "WippySDK"

# -- payloads ------------------------------------------------------------------------------------


def json_default(value: Any) -> Any:
    """JSON for runtime values (lua-api §11): Time as RFC 3339 with nanoseconds, Duration as
    integer nanoseconds, errors as {message, kind, retryable, details}."""
    if isinstance(value, GoTime):
        return value.format("2006-01-02T15:04:05.999999999Z07:00")
    if isinstance(value, Duration):
        return value.ns
    if isinstance(value, Error):
        return {
            "message": value.message,
            "kind": value.kind,
            "retryable": value.retryable,
            "details": value.details,
        }
    return NotImplemented


class LuaJSONPayloadConverter(EncodingPayloadConverter):
    """`json/plain` with the Lua `json` module's rules: sorted keys (stable payload bytes,
    whatever order Lua iterated the table in), integers kept, Go float formatting."""

    @property
    def encoding(self) -> str:
        return "json/plain"

    def to_payload(self, value: Any) -> Payload | None:
        data = plain_json(value)
        if data is None:
            data = jsoncodec.encode(value, default=json_default).encode()
        return Payload(metadata={"encoding": JSON_PLAIN}, data=data)

    def from_payload(self, payload: Payload, type_hint: type | None = None) -> Any:
        data = payload.data
        if _SMALL_INT.fullmatch(data):
            return int(data)  # what the codec reads, without its parser
        return jsoncodec.decode(data)


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_SMALL_INT = re.compile(rb"-?(?:0|[1-9][0-9]{0,17})")
"""Integers of up to 18 digits: always int64, which is what the codec reads them as."""
_PLAIN_TEXT = re.compile(r'[^"\\\x00-\x1f]*')
"""ASCII text the codec writes between quotes as it is (no escape needed)."""
JSON_PLAIN = b"json/plain"


def plain_json(value: Any) -> bytes | None:
    """The codec's bytes for an int64, a boolean or an ASCII string needing no escape,
    written without its walk; None for anything else. Payload bytes must not change
    (recorded histories replay against them): tests/temporal/test_payloads.py checks these
    against the codec."""
    kind = type(value)
    if kind is int:
        if _INT64_MIN <= value <= _INT64_MAX:
            return str(value).encode()
    elif kind is str:
        if value.isascii() and _PLAIN_TEXT.fullmatch(value):
            return b'"' + value.encode() + b'"'
    elif kind is bool:
        return b"true" if value else b"false"
    return None


_CONVERTERS: Mapping[bytes, EncodingPayloadConverter] = MappingProxyType(
    {
        c.encoding.encode(): c
        for c in (
            BinaryNullPayloadConverter(),
            BinaryPlainPayloadConverter(),
            LuaJSONPayloadConverter(),
        )
    }
)
"""The encodings of `LuaPayloadConverter`, in the order it tries them. Built once: the
parts keep no state, and the SDK makes a payload converter for every workflow activation."""


class LuaPayloadConverter(CompositePayloadConverter):
    """nil → binary/null, bytes → binary/plain, everything else → json/plain (§15.1).
    Any other inbound encoding is rejected."""

    def __init__(self) -> None:
        self.converters = _CONVERTERS  # CompositePayloadConverter's, without rebuilding it

    def with_context(self, context: SerializationContext) -> Self:
        """The same converter: none of its parts reads the serialization context."""
        return self


class ContextFreeDataConverter(DataConverter):
    """A data converter whose payload and failure converters ignore the serialization
    context (the workflow or activity a payload belongs to), and with no codec or external
    storage: `with_context` returns it as it is.

    The SDK asks for a converter with context for every payload it visits (in a workflow
    task, per command; in an activity, per call). The stock `with_context` answers with
    four ABC `isinstance` checks and a comparison of the parts, which in a replayed history
    of sixteen activity calls came to about a tenth of the SDK's Python work, profiled
    (docs/performance.md, "A data converter without context")."""

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.payload_codec is not None or self.external_storage is not None:
            raise ValueError("a context-free data converter takes no codec or external storage")

    def with_context(self, context: SerializationContext) -> Self:
        return self


DATA_CONVERTER = ContextFreeDataConverter(payload_converter_class=LuaPayloadConverter)


def to_payload(value: Any) -> Payload:
    """What `DATA_CONVERTER` makes of `value`; plain values (`plain_json`) without the walk
    through the composite converter (a workflow encodes one per activity argument)."""
    data = plain_json(value)
    if data is not None:
        return Payload(metadata={"encoding": JSON_PLAIN}, data=data)
    return DATA_CONVERTER.payload_converter.to_payloads([value])[0]


def from_payload(payload: Payload) -> Any:
    """What `DATA_CONVERTER` reads from `payload`: the composite's dispatch on the encoding,
    its errors included, without its per-call list and context plumbing."""
    return _decode(payload, payload.metadata.get("encoding", b"<unknown>"))


def _decode(payload: Payload, encoding: bytes) -> Any:
    converter = _CONVERTERS.get(encoding)
    if converter is None:
        raise KeyError(f"Unknown payload encoding {encoding.decode()}")
    try:
        return converter.from_payload(payload)
    except RuntimeError as err:
        raise RuntimeError(
            f"Payload at index 0 with encoding {encoding.decode()} could not be converted"
        ) from err


PAYLOAD_LIMIT = 2 * 1024 * 1024
"""Temporal's default limit on one payload (`limit.blobSize.error`, 2 MiB): a bigger
message, argument or result is refused by the server, so it is refused before sending."""
PAYLOAD_WARNING = 512 * 1024
"""The server's warning size (`limit.blobSize.warn`)."""
_SURELY_SMALL = 64 * 1024
"""Data this long makes a payload far below PAYLOAD_LIMIT whatever its metadata."""


def encode(value: Any, what: str = "value") -> Payload:
    """`value` as a payload for Temporal, or `Invalid` saying why it can never be one: not
    representable as JSON (a sparse or mixed-key table, a non-finite number...), or over
    the payload limit. The one check of every path into Temporal (issue 12 items 7, 8)."""
    try:
        payload = to_payload(value)
    except Exception as exc:
        reason = exc.error.message if isinstance(exc, ActorError) else str(exc)
        raise InvalidError(
            f"{what} cannot be sent through Temporal (payloads are JSON): {reason}"
        ) from None
    if len(payload.data) <= _SURELY_SMALL:
        return payload  # far below the limit: no need to measure it
    size = payload.ByteSize()
    if size > PAYLOAD_LIMIT:
        raise InvalidError(
            f"{what} of {size} bytes exceeds Temporal's payload limit of {PAYLOAD_LIMIT} "
            "bytes (2 MiB)"
        )
    return payload


ENCODINGS = (b"binary/null", b"binary/plain", b"json/plain")
"""The inbound encodings we accept (§15.1)."""


def decode_payload(payload: Payload) -> Any:
    """A payload as a plain value; `ActorError` (`Invalid` for a foreign encoding, `Internal`
    for undecodable data) instead of the converter's exceptions."""
    encoding = payload.metadata.get("encoding", b"")
    if encoding not in ENCODINGS:
        name = encoding.decode("utf-8", "replace")
        raise InvalidError(f"unsupported temporal payload encoding: {name}")
    try:
        return _decode(payload, encoding)
    except Exception as exc:
        raise InternalError(f"cannot decode {encoding.decode()} payload: {exc}") from exc


# -- headers -------------------------------------------------------------------------------------


def context_header(values: Mapping[str, Any], sender: PID | str | None = None) -> Payload | None:
    """The `wippy-context` header: context values, plus the sender of a signal. None when
    there is nothing to carry: a missing header reads as an empty context (`read_context`),
    so an empty one is not sent, and a workflow without context values records no header
    in each activity's history event (docs/decisions.md, "No empty context header")."""
    data = {k: v for k, v in values.items() if _header_safe(v)}
    if sender is not None:
        data[SENDER_KEY] = str(sender)
    return to_payload(data) if data else None


def read_context(headers: Mapping[str, Payload]) -> tuple[dict[str, Any], str | None]:
    """(context values, sender PID or None) from headers; the sender key is removed from
    the values so it never leaks into the workflow's context (defect 20)."""
    payload = headers.get(CONTEXT_HEADER)
    if payload is None:
        return {}, None
    try:
        data = from_payload(payload)
    except Exception:
        return {}, None
    if not isinstance(data, dict):
        return {}, None
    sender = data.pop(SENDER_KEY, None)
    return data, sender if isinstance(sender, str) else None


SECURITY_HEADER = "wippy-security"


def security_header(context: Mapping[str, Any], key: str | None) -> Payload | None:
    """The signed `wippy-security` header (§16) for the identity in `context`: `{actor =
    {id, meta}, policies}` and an HMAC-SHA256 of its canonical JSON under the client's
    `header_signing_key`. None without a key or an identity: nothing unsigned is sent."""
    if not key:
        return None
    actor, scope = context_actor(context), context_scope(context)
    if actor is None and scope is None:
        return None
    data: dict[str, Any] = {"policies": list(scope.policies) if scope is not None else []}
    if actor is not None:
        data["actor"] = {"id": actor.id, "meta": actor.meta}
    return to_payload({"data": data, "sig": _signature(data, key)})


def read_security(headers: Mapping[str, Payload], key: str | None) -> dict[str, Any]:
    """The identity of a verified `wippy-security` header, as context entries (actor and
    scope under their reserved keys); {} without a key, a header or a valid signature (a
    bad one is logged: someone may be forging an identity)."""
    payload = headers.get(SECURITY_HEADER)
    if payload is None or not key:
        return {}
    try:
        header = from_payload(payload)
        data, signature = header["data"], header["sig"]
        valid = hmac.compare_digest(str(signature), _signature(data, key))
    except Exception:
        valid = False
    if not valid:
        log.warning("ignoring a %s header with a missing or invalid signature", SECURITY_HEADER)
        return {}
    identity: dict[str, Any] = {SCOPE_KEY: Scope(tuple(data.get("policies") or ()))}
    actor = data.get("actor")
    if isinstance(actor, dict) and isinstance(actor.get("id"), str):
        identity[ACTOR_KEY] = Actor(actor["id"], actor.get("meta") or {})
    return identity


def _signature(data: Any, key: str) -> str:
    canonical = jsoncodec.encode(data, default=json_default).encode()
    return hmac.new(key.encode(), canonical, hashlib.sha256).hexdigest()


def _header_safe(value: Any) -> bool:
    """Only strings, numbers, booleans and nested maps / lists travel in the header."""
    if value is None or isinstance(value, bool | int | float | str):
        return True
    if isinstance(value, list):
        return all(_header_safe(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _header_safe(v) for k, v in value.items())
    return False


# -- errors --------------------------------------------------------------------------------------


def error_chain(error: Error) -> dict[str, Any]:
    """`{errors = [...]}`, outermost first: each wrapping level contributes one element."""
    levels: list[dict[str, Any]] = [
        {"msg": context, "kind": error.kind, "retry": error.retryable, "details": None, "stack": ""}
        for context in error.context
    ]
    levels.append(
        {
            "msg": error.message,
            "kind": error.kind,
            "retry": error.retryable,
            "details": error.details,
            "stack": error.stack,
        }
    )
    return {"errors": levels}


def application_error(error: Error) -> ApplicationError:
    """The Temporal failure for an `Error` (§15.3): kind as type, the chain as details."""
    failure = ApplicationError(
        error.message,
        error_chain(error),
        type=error.kind or errors.INTERNAL,
        non_retryable=error.retryable is False,
    )
    return failure


_KIND_BY_TYPE = {
    "ActivityNotRegisteredError": errors.NOT_FOUND,
    "WorkflowNotRegisteredError": errors.NOT_FOUND,
    "NamespaceNotFoundError": errors.NOT_FOUND,
    "NotFoundError": errors.NOT_FOUND,
}


def error_from_failure(exc: BaseException) -> Error:
    """The `Error` a Temporal failure stands for (§15.4), wrappers unwrapped."""
    wrapper: dict[str, Any] = {}
    while isinstance(exc, ActivityError | ChildWorkflowError) and exc.cause is not None:
        if isinstance(exc, ActivityError):
            wrapper.update(
                _wrapper="activity",
                _activity_id=exc.activity_id,
                _retry_state=_retry_state(exc.retry_state),
            )
        else:
            wrapper.update(
                _wrapper="workflow",
                _workflow_id=exc.workflow_id,
                _workflow_type=exc.workflow_type,
                _run_id=exc.run_id,
                _retry_state=_retry_state(exc.retry_state),
            )
        exc = exc.cause
    error = _leaf_error(exc)
    if wrapper:
        error = Error(
            error.message,
            error.kind,
            error.retryable,
            {**(error.details or {}), **wrapper},
            error.stack,
            error.context,
        )
    return error


def _leaf_error(exc: BaseException) -> Error:
    if isinstance(exc, ApplicationError):
        chain = _chain_from_details(exc.details)
        if chain is not None:
            return chain
        kind = exc.type or ""
        kind = _KIND_BY_TYPE.get(kind, kind if kind in errors.KINDS.values() else "")
        return Error(exc.message, kind, not exc.non_retryable)
    if isinstance(exc, TerminatedError):
        return Error("workflow terminated", errors.CANCELED, False)
    if isinstance(exc, CancelledError):
        return Error("operation canceled", errors.CANCELED, False)
    if isinstance(exc, TimeoutError):
        return Error(
            str(exc) or "timeout",
            errors.TIMEOUT,
            False,
            {"timeout_type": exc.type.name if exc.type is not None else ""},
        )
    return errors.as_error(exc)


def error_from_chain(chain: Any) -> Error | None:
    """The `Error` an `error_chain` value stands for (None when it is not one); used where a
    chain travels as data (results of the reserved local activities)."""
    return _chain_from_details([chain])


def _chain_from_details(details: Any) -> Error | None:
    if not details:
        return None
    chain = details[0]
    if not isinstance(chain, dict) or not isinstance(chain.get("errors"), list):
        return None
    levels = [level for level in chain["errors"] if isinstance(level, dict)]
    if not levels:
        return None
    inner = levels[-1]
    return Error(
        str(inner.get("msg", "")),
        str(inner.get("kind") or ""),
        inner.get("retry") if isinstance(inner.get("retry"), bool) else None,
        inner.get("details") or None,
        str(inner.get("stack") or ""),
        tuple(str(level.get("msg", "")) for level in levels[:-1]),
    )


def _retry_state(state: Any) -> str:
    return state.name if state is not None else ""


# -- PIDs ----------------------------------------------------------------------------------------


def workflow_pid(client: str, worker: str, workflow_id: str) -> PID:
    """The canonical PID of a workflow (§2.2): node = client entry, host = worker entry."""
    return PID(host=worker, id=workflow_id, node=client)


def not_found(workflow_id: str) -> Error:
    return Error(f"workflow not found: {workflow_id}", errors.NOT_FOUND, False)


__all__ = [
    "CONTEXT_HEADER",
    "DATA_CONVERTER",
    "SENDER_KEY",
    "application_error",
    "context_header",
    "decode_payload",
    "error_from_chain",
    "error_from_failure",
    "from_payload",
    "not_found",
    "read_context",
    "to_payload",
    "workflow_pid",
]
