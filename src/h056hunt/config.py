"""Hunt configuration: thresholds and allowlists from a TOML file.

Precedence, highest first: a command-line flag, an environment variable
(``H056_CONFIG`` names the file), the config file, the built-in default. The file is
found at ``--config PATH``, else ``$H056_CONFIG``, else ``./h056.toml``, else
``$XDG_CONFIG_HOME/h056hunt/config.toml`` (``~/.config/h056hunt/config.toml``). A file
that exists but is invalid is an error naming the file; nothing is read at import time.

Example::

    [thresholds]
    max_lag = "2h"
    burst_window = "30m"
    min_denials = 5
    campaign_min_targets = 3
    campaign_window = "1h"

    [working_hours]
    start = 8
    end = 18
    timezone = "Europe/Berlin"
    weekdays_only = true

    [[allowlist.actors]]
    match = "soar-playbook"
    reason = "security automation revokes sessions of users already under attack"

    [[allowlist.targets]]
    users = ["breakglass@contoso.example"]
    group = "break-glass accounts"
    reason = "tested monthly with prompt floods"

    [[allowlist.source_ips]]
    cidr = "198.51.100.0/24"
    reason = "MFA load tests from the lab network"
"""

from __future__ import annotations

import ipaddress
import tomllib
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd

from h056hunt.activities import normalise_activity
from h056hunt.detect.chains import DetectionParams
from h056hunt.durations import parse_duration
from h056hunt.errors import ConfigError, InputValue, MessageText, quote_input

# Largest value of min_denials and campaign_min_targets. The detectors compare them
# with int64 counts, and pyarrow raises OverflowError on a larger Python int.
MAX_COUNT = 2**63 - 1
# The top-level keys of a config file.
CONFIG_KEYS = frozenset(
    {"thresholds", "working_hours", "allowlist", "revocation_activities"}
)


@dataclass(frozen=True)
class ActorRule:
    """Suppress chains whose revoker matches: a UPN, object id, app id, app name or
    service principal id, compared case-insensitively."""

    match: str
    reason: str


@dataclass(frozen=True)
class TargetRule:
    """Suppress findings for a named group of users (UPNs or object ids)."""

    users: frozenset[str]
    group: str
    reason: str


@dataclass(frozen=True)
class SourceRangeRule:
    """Suppress findings whose denied prompts all come from this IP range."""

    network: ipaddress.IPv4Network | ipaddress.IPv6Network
    reason: str


@dataclass(frozen=True)
class Allowlist:
    """Entries that suppress findings, each with the reason shown when it does."""

    actors: tuple[ActorRule, ...] = ()
    targets: tuple[TargetRule, ...] = ()
    source_ranges: tuple[SourceRangeRule, ...] = ()


@dataclass(frozen=True)
class WorkingHours:
    """The hours in which admin activity is expected, in a named time zone."""

    start_hour: int = 8
    end_hour: int = 18
    timezone: str = "UTC"
    weekdays_only: bool = True

    def contains(self, moment: pd.Timestamp) -> bool:
        """Tell whether a UTC time falls inside working hours.

        An end hour before the start hour, such as 22 to 6, crosses midnight.
        ``weekdays_only`` looks at the local day of ``moment`` itself, so with 22 to
        6 the hours from midnight to 6 on a Saturday are outside.
        """
        local = moment.tz_convert(ZoneInfo(self.timezone))
        if self.weekdays_only and local.weekday() >= 5:
            return False
        if self.start_hour <= self.end_hour:
            return bool(self.start_hour <= local.hour < self.end_hour)
        return bool(local.hour >= self.start_hour or local.hour < self.end_hour)


@dataclass(frozen=True)
class HuntConfig:
    """Everything that tunes a hunt besides its inputs."""

    params: DetectionParams = field(default_factory=DetectionParams)
    allowlist: Allowlist = field(default_factory=Allowlist)
    working_hours: WorkingHours = field(default_factory=WorkingHours)
    source: str | None = None


def load_config(path: Path | None) -> HuntConfig:
    """Read a config file; return the defaults when ``path`` is None.

    Raises:
        ConfigError: the file cannot be read, is not valid TOML, or has an invalid
            or unknown value; the message names the file and the key.
    """
    if path is None:
        return HuntConfig()
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(
            MessageText(
                _path_value(str(path)),
                f": cannot read config file: {error.strerror or error}",
            ),
            hint="check the path; it comes from --config, else $H056_CONFIG, else "
            "./h056.toml, else $XDG_CONFIG_HOME/h056hunt/config.toml "
            "(~/.config/h056hunt/config.toml when $XDG_CONFIG_HOME is not set)",
        ) from error
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise ConfigError(
            MessageText(_path_value(str(path)), f": invalid TOML: {error}"),
            hint="fix the TOML where the message points; the file may have the "
            "tables [thresholds], [working_hours] and [allowlist] and the list "
            "revocation_activities, and docs/detection.md in the source tree "
            "describes each key",
        ) from error
    reader = _Reader(str(path))
    _check_keys(reader, document, CONFIG_KEYS, "")
    params = _params(reader, document)
    return HuntConfig(
        params=params,
        allowlist=_allowlist(reader, _table(reader, document, "allowlist")),
        working_hours=_working_hours(reader, _table(reader, document, "working_hours")),
        source=str(path),
    )


