"""Hypothesis strategies that write export files: generated, and mutated from seeds.

Generated JSON starts from a record of one shape (Graph audit or sign-in, Azure
Monitor diagnostic, Log Analytics, Unified Audit Log) and changes its fields, wraps
the records in one of the containers exports use and damages the result. Generated
CSV picks header names the loaders know and fills rows with awkward cells. Mutated
inputs take the bytes of a seed and flip, insert, delete, repeat and cut them.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from hypothesis import strategies as st

SEEDS = Path(__file__).resolve().parent / "seeds"

FIELD_NAMES = (
    "id",
    "createdDateTime",
    "activityDateTime",
    "activityDisplayName",
    "userId",
    "userPrincipalName",
    "userDisplayName",
    "appDisplayName",
    "ipAddress",
    "status",
    "errorCode",
    "failureReason",
    "additionalDetails",
    "authenticationDetails",
    "authenticationStepDateTime",
    "authenticationMethod",
    "succeeded",
    "authenticationStepResultDetail",
    "initiatedBy",
    "user",
    "app",
    "displayName",
    "servicePrincipalId",
    "targetResources",
    "type",
    "modifiedProperties",
    "oldValue",
    "newValue",
    "category",
    "properties",
    "time",
    "resultType",
    "operationName",
    "TimeGenerated",
    "Type",
    "TenantId",
    "RecordType",
    "CreationTime",
    "Operation",
    "UserId",
    "UserKey",
    "ErrorNumber",
    "AuditData",
    "Workload",
    "ExtendedProperties",
    "DeviceProperties",
    "Name",
    "Value",
    "Actor",
    "Target",
    "ID",
    "location",
    "city",
    "countryOrRegion",
    "deviceDetail",
    "signInEventTypes",
    "isInteractive",
    "originalRequestId",
    "correlationId",
    "resultDescription",
    "value",
    "records",
    "@odata.nextLink",
    "ObjectId",
    "ClientIP",
    "LogonError",
    "userAgent",
    "mfaDetail",
    "authMethod",
)
CSV_HEADERS = (
    "Date (UTC)",
    "Request ID",
    "User",
    "Username",
    "User ID",
    "Application",
    "IP address",
    "Location",
    "Status",
    "Sign-in error code",
    "Failure reason",
    "Multifactor authentication result",
    "User agent",
    "Authentication method",
    "Succeeded",
    "Result detail",
    "Activity",
    "ActorType",
    "ActorObjectId",
    "ActorUserPrincipalName",
    "ActorDisplayName",
    "Target1Type",
    "Target1ObjectId",
    "Target1UserPrincipalName",
    "Target1ModifiedProperty1Name",
    "Target1ModifiedProperty1NewValue",
    "TimeGenerated [UTC]",
    "Type",
    "Id",
    "UserId",
    "UserPrincipalName",
    "ResultType",
    "CreatedDateTime [UTC]",
    "ActivityDateTime [UTC]",
    "InitiatedBy",
    "TargetResources",
    "AuthenticationDetails",
    "AuditData",
    "CreationDate",
    "RecordType",
    "Operations",
    "UserIds",
    "Category",
)
INTERESTING_TEXT = (
    "",
    " ",
    "null",
    "<null>",
    "&lt;null&gt;",
    "N/A",
    "none",
    "0",
    "-1",
    "500121",
    "50074",
    "50140",
    "true",
    "false",
    "2025-01-02T03:04:05Z",
    "2025-01-02T03:04:05.1234567Z",
    "2025-01-02T03:04:05+00:00",
    "2025-01-02",
    "01/02/2025 3:04:05 PM",
    "13/01/2025, 03:04:05.123",
    "2025/01/02 3:04:05.123",
    "1735787045",
    "9999-99-99T99:99:99Z",
    "MFA denied; user declined the authentication",
    "MFA denied; Phone App Reported Fraud",
    "MFA denied; ",
    "MFA successfully completed",
    "Revoke user sessions",
    "Update StsRefreshTokenValidFrom Timestamp",
    "Reset user password",
    "00000000-0000-4000-8000-000000000b0b",
    "User_00000000-0000-4000-8000-000000000b0b",
    "bob@contoso.example",
    "BOB@CONTOSO.EXAMPLE",
    "ivan_x#EXT#@contoso.example",
    "SignInLogs",
    "AuditLogs",
    "NonInteractiveUserSignInLogs",
    "SigninLogs",
    "ProvisioningLogs",
    "AzureActiveDirectory",
    "UserLoginFailed",
    "8",
    "15",
    "203.0.113.7",
    "203.0.113.7:443",
    "[2001:db8::1]:443",
    '{"a": 1}',
    "[1, 2]",
    "\x1b[31m",
    "\u202e",
    "\x00",
    "\ufeff",
    "\r\n",
    '"',
    "'",
    ",",
    ";",
    "\\",
    "=1+1",
    "9" * 5000,
)

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(INTERESTING_TEXT),
    st.text(max_size=30),
)
json_values = st.recursive(
    json_scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(
            st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=8)),
            children,
            max_size=5,
        ),
    ),
    max_leaves=12,
)


def _seed_records() -> list[dict[str, Any]]:
    """Return every JSON record found in the JSON seeds, unwrapped from envelopes."""
    records: list[dict[str, Any]] = []
    for path in sorted(SEEDS.glob("*.json*")):
        text = path.read_text(encoding="utf-8")
        values = (
            [json.loads(line) for line in text.splitlines() if line.strip()]
            if path.suffix == ".ndjson"
            else [json.loads(text)]
        )
        for value in values:
            if isinstance(value, dict) and ("value" in value or "records" in value):
                value = value.get("value", value.get("records"))
            records.extend(value if isinstance(value, list) else [value])
    return [record for record in records if isinstance(record, dict)]


SEED_RECORDS = _seed_records()


@st.composite
def records(draw: st.DrawFn) -> dict[str, Any]:
    """Draw a seed record with some fields replaced, removed or added, at any depth."""
    record: dict[str, Any] = json.loads(json.dumps(draw(st.sampled_from(SEED_RECORDS))))
    for _ in range(draw(st.integers(min_value=0, max_value=6))):
        target = record
        # Walk into a nested object now and then, such as status or properties.
        while draw(st.booleans()):
            nested = [key for key, value in target.items() if isinstance(value, dict)]
            if not nested:
                break
            target = target[draw(st.sampled_from(sorted(nested)))]
        action = draw(st.sampled_from(("replace", "remove", "add", "stringify")))
        keys = sorted(target)
        if action == "add" or not keys:
            target[draw(st.sampled_from(FIELD_NAMES))] = draw(json_values)
        elif action == "remove":
            del target[draw(st.sampled_from(keys))]
        elif action == "replace":
            target[draw(st.sampled_from(keys))] = draw(json_values)
        else:
            key = draw(st.sampled_from(keys))
            target[key] = json.dumps(target[key])
    return record


CONTAINERS = ("ndjson", "array", "graph_page", "event_hub", "pretty", "concatenated")


@st.composite
def json_exports(draw: st.DrawFn) -> bytes:
    """Draw an export: records in a container, then encoded and maybe damaged."""
    items = draw(st.lists(records(), min_size=0, max_size=6))
    container = draw(st.sampled_from(CONTAINERS))
    if container == "ndjson":
        text = "".join(json.dumps(item) + "\n" for item in items)
    elif container == "array":
        text = json.dumps(items)
    elif container == "graph_page":
        text = json.dumps({"@odata.context": "x", "value": items})
    elif container == "event_hub":
        text = json.dumps({"records": items})
    elif container == "pretty":
        text = json.dumps({"value": items}, indent=2)
    else:
        text = "\n".join(
            json.dumps(item, indent=draw(st.sampled_from([None, 1]))) for item in items
        )
    if draw(st.booleans()):
        text = text.replace("\n", "\r\n")
    return draw(_encode_and_damage(text))


def csv_cells() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(INTERESTING_TEXT),
        st.text(max_size=20),
        st.builds(json.dumps, json_values),
    )


@st.composite
def csv_exports(draw: st.DrawFn) -> bytes:
    """Draw a CSV export with known header names and awkward cells."""
    delimiter = draw(st.sampled_from([",", ";"]))
    header = draw(
        st.lists(
            st.one_of(st.sampled_from(CSV_HEADERS), st.text(max_size=10)),
            min_size=1,
            max_size=12,
        )
    )
    rows = draw(
        st.lists(
            st.lists(csv_cells(), min_size=0, max_size=len(header) + 1),
            max_size=6,
        )
    )
    lines = [_csv_line(header, delimiter, draw)]
    lines.extend(_csv_line(row, delimiter, draw) for row in rows)
    text = "\r\n".join(lines) + draw(st.sampled_from(["", "\r\n", "\n"]))
    if draw(st.booleans()):
        text = f"sep={delimiter}\r\n" + text
    return draw(_encode_and_damage(text))


def _csv_line(cells: list[str], delimiter: str, draw: st.DrawFn) -> str:
    written = []
    for cell in cells:
        quote = draw(st.booleans()) or any(
            mark in cell for mark in (delimiter, '"', "\n")
        )
        written.append('"' + cell.replace('"', '""') + '"' if quote else cell)
    return delimiter.join(written)


@st.composite
def _encode_and_damage(draw: st.DrawFn, text: str) -> bytes:
    encoding = draw(st.sampled_from(["utf-8", "utf-8", "utf-8-sig", "utf-16"]))
    data = text.encode(encoding, errors="surrogatepass")
    damage = draw(st.sampled_from(["none", "none", "cut", "byte", "gzip", "cut_gzip"]))
    if damage == "cut" and data:
        data = data[: draw(st.integers(min_value=0, max_value=len(data)))]
    elif damage == "byte" and data:
        position = draw(st.integers(min_value=0, max_value=len(data) - 1))
        value = draw(st.sampled_from([0x00, 0xFF, 0x80, 0x22, 0x7B, 0x0A, 0x5C]))
        data = data[:position] + bytes([value]) + data[position + 1 :]
    elif damage in ("gzip", "cut_gzip"):
        data = gzip.compress(data, mtime=0)
        if damage == "cut_gzip":
            data = data[: draw(st.integers(min_value=0, max_value=len(data)))]
    return data


SEED_BYTES = {path.name: path.read_bytes() for path in sorted(SEEDS.iterdir())}
TOKENS = (
    b'"',
    b"{",
    b"}",
    b"[",
    b"]",
    b",",
    b":",
    b"\n",
    b"\r\n",
    b"\x00",
    b"\xff",
    b"\\",
    b"\\u",
    b"\xef\xbb\xbf",
    b"null",
    b"9" * 400,
    b"[" * 2000,
    b"\t",
)


@st.composite
def mutated_seeds(draw: st.DrawFn) -> tuple[str, bytes]:
    """Draw a seed's name and its bytes after a few random edits."""
    name = draw(st.sampled_from(sorted(SEED_BYTES)))
    data = bytearray(SEED_BYTES[name])
    for _ in range(draw(st.integers(min_value=1, max_value=8))):
        operation = draw(st.sampled_from(("flip", "insert", "delete", "repeat", "cut")))
        position = draw(st.integers(min_value=0, max_value=max(len(data) - 1, 0)))
        if operation == "flip" and data:
            data[position] ^= 1 << draw(st.integers(min_value=0, max_value=7))
        elif operation == "insert":
            data[position:position] = draw(st.sampled_from(TOKENS))
        elif operation == "delete":
            length = draw(st.integers(min_value=1, max_value=64))
            del data[position : position + length]
        elif operation == "repeat":
            length = draw(st.integers(min_value=1, max_value=256))
            data[position:position] = data[position : position + length] * draw(
                st.integers(min_value=2, max_value=20)
            )
        elif data:
            del data[position:]
    return name, bytes(data)
