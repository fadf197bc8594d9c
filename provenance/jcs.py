"""RFC 8785 JSON Canonicalization Scheme for the values the protocol uses.

The protocol never uses floats (docs/protocol.md §1), so this canonicalizer accepts
only dict, list, str, int (within the IEEE-754 exact range), bool and None.
That restriction makes canonical form reachable with the C-accelerated string
escaper of the standard library, several times faster than the general
`rfc8785` package; tests/provenance/test_jcs.py proves the two byte-identical
on RFC 8785's examples and on generated values (hypothesis).

RFC 8785 §3.2.3 orders object members by their UTF-16 code units, which
differs from Python's code-point order only for characters above U+FFFF
against U+E000..U+FFFF; sorting by the UTF-16-BE encoding gives exactly that.
"""

from __future__ import annotations

import json
import re
from typing import Any

from provenance.errors import CanonicalizationError

# encode_basestring (not the ASCII variant) escapes exactly what ES6
# JSON.stringify escapes: '"', '\\', and control characters below U+0020,
# using \b \f \n \r \t and lower-case \u00xx for the rest.
_escape = json.encoder.encode_basestring
_MAX_SAFE_INT = 2**53 - 1


def _utf16_key(item: tuple[str, Any]) -> bytes:
    return item[0].encode("utf-16-be", "surrogatepass")


def _encode(value: Any, out: list[str]) -> None:
    if isinstance(value, str):
        out.append(_escape(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        if not -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT:
            raise CanonicalizationError(f"integer {value} is outside the I-JSON safe range (RFC 8785 §3.2.2.3)")
        out.append(str(value))
    elif isinstance(value, dict):
        for key in value:
            if not isinstance(key, str):
                raise CanonicalizationError(f"object key {key!r} is not a string")
        out.append("{")
        first = True
        for key, item in sorted(value.items(), key=_utf16_key):
            if not first:
                out.append(",")
            first = False
            out.append(_escape(key))
            out.append(":")
            _encode(item, out)
        out.append("}")
    elif isinstance(value, (list, tuple)):
        out.append("[")
        for i, item in enumerate(value):
            if i:
                out.append(",")
            _encode(item, out)
        out.append("]")
    elif isinstance(value, float):
        raise CanonicalizationError("floats are not allowed in protocol JSON (use whole numbers)")
    else:
        raise CanonicalizationError(f"cannot canonicalize a value of type {type(value).__name__}")


def canonicalize(value: Any) -> bytes:
    """Return the RFC 8785 canonical UTF-8 bytes of ``value``."""
    out: list[str] = []
    try:
        _encode(value, out)
    except RecursionError as exc:
        raise CanonicalizationError("the value is nested too deeply") from exc
    try:
        return "".join(out).encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates are not valid I-JSON
        raise CanonicalizationError("string contains a lone surrogate, which is not valid I-JSON") from exc


_ENVELOPE_KEYS = frozenset(("payload", "payloadType", "signatures"))
_SIGNATURE_KEYS = frozenset(("keyid", "sig"))
_c_dumps = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode


def canonicalize_envelope(envelope: Any) -> bytes:
    """RFC 8785 bytes of a DSSE envelope, on the C encoder when its shape allows.

    With only the DSSE member names (all ASCII, so code-point order is UTF-16
    order) and string values, the standard library's sorted compact encoding
    escapes exactly as RFC 8785 does and is byte-identical; any other shape
    takes the general path. tests/provenance/test_jcs.py checks the two agree.
    """
    if (
        type(envelope) is dict
        and envelope.keys() == _ENVELOPE_KEYS
        and type(envelope["payload"]) is str
        and type(envelope["payloadType"]) is str
        and type(envelope["signatures"]) is list
        and all(
            type(sig) is dict and sig.keys() <= _SIGNATURE_KEYS and all(type(v) is str for v in sig.values())
            for sig in envelope["signatures"]
        )
    ):
        try:
            return _c_dumps(envelope).encode("utf-8")
        except UnicodeEncodeError as exc:
            raise CanonicalizationError("string contains a lone surrogate, which is not valid I-JSON") from exc
    return canonicalize(envelope)


def canonical_length(value: Any) -> int:
    """``len(canonicalize(value))`` for a value :func:`canonicalize` accepts, on the C encoder (~6× faster).

    For such values (dict, list, str, exact-range int, bool, None, string keys) the standard
    library's sorted compact encoding differs from RFC 8785 at most in member order (code
    points against UTF-16 units, above U+E000), and order does not change a length. For a value
    :func:`canonicalize` refuses (a float, a huge integer), the number means nothing: whoever
    makes the bytes gets the error. Lets a size limit be checked without canonicalizing twice.
    tests/provenance/test_jcs.py checks the two agree.
    """
    try:
        return len(_c_dumps(value).encode("utf-8"))
    except UnicodeEncodeError as exc:
        raise CanonicalizationError("string contains a lone surrogate, which is not valid I-JSON") from exc


# UTF-8 lead bytes of U+E000 and above: only where these occur can code-point order (the C
# encoder's) differ from UTF-16 order (RFC 8785's).
_ORDER_SENSITIVE = re.compile(rb"[\xee-\xff]")


def is_canonical(data: bytes, value: Any) -> bool:
    """Whether ``data`` is exactly ``canonicalize(value)``, where ``value`` was parsed from it by :func:`loads`.

    Parsed protocol JSON has no floats and only exact-range integers (:func:`loads` refuses
    both), so when no character of ``data`` could make member order differ, the standard
    library's sorted compact C encoder writes the same bytes RFC 8785 does (as for envelopes
    above); otherwise the general path decides. tests/provenance/test_jcs.py checks the two agree.
    """
    if _ORDER_SENSITIVE.search(data) is None:
        try:
            return bool(_c_dumps(value).encode("utf-8") == data)
        except UnicodeEncodeError:
            pass  # a lone surrogate: the general path raises the clear error
    return canonicalize(value) == data


def _reject_float(text: str) -> Any:
    raise CanonicalizationError(f"floats are not allowed in protocol JSON: {text}")


def _exact_int(text: str) -> int:
    value = int(text)
    if -_MAX_SAFE_INT <= value <= _MAX_SAFE_INT:
        return value
    raise CanonicalizationError(f"integers beyond ±(2**53 - 1) are not allowed in protocol JSON: {text[:30]}")


def _reject_constant(text: str) -> Any:
    raise CanonicalizationError(f"{text} is not valid JSON")


def _unique_object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):  # a member name repeats: find the first for the message
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise CanonicalizationError(f"duplicate object member {key!r} (I-JSON forbids it)")
            seen.add(key)
    return obj


def loads(data: bytes | str) -> Any:
    """Parse protocol JSON strictly: no floats, no NaN, no integer beyond the exact range, no duplicate members."""
    try:
        return json.loads(
            data,
            parse_float=_reject_float,
            parse_int=_exact_int,
            parse_constant=_reject_constant,
            object_pairs_hook=_unique_object,
        )
    except CanonicalizationError:
        raise
    except (ValueError, RecursionError) as exc:
        raise CanonicalizationError(f"not valid JSON: {exc}") from exc