def _table(reader: _Reader, document: dict[str, Any], key: str) -> dict[str, Any]:
    """Return the table ``key`` of the document, or an empty one when it is absent."""
    table = document.get(key, {})
    if not isinstance(table, dict):
        raise reader.fail(key, f"must be a table such as [{key}]")
    return table


def _entries(reader: _Reader, table: dict[str, Any], name: str) -> list[dict[str, Any]]:
    """Return the entries of ``allowlist.NAME``, each a table.

    A single-bracket ``[allowlist.NAME]`` header makes one table instead of a list
    of them, and iterating it would read its keys as entries.
    """
    key = f"allowlist.{name}"
    entries = table.get(name, [])
    if not isinstance(entries, list):
        raise reader.fail(
            key, f"must be a list of tables: write each entry under [[{key}]]"
        )
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise reader.fail(
                f"{key}[{index}]",
                f"must be a table: write each entry under [[{key}]]",
            )
    return entries


def _path_value(path: str) -> InputValue:
    """Return the config file's path as an error quotes it: escaped and whole."""
    return InputValue(path, quoted=False, cut=False)


class _Reader:
    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, key: str, message: str) -> ConfigError:
        """Return the error for an invalid value of a key that has a default."""
        return ConfigError(
            MessageText(_path_value(self.path), f": {key}: ", message),
            hint="fix the value or remove the key to use the default",
        )

    def fail_unknown(self, key: str, allowed: AbstractSet[str]) -> ConfigError:
        """Return the error for a key that the config file format does not have."""
        # The key comes from the file, so a long one is cut as a value is.
        return ConfigError(
            MessageText(
                _path_value(self.path),
                ": ",
                InputValue(key, quoted=False),
                f": unknown key; expected one of {', '.join(sorted(allowed))}",
            ),
            hint="correct the key's spelling or remove it",
        )

    def fail_required(self, key: str, message: str, *, present: bool) -> ConfigError:
        """Return the error for a required key that is missing or invalid."""
        hint = "fix the value" if present else "add the key"
        return ConfigError(
            MessageText(_path_value(self.path), f": {key}: ", message),
            hint=f"{hint}; this key is required and has no default",
        )


def _check_keys(
    reader: _Reader, table: dict[str, Any], allowed: AbstractSet[str], prefix: str
) -> None:
    for key in table:
        if key not in allowed:
            raise reader.fail_unknown(prefix + key, allowed)


def _params(reader: _Reader, document: dict[str, Any]) -> DetectionParams:
    table = _table(reader, document, "thresholds")
    _check_keys(
        reader,
        table,
        {
            "max_lag",
            "burst_window",
            "min_denials",
            "campaign_min_targets",
            "campaign_window",
            "actor_lookback",
            "persistence_window",
            "revocation_activities",
        },
        "thresholds.",
    )
    changes: dict[str, Any] = {}
    for key in (
        "max_lag",
        "burst_window",
        "campaign_window",
        "actor_lookback",
        "persistence_window",
    ):
        if key in table:
            try:
                changes[key] = parse_duration(str(table[key]))
            except ValueError as error:
                # The message is a MessageText that keeps the value apart, which
                # str() would join into one text.
                raise reader.fail(f"thresholds.{key}", error.args[0]) from error
    for key in ("min_denials", "campaign_min_targets"):
        if key in table:
            value = table[key]
            if (
                not isinstance(value, int)
                or isinstance(value, bool)
                or not 1 <= value <= MAX_COUNT
            ):
                raise reader.fail(
                    f"thresholds.{key}",
                    MessageText(
                        f"must be a whole number from 1 to {MAX_COUNT}, found ",
                        _describe_count(value),
                    ),
                )
            changes[key] = value
    for key, holder in (
        ("revocation_activities", document),
        ("thresholds.revocation_activities", table),
    ):
        names = holder.get("revocation_activities")
        if names is None:
            continue
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise reader.fail(key, "must be a list of strings")
        if not all(normalise_activity(name) for name in names):
            # A name that folds to nothing would match every audit record whose
            # activity folds to nothing, a missing one included.
            raise reader.fail(
                key,
                "must not contain a name without letters or digits besides the "
                "articles a, an and the",
            )
        changes["revocation_activities"] = tuple(names)
    return replace(DetectionParams(), **changes)


