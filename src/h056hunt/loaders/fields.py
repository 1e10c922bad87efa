"""Small, shape-independent helpers for reading fields of exported records."""

from __future__ import annotations

import json
import json.encoder
import re
from collections.abc import Callable, Mapping
from functools import partial
from operator import itemgetter
from typing import Any

from h056hunt.errors import InputValue, ProgramText

# Literal stand-ins for "no value" seen in exports, compared case-insensitively.
# ``&lt;null&gt;`` is the HTML-escaped form that some pipelines pass on.
NULL_PLACEHOLDERS = frozenset({"", "<null>", "&lt;null&gt;", "null", "none", "n/a"})
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
# A JSON ``\uXXXX`` escape can decode to half of a UTF-16 surrogate pair, which no
# UTF-8 encoder (pyarrow's or an output file's) accepts.
_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")
REPLACEMENT_CHARACTER = "\ufffd"
# Every placeholder is ASCII, and the one non-ASCII character that lower-cases to
# ASCII, U+212A KELVIN SIGN, becomes one character. So text of any other length never
# lower-cases to a placeholder.
_NULL_PLACEHOLDER_LENGTHS = frozenset(map(len, NULL_PLACEHOLDERS))
# Up to this many keys, lower-casing each was as fast as finding the key set in the
# cache, in a micro-benchmark on CPython 3.11.
_UNCACHED_KEYS_MAX = 4
# Bounds of the cache of lower-cased key sets, which keeps the key strings alive.
_CACHED_KEY_SETS_MAX = 256
_CACHED_KEYS_MAX = 256
_LOWERED_KEYS: dict[tuple[Any, ...], tuple[str, ...]] = {}
# The key a FieldReader reads for a name that no key of the record matches.
_ABSENT = object()
# Bound of the cache of shared_text, which keeps its raw and clean strings alive.
_SHARED_TEXTS_MAX = 4096
_SHARED_TEXTS: dict[str, str | None] = {}
# A FieldReader's reading of one key set: a record to the values of its fields.
_Getter = Callable[[dict[str, Any]], tuple[Any, ...]]


class NotWholeNumber(float):
    """A JSON number written with an exponent or with a fraction that is not all
    zeros, such as ``5.00121e5`` or ``500120.99999999999999``."""

    __slots__ = ()


def read_json_float(text: str) -> float:
    """Convert a JSON number with a fraction or an exponent to a float.

    A number with an exponent or a non-zero fraction becomes a
    :class:`NotWholeNumber`, from which :func:`integer` reads no code or count, as
    from the same text in a string. Its float can still be whole, because
    ``500120.99999999999999`` rounds to 500121.0.
    """
    number = float(text)
    if "e" in text or "E" in text:
        return NotWholeNumber(number)
    _, _, fraction = text.partition(".")
    if fraction.strip("0"):
        return NotWholeNumber(number)
    return number


# The decoder that every loader reads records with, so that the plain path and the
# fast path see the same numbers. Calling its raw_decode skips Python-level calls that
# cost more than decoding short text: 0.96 us against 0.20 us for a one-item list, on
# CPython 3.11.
JSON_DECODER = json.JSONDecoder(parse_float=read_json_float)
# The encoders of json_text are built once, because json.dumps builds a new one per
# call when given options, and JSONEncoder.encode builds a C encoder per call.
_ENCODER = json.JSONEncoder(ensure_ascii=False)
_SORTED_KEYS_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True)


def _chunk_encoder(encoder: json.JSONEncoder) -> Callable[[Any, int], Any]:
    """Return a C encoder configured like ``encoder``, or its Python fallback.

    The C encoder skips the check for a value that contains itself, because decoded
    JSON and text cells cannot. A value nested too deeply still raises RecursionError.
    """
    # The C encoder, which json.JSONEncoder itself uses, is absent from typeshed.
    make_encoder = getattr(json.encoder, "c_make_encoder", None)
    if make_encoder is None:
        return lambda value, _level: (encoder.encode(value),)
    chunk_encoder: Callable[[Any, int], Any] = make_encoder(
        None,
        encoder.default,
        json.encoder.encode_basestring,
        None,
        encoder.key_separator,
        encoder.item_separator,
        encoder.sort_keys,
        encoder.skipkeys,
        encoder.allow_nan,
    )
    return chunk_encoder


_ENCODE_CHUNKS = _chunk_encoder(_ENCODER)
_ENCODE_SORTED_CHUNKS = _chunk_encoder(_SORTED_KEYS_ENCODER)


