"""Hostile exports, CLI runs and byte checks shared by the security tests.

Sign-in and audit fields such as display names, user agents, app and device names and
locations are written by whoever signs in, so the exports built here put terminal
escape sequences, bidirectional overrides, rich markup, spreadsheet formulas and
Markdown or HTML breakers into every such field. Each payload leads the fields of its
own user, so a renderer that puts a field at the start of a cell meets every payload
there.
"""

from __future__ import annotations

import json
import re
import sys
import unicodedata
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cli_runs import run_cli

PAYLOADS = {
    "csi_colour": "\x1b[31mRED\x1b[0m",
    "cursor_movement": "\x1b[2J\x1b[1;1H\x1b[5Aup",
    "osc8_link": "\x1b]8;;http://evil.example/\x1b\\click\x1b]8;;\x1b\\",
    "osc52_clipboard": "\x1b]52;c;ZWNobyBwd25lZA==\x07",
    "backspace_delete": "admin\x08\x08\x08\x08\x08guest\x7f",
    "carriage_return": "benign\roverwritten",
    "c1_controls": "\x9b31m\x9d0;title\x9cend",
    "bidi_override": "\u202egnp.exe\u202c",
    "bidi_isolates": "\u2066a\u2069\u2067b\u2069\u2068c\u2069",
    "rich_link": "[link=http://x]a[/link]",
    "rich_style": "[bold red]x[/]",
    "formula_equals": '=HYPERLINK("http://x","y")',
    "formula_plus": "+1+1",
    "formula_minus": "-2+3",
    "formula_at": "@SUM(A1)",
    "formula_tab": "\t=1+1",
    "formula_cr": "\r=1+1",
    "markdown_table": "| a | b |\n# heading",
    "html_script": "<script>alert(1)</script>",
    "markdown_link": "[x](javascript:alert(1))",
    "backticks": "`code` ``x``",
    "markdown_bullet": "- item",
    "markdown_ordered": "1. item",
    "tag_characters": "vis\U000e0041\U000e0042ible",
    "invisible_format": "a\u2060b\u00adc\u180ed\u206ae\ufff9f",
    # Text that spells an escape, which must not look like the real one above.
    "escape_look_alike": "\\x1b[31mLOOK\\u202e",
}
# The loaders strip the whitespace around every field, as exports pad some of them.
LOADED_VALUES = {payload.strip() for payload in PAYLOADS.values()}
# Characters that must never reach a terminal raw: C0 controls other than tab and
# line feed, DEL, C1 controls, and every format character (Unicode category Cf):
# bidirectional controls, zero-width and tag characters, the soft hyphen and others.
FORMAT_CHARACTERS = "".join(
    chr(code)
    for code in range(sys.maxunicode + 1)
    if unicodedata.category(chr(code)) == "Cf"
)
UNSAFE_CHARACTERS = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029" + re.escape(FORMAT_CHARACTERS) + "]"
)
DENIED = "MFA denied; user declined the authentication"
# The revocation activity of the near-miss record carries payloads too.
NEAR_MISS_ACTIVITY = "Revoke sessions of user \x1b[31m[bold]x[/] \u202e"
ARGUMENTS = ["--min-denials", "3", "--burst-window", "30m", "--fail-on", "none"]
# The one user of the plain records that the broken-input and partial-run tests build.
PLAIN_USER = "00000000-0000-4000-8000-000000000b0b"


@dataclass(frozen=True)
class HostileExports:
    """Paths of the hostile exports and the arguments that hunt in them."""

    audit: Path
    signin: Path
    broken: Path

    def arguments(self) -> list[str]:
        """Return ``hunt`` arguments: both exports plus a truncated file, leniently."""
        return [
            "--audit",
            str(self.audit),
            "--signin",
            str(self.signin),
            "--signin",
            str(self.broken),
            "--lenient",
            *ARGUMENTS,
        ]


def user_id(index: int) -> str:
    return f"00000000-0000-4000-8000-{index:012d}"


def upn(name: str, index: int) -> str:
    """Return a UPN that starts with the payload, as a hostile tenant could name it."""
    return f"{name}user{index}@contoso.example"


def revocation(index: int, payload: str) -> dict[str, Any]:
    return {
        "id": f"revocation-{index}",
        "category": "UserManagement",
        "result": "success",
        "activityDisplayName": "Update StsRefreshTokenValidFrom Timestamp",
        "activityDateTime": f"2025-01-02T{index % 20:02d}:00:00Z",
        "userAgent": payload,
        "initiatedBy": {
            "user": None,
            "app": {
                "displayName": payload,
                "servicePrincipalId": f"a0000000-0000-4000-8000-{index:012d}",
            },
        },
        "targetResources": [
            {
                "id": user_id(index),
                "type": "User",
                "userPrincipalName": upn(payload, index),
                "displayName": payload,
            }
        ],
    }


