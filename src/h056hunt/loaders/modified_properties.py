"""Map the ``modifiedProperties`` of an audit target to the canonical columns.

Each property becomes ``{"name": ..., "old": ..., "new": ...}`` with its old and new
values decoded from the JSON text Entra wraps them in, and the list is stored as JSON
text in ``modified_properties``. The new value of ``Included Updated Properties``
also fills ``included_updated_properties``.
"""

from __future__ import annotations

import json
import re
from json.encoder import encode_basestring
from typing import Any

from h056hunt.loaders.fields import (
    JSON_DECODER,
    FieldReader,
    decode_json_text,
    json_text,
    replace_surrogates,
    shared_text,
    text,
)

# The characters that can begin a JSON value, with the NaN and Infinity that
# Python's decoder also reads, and the whitespace json.loads skips before one.
_JSON_VALUE_START = frozenset('"[{-0123456789tfnNI')
_JSON_WHITESPACE = frozenset(" \t\n\r")
# A JSON string, or a list of one, with no character that json_text's encoder
# escapes. Decoding such text and encoding it again gives the same text back.
_UNCHANGED_BY_ENCODING = re.compile(r'"[^"\\\x00-\x1f]*"|\["[^"\\\x00-\x1f]*"\]')
_is_unchanged_by_encoding = _UNCHANGED_BY_ENCODING.fullmatch
_INCLUDED_PROPERTIES = "included updated properties"
# The JSON text of each property name seen lately, keyed by the name as written.
# Exports repeat a few names, such as StsRefreshTokensValidFrom.
_NAME_JSONS_MAX = 1024
_NAME_JSON: dict[str, str | None] = {}

_read_property = FieldReader("displayname", "oldvalue", "newvalue").read
_read_property_name = FieldReader("name", "displayname").read


def property_columns(value: Any) -> tuple[str | None, str | None]:
    """Return the ``modified_properties`` and ``included_updated_properties`` columns.

    ``value`` is the ``modifiedProperties`` of the target, a list or its JSON text.
    """
    encoded = _encode_plain_properties(value)
    if encoded is not None:
        return encoded, None
    properties = _modified_properties(value)
    encoded = json_text(properties) if properties else None
    return encoded, _included_properties(properties)


def _encode_plain_properties(value: Any) -> str | None:
    """Return the JSON text that json_text gives for the decoded properties.

    This covers a list of property objects whose old and new values are null or
    match _UNCHANGED_BY_ENCODING, such as the ``["2026-03-02T00:00:07Z"]`` of a
    session revocation, without decoding and encoding those values. Returns None
    for any other value, and for a list with ``Included Updated Properties``.
    """
    if type(value) is not list or not value:
        return None
    parts = []
    for item in value:
        if type(item) is not dict:
            return None
        name, old_value, new_value = _read_property(item)
        if not name:
            name = _read_property_name(item)[0]
        name_json = _name_json(name)
        if name_json is None:
            return None
        # Both values are checked inline, because a function call costs about as
        # much as the check.
        if old_value is None:
            old_json = "null"
        elif type(old_value) is str and _is_unchanged_by_encoding(old_value):
            old_json = old_value
        else:
            return None
        if new_value is None:
            new_json = "null"
        elif type(new_value) is str and _is_unchanged_by_encoding(new_value):
            new_json = new_value
        else:
            return None
        parts.append(f'{{"name": {name_json}, "old": {old_json}, "new": {new_json}}}')
    encoded = "[" + ", ".join(parts) + "]"
    return encoded if encoded.isascii() else replace_surrogates(encoded)


def _name_json(name: Any) -> str | None:
    """Return the JSON text of a property's name as _modified_properties stores it.

    Returns None for ``Included Updated Properties``, which the caller must decode.
    """
    if type(name) is str and name in _NAME_JSON:
        return _NAME_JSON[name]
    cleaned = shared_text(name)
    if cleaned is None:
        name_json: str | None = "null"
    elif cleaned.lower() == _INCLUDED_PROPERTIES:
        name_json = None
    else:
        name_json = encode_basestring(cleaned)
    if type(name) is str:
        if len(_NAME_JSON) >= _NAME_JSONS_MAX:
            _NAME_JSON.clear()
        _NAME_JSON[name] = name_json
    return name_json


def _modified_properties(value: Any) -> list[dict[str, Any]]:
    properties = decode_json_text(value)
    if not isinstance(properties, list):
        return []
    result = []
    for item in properties:
        name, old_value, new_value = _read_property(item)
        if not name:
            name = _read_property_name(item)[0]
        result.append(
            {
                "name": shared_text(name),
                "old": _unwrap_property_value(old_value),
                "new": _unwrap_property_value(new_value),
            }
        )
    return result


def _unwrap_property_value(value: Any) -> Any:
    """Decode modifiedProperties values, which are JSON encoded inside strings.

    Text that is not JSON, or JSON nested too deeply for the decoder, stays text.
    """
    if not isinstance(value, str):
        return value
    first = value[:1]
    if first in _JSON_VALUE_START:
        try:
            decoded, end = JSON_DECODER.raw_decode(value)
        except (ValueError, RecursionError):
            return value
        if end == len(value):
            return decoded
    elif first not in _JSON_WHITESPACE:
        # json.loads would raise, which costs more than this check.
        return value
    # With whitespace around the value or text after it, json.loads decides.
    try:
        return json.loads(value)
    except (ValueError, RecursionError):
        return value


def _included_properties(properties: list[dict[str, Any]]) -> str | None:
    for entry in properties:
        if (entry.get("name") or "").lower() == _INCLUDED_PROPERTIES:
            value = entry.get("new")
            if isinstance(value, list):
                try:
                    joined = ", ".join(str(item) for item in value)
                except RecursionError:
                    # repr() of a list nested too deeply, as json_text explains.
                    return None
                return replace_surrogates(joined)
            return text(value)
    return None