def lower_keys(record: Any) -> dict[str, Any]:
    """Return a shallow copy of a mapping with lower-cased keys; ``{}`` for non-maps.

    Graph uses camelCase, Log Analytics PascalCase and the Graph PowerShell SDK
    PascalCase too; lower-casing lets one mapping read all of them. When two keys
    differ only in case, the later one's value is kept.
    """
    if type(record) is not dict:
        if record is None:
            return {}
        if isinstance(record, str):
            record = decode_json_text(record)
        if not isinstance(record, Mapping):
            return {}
    if type(record) is not dict or len(record) <= _UNCACHED_KEYS_MAX:
        return {str(key).lower(): value for key, value in record.items()}
    keys = tuple(record)
    lowered = _LOWERED_KEYS.get(keys)
    if lowered is None:
        lowered = _lower_and_cache(keys)
    return dict(zip(lowered, record.values(), strict=True))


class FieldReader:
    """Read chosen fields of records by lower-cased name, as :func:`lower_keys` would.

    ``FieldReader("id", "type").read(record)`` returns the same values as
    ``(lower_keys(record).get("id"), lower_keys(record).get("type"))`` without copying
    the record. For each key set of ``dict`` records with ``str`` keys, the reader
    keeps a getter of the original keys that the names match. The records of an
    export repeat a few key sets, so most are read with one lookup and one call.
    """

    def __init__(self, *names: str) -> None:
        self._names = names
        self._absent = (None,) * len(names)
        self._getters: dict[tuple[str, ...], _Getter] = {}

    def read(self, record: Any) -> tuple[Any, ...]:
        """Return the values of the chosen fields, None for each one absent."""
        if type(record) is dict:
            getter = self._getters.get(tuple(record))
            if getter is not None:
                return getter(record)
            if len(record) <= _CACHED_KEYS_MAX and all(
                type(key) is str for key in record
            ):
                return self._cache_getter(tuple(record))(record)
        elif record is None:
            return self._absent
        fields = lower_keys(record)
        return tuple(map(fields.get, self._names))

    def _cache_getter(self, keys: tuple[str, ...]) -> _Getter:
        # A later key wins over an earlier one that lower-cases the same, as in
        # lower_keys.
        original_by_name = {key.lower(): key for key in keys}
        originals = [original_by_name.get(name) for name in self._names]
        getter: _Getter
        if len(originals) > 1 and None not in originals:
            # itemgetter returns a tuple when given two or more keys.
            getter = itemgetter(*originals)
        else:
            # _ABSENT is the key for names that no key matches, because it equals no
            # str key.
            plan = tuple(_ABSENT if key is None else key for key in originals)
            getter = partial(_read_plan, plan)
        if len(self._getters) >= _CACHED_KEY_SETS_MAX:
            self._getters.clear()
        self._getters[keys] = getter
        return getter


def _read_plan(plan: tuple[Any, ...], record: dict[str, Any]) -> tuple[Any, ...]:
    return tuple(map(record.get, plan))


def _lower_and_cache(keys: tuple[Any, ...]) -> tuple[str, ...]:
    """Return ``keys`` lower-cased and keep them in the cache of ``lower_keys``.

    The records of one export repeat a few key sets, and looking one up costs less
    than lower-casing each key again.
    """
    lowered = tuple([str(key).lower() for key in keys])
    # Only str keys are cached, because 1, True and 1.0 match as cache keys while
    # their text differs.
    if len(keys) <= _CACHED_KEYS_MAX and all(type(key) is str for key in keys):
        if len(_LOWERED_KEYS) >= _CACHED_KEY_SETS_MAX:
            _LOWERED_KEYS.clear()
        _LOWERED_KEYS[keys] = lowered
    return lowered


def decode_json_text(value: Any) -> Any:
    """Decode a JSON document stored as text (Log Analytics and CSV cells).

    Values that are not text, or text that is not a JSON object or array, come back
    unchanged.
    """
    if not isinstance(value, str):
        return value
    stripped = value.strip()
    if not stripped or stripped[0] not in "[{":
        return value
    try:
        decoded, end = JSON_DECODER.raw_decode(stripped)
    except (ValueError, RecursionError):
        return value
    # json.loads rejects text after the document. No whitespace that it would skip
    # can follow the document, because ``stripped`` ends in a non-space character.
    return decoded if end == len(stripped) else value