def denial(index: int, attempt: int, payload: str) -> dict[str, Any]:
    return {
        "id": f"signin-{index}-{attempt}",
        "createdDateTime": f"2025-01-02T{index % 20:02d}:0{attempt + 1}:00Z",
        "userId": user_id(index),
        "userPrincipalName": upn(payload, index),
        "userDisplayName": payload,
        "appDisplayName": payload,
        "userAgent": payload,
        "ipAddress": f"203.0.113.{attempt + 1}",
        "clientAppUsed": payload,
        "deviceDetail": {"displayName": payload, "browser": payload},
        "location": {"city": payload, "countryOrRegion": payload},
        "status": {
            "errorCode": 500121,
            "failureReason": payload,
            "additionalDetails": f"MFA denied; {payload}" if attempt else DENIED,
        },
    }


def near_miss(index: int) -> dict[str, Any]:
    record = revocation(index, "near miss")
    record["id"] = "near-miss"
    record["activityDisplayName"] = NEAR_MISS_ACTIVITY
    return record


def write_hostile_exports(folder: Path) -> HostileExports:
    """Write one revocation and four denials per payload, and a truncated file.

    The file names carry escape sequences too, because the run summary and the log
    messages on stderr quote them.
    """
    folder.mkdir(parents=True, exist_ok=True)
    audits = []
    signins = []
    for index, payload in enumerate(PAYLOADS.values(), start=1):
        audits.append(revocation(index, payload))
        signins.extend(denial(index, attempt, payload) for attempt in range(4))
    audits.append(near_miss(len(PAYLOADS) + 1))
    audit = folder / "audit\x1b[31m[red]\u202e.json"
    signin = folder / "signin\x1b]52;c;eA==\x07.json"
    broken = folder / "cut\x1b[2J.json"
    audit.write_text(json.dumps({"value": audits}), encoding="utf-8")
    signin.write_text(json.dumps({"value": signins}), encoding="utf-8")
    broken.write_text(json.dumps(signins[0]) + "\n" + '{"id": "cut', encoding="utf-8")
    return HostileExports(audit=audit, signin=signin, broken=broken)


@dataclass(frozen=True)
class Outputs:
    """The bytes one run wrote: findings on stdout or to ``--output``, and stderr."""

    exit_code: int
    stdout: bytes
    stderr: bytes
    file: bytes

    def text(self) -> str:
        """Return the findings, from stdout or the output file."""
        return (self.file or self.stdout).decode("utf-8")


# The type of the ``hostile_outputs`` fixture. It maps a format name to the outputs
# of one run to stdout and one run with ``--output``.
RunFormat = Callable[[str], tuple[Outputs, Outputs]]


def denied_signin(record_id: str, minute: int = 1) -> dict[str, Any]:
    """Build a plain sign-in by ``PLAIN_USER``, denied (500121) at 03:``minute``."""
    return {
        "id": record_id,
        "createdDateTime": f"2025-01-02T03:{minute:02d}:00Z",
        "userId": PLAIN_USER,
        "userPrincipalName": "bob@contoso.example",
        "status": {"errorCode": 500121, "additionalDetails": DENIED},
    }


def hunt(exports: HostileExports, output_format: str, *extra: str) -> Outputs:
    """Run ``h056 hunt`` over the hostile exports in one format.

    With ``--output`` among ``extra``, the file's bytes are returned too.
    """
    arguments = ["hunt", *exports.arguments(), "--format", output_format, *extra]
    result = run_cli(arguments)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        result.exception
    )
    written = b""
    if "--output" in extra:
        written = Path(extra[extra.index("--output") + 1]).read_bytes()
    return Outputs(
        exit_code=result.exit_code,
        stdout=result.stdout_bytes,
        stderr=result.stderr_bytes,
        file=written,
    )


def unsafe_characters(data: bytes) -> list[str]:
    """Return the unsafe characters in UTF-8 output, as escapes, for the message."""
    text = data.decode("utf-8")
    return sorted({repr(found) for found in UNSAFE_CHARACTERS.findall(text)})


def assert_terminal_safe(data: bytes, where: str) -> None:
    """Assert that output contains no character a terminal would act on."""
    found = unsafe_characters(data)
    assert not found, f"{where} holds raw control characters: {found}"


def all_strings(value: object) -> Iterator[str]:
    """Yield every string in a decoded JSON value, keys included."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for key, item in value.items():
            yield key
            yield from all_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from all_strings(item)


def assert_json_lines(data: bytes) -> list[dict[str, Any]]:
    """Assert that output is ASCII JSON, one object per line; return the objects."""
    assert data.isascii(), "JSON output holds non-ASCII bytes"
    assert_terminal_safe(data, "JSON output")
    records = [json.loads(line) for line in data.decode().splitlines()]
    assert all(isinstance(record, dict) for record in records)
    return records