def _describe_count(value: Any) -> str:
    """Describe an invalid count as its TOML text, so the error shows what to fix."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        # TOML reads min_denials = "5" as a string, so a quoted number lands here.
        if value.strip().isdigit():
            return quote_input(
                "the string {value}; write the number without quotes", value=value
            )
        return quote_input("the string {value}", value=value)
    return quote_input("{value}", value=value)


def _allowlist(reader: _Reader, table: dict[str, Any]) -> Allowlist:
    _check_keys(reader, table, {"actors", "targets", "source_ips"}, "allowlist.")
    actors = tuple(
        ActorRule(
            match=_text(reader, entry, "match", f"allowlist.actors[{index}]"),
            reason=_reason(reader, entry, f"allowlist.actors[{index}]"),
        )
        for index, entry in enumerate(_entries(reader, table, "actors"))
    )
    targets = []
    for index, entry in enumerate(_entries(reader, table, "targets")):
        key = f"allowlist.targets[{index}]"
        users = entry.get("users") if isinstance(entry, dict) else None
        if not isinstance(users, list) or not users:
            raise reader.fail_required(
                f"{key}.users",
                "must be a non-empty list of UPNs or ids",
                present=users is not None,
            )
        targets.append(
            TargetRule(
                users=frozenset(str(user).casefold() for user in users),
                group=str(entry.get("group", "listed users")),
                reason=_reason(reader, entry, key),
            )
        )
    ranges = []
    for index, entry in enumerate(_entries(reader, table, "source_ips")):
        key = f"allowlist.source_ips[{index}]"
        cidr = _text(reader, entry, "cidr", key)
        try:
            network = ipaddress.ip_network(cidr, strict=False)
        except ValueError as error:
            raise reader.fail_required(
                f"{key}.cidr",
                quote_input(
                    "invalid IP range {cidr}: use an address or a network in CIDR "
                    "notation, such as 198.51.100.0/24",
                    cidr=cidr,
                ),
                present=True,
            ) from error
        ranges.append(
            SourceRangeRule(network=network, reason=_reason(reader, entry, key))
        )
    return Allowlist(actors=actors, targets=tuple(targets), source_ranges=tuple(ranges))


def _text(reader: _Reader, entry: Any, name: str, key: str) -> str:
    value = entry.get(name) if isinstance(entry, dict) else None
    if not isinstance(value, str):
        raise reader.fail_required(
            f"{key}.{name}",
            "missing" if value is None else "not a string",
            present=value is not None,
        )
    return str(entry[name])


def _reason(reader: _Reader, entry: Any, key: str) -> str:
    reason = entry.get("reason") if isinstance(entry, dict) else None
    if not isinstance(reason, str) or not reason.strip():
        raise reader.fail_required(
            f"{key}.reason",
            "every allowlist entry needs a reason",
            present=reason is not None,
        )
    return reason


def _working_hours(reader: _Reader, table: dict[str, Any]) -> WorkingHours:
    _check_keys(
        reader, table, {"start", "end", "timezone", "weekdays_only"}, "working_hours."
    )
    hours = WorkingHours()
    start = table.get("start", hours.start_hour)
    end = table.get("end", hours.end_hour)
    for key, value in (("start", start), ("end", end)):
        if not isinstance(value, int) or not 0 <= value <= 24:
            raise reader.fail(f"working_hours.{key}", "must be an hour from 0 to 24")
    if start == end:
        raise ConfigError(
            MessageText(
                _path_value(reader.path),
                f": working_hours: start and end are both {start}, so no hour "
                "would be a working hour",
            ),
            hint="set end after start, or before start for hours that cross "
            "midnight, such as start = 22 and end = 6",
        )
    timezone = table.get("timezone", hours.timezone)
    try:
        ZoneInfo(str(timezone))
    except (ZoneInfoNotFoundError, ValueError, OSError) as error:
        # OSError: a folder of the zone database, such as Europe, or a name too
        # long for a file name.
        raise reader.fail(
            "working_hours.timezone",
            quote_input("unknown time zone {zone}", zone=timezone),
        ) from error
    weekdays_only = table.get("weekdays_only", hours.weekdays_only)
    if not isinstance(weekdays_only, bool):
        raise reader.fail("working_hours.weekdays_only", "must be true or false")
    return WorkingHours(
        start_hour=start,
        end_hour=end,
        timezone=str(timezone),
        weekdays_only=weekdays_only,
    )