def text(value: Any) -> str | None:
    """Return a field as clean text, or None for nulls and placeholders."""
    if type(value) is str:
        result = value.strip()
        if not result.isascii():
            result = replace_surrogates(result)
    elif value is None:
        return None
    elif isinstance(value, bool):
        return "true" if value else "false"
    elif isinstance(value, (dict, list)):
        return json_text(value, sort_keys=True)
    else:
        result = replace_surrogates(str(value).strip())
    if len(result) in _NULL_PLACEHOLDER_LENGTHS and result.lower() in NULL_PLACEHOLDERS:
        return None
    return result


def shared_text(value: Any) -> str | None:
    """Return :func:`text` of a field, as one str object for equal text seen lately.

    Use it for fields that repeat across records, such as a category, an actor or a
    result. Rows that share their strings take less time to pickle and unpickle,
    because pickle writes a string object once and refers back to it.
    """
    if value is None:
        return None
    if type(value) is not str:
        return text(value)
    if value in _SHARED_TEXTS:
        return _SHARED_TEXTS[value]
    cleaned = text(value)
    if len(_SHARED_TEXTS) >= _SHARED_TEXTS_MAX:
        _SHARED_TEXTS.clear()
    _SHARED_TEXTS[value] = cleaned
    return cleaned


def json_text(value: Any, *, sort_keys: bool = False) -> str | None:
    """Encode a decoded JSON value as UTF-8-safe JSON text.

    Returns None when the value is nested too deeply to encode. The reader decoded it
    with fewer stack frames in use than the encoder has here, so a value just within
    the reader's limit can exceed the encoder's.
    """
    encode_chunks = _ENCODE_SORTED_CHUNKS if sort_keys else _ENCODE_CHUNKS
    try:
        encoded = "".join(encode_chunks(value, 0))
    except RecursionError:
        return None
    return replace_surrogates(encoded)


def replace_surrogates(value: str) -> str:
    """Replace lone UTF-16 surrogates with U+FFFD so the text encodes as UTF-8.

    ASCII text, and text that already encodes, is returned as it is without a copy.
    """
    if value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _LONE_SURROGATE.sub(REPLACEMENT_CHARACTER, value)
    return value


def reason_value(value: str | None, missing: str) -> InputValue | ProgramText:
    """Return a field value for a skip reason, or ``missing`` when it is absent.

    The value is put in bare but kept apart, so a terminal shows it cut as other
    log values are cut, and the JSON formats keep the reason whole.
    """
    if not value:
        return ProgramText(missing)
    return InputValue(replace_surrogates(value), quoted=False)


def integer(value: Any) -> int | None:
    """Return a field as an int; None when it is missing or not a whole number.

    Exports write numbers as JSON numbers or as strings (``"500121"``, ``"0"``). A
    number outside the 64-bit range of the canonical integer columns is None too:
    no Entra code or count comes near it, and storing it would overflow.
    """
    number = _whole_number(value)
    if number is None or not INT64_MIN <= number <= INT64_MAX:
        return None
    return number


# A whole number as text: ASCII digits with an optional sign, and an optional
# fraction of zeros ("500121.0").
_WHOLE_NUMBER_TEXT = re.compile(r"([+-]?[0-9]+)(?:\.0*)?", re.ASCII)


def _whole_number(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, NotWholeNumber):
        # The fast path's pre-filter looks for a code's literal digits, which
        # neither 5.00121e5 nor 500120.99999999999999 contains.
        return None
    if isinstance(value, float):
        return int(value) if value.is_integer() else None
    cleaned = text(value)
    if cleaned is None:
        return None
    # ASCII digits only: int() also reads "500_121", other scripts' digits and,
    # through float(), "5.00121e5". No export writes those, and the fast path,
    # which looks for the literal digits, would not see them.
    match = _WHOLE_NUMBER_TEXT.fullmatch(cleaned)
    return int(match.group(1)) if match else None


def boolean(value: Any) -> bool | None:
    """Return a field as a bool, accepting ``"true"``/``"false"`` and 0/1 text."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    cleaned = text(value)
    if cleaned is None:
        return None
    lowered = cleaned.lower()
    if lowered in ("true", "1", "yes"):
        return True
    if lowered in ("false", "0", "no"):
        return False
    return None


def first_text(record: Mapping[str, Any], *keys: str) -> str | None:
    """Return the first of ``keys`` that holds a non-null text value."""
    for key in keys:
        value = record.get(key)
        if value is not None:
            value = text(value)
            if value is not None:
                return value
    return None
