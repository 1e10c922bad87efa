"""Describe one actor's mass revocation as a campaign finding.

A campaign finding lists every revoked target with one evidence item, one timeline
event and one target record each. A mass revocation can have tens of thousands of
targets, so the finding keeps the revocation columns that these items are made
from, and makes the items a slice at a time whenever an output reads them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import repeat
from json.encoder import encode_basestring_ascii
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from h056hunt.build import SHARED_ORIGIN_NOUNS, actor_of, first_text, optional_int
from h056hunt.detect.chains import DetectionParams
from h056hunt.detect.prompts import OUTCOMES
from h056hunt.findings import Evidence, Finding, FindingType, TimelineEvent
from h056hunt.lazy_sequence import SLICE_SIZE, LazySequence
from h056hunt.render.jsonl import json_scalar
from h056hunt.render.records import format_nanoseconds_array, format_times
from h056hunt.render.text import format_time
from h056hunt.row_runs import take_in_runs
from h056hunt.schema import column_values
from h056hunt.score import score_campaign

# The revocation fields a campaign finding lists for each target.
_CAMPAIGN_ROW_COLUMNS = (
    "revocation_id",
    "revocation_time",
    "target_id",
    "target_upn",
    "activity",
    "actor_ip",
    "source_file",
    "source_line",
    "source_record",
)


def build_campaign_finding(
    revocations: pd.DataFrame,
    chain_findings: Sequence[Finding],
    shared: dict[str, dict[str, list[str]]],
    params: DetectionParams,
    *,
    positions: np.ndarray | None = None,
) -> Finding:
    """Describe one actor's mass revocation: every target, who was bombed, who
    approved, and which attacker origins the bursts shared.

    The finding's evidence, timeline and ``targets`` are lazy sequences over the
    columns of ``revocations`` (see :class:`CampaignRows`).

    Args:
        revocations: the campaign's revocations in the finding's order, or with
            ``positions``, a frame that contains them, such as every revocation.
        chain_findings: the chains that followed revocations of the campaign.
        shared: attacker origins shared by the chains' denials.
        params: thresholds.
        positions: the campaign's row positions in ``revocations``, in the
            finding's order, or None for every row.
    """
    first = revocations.iloc[0 if positions is None else int(positions[0])]
    actor = actor_of(first)
    by_revocation: dict[str, Finding] = {}
    for finding in chain_findings:
        for item in finding.evidence:
            if item.kind == "revocation":
                by_revocation[item.record_id] = finding
    rows = CampaignRows(revocations, by_revocation, positions)
    revocation_ids = [
        str(value) for value in column_values(rows.column("revocation_id"))
    ]
    # Only bombed targets have a chain, and a campaign has few of them.
    bombed_chains = [
        by_revocation[revocation_id]
        for revocation_id in revocation_ids
        if revocation_id in by_revocation
    ]
    bombed = len(bombed_chains)
    approved = sum(chain.approved for chain in bombed_chains)
    finding_id = _campaign_id(revocation_ids)
    del revocation_ids
    distinct_targets = rows.distinct_targets()
    shared_facts = _shared_facts(shared)
    score, factors, severity = score_campaign(
        distinct_targets, bombed, approved, shared_facts, params
    )
    chains = list(chain_findings)
    prompt_times = [
        f.first_prompt_time for f in chains if f.first_prompt_time is not None
    ]
    last_times = [f.last_prompt_time for f in chains if f.last_prompt_time is not None]
    approvals = [f.approval_time for f in chains if f.approval_time is not None]
    counts = {
        name: sum(f.prompt_counts.get(name, 0) for f in chains) for name in OUTCOMES
    }
    times = rows.column("revocation_time")
    first_time = times.min()
    summary = (
        f"{actor.label} revoked the sessions of {distinct_targets} users between "
        f"{format_time(first_time)} and "
        f"{format_time(times.max())}; {bombed} were then "
        f"bombed with MFA prompts and {approved} approved one"
    )
    del times
    return Finding(
        finding_id=finding_id,
        finding_type=FindingType.REVOCATION_CAMPAIGN,
        severity=severity,
        score=score,
        score_factors=factors,
        target_user_id=None,
        target_upn=None,
        target_display_name=None,
        actor=actor,
        revocation_time=first_time,
        first_prompt_time=min(prompt_times) if prompt_times else None,
        last_prompt_time=max(last_times) if last_times else None,
        prompt_counts=counts,
        approved=approved > 0,
        approval_time=min(approvals) if approvals else None,
        source_ips=tuple(sorted({ip for f in chains for ip in f.source_ips})),
        countries=tuple(sorted({c for f in chains for c in f.countries})),
        user_agents=tuple(sorted({ua for f in chains for ua in f.user_agents})),
        evidence=LazySequence(len(rows), rows.evidence, rows.evidence_json),
        timeline=LazySequence(len(rows), rows.timeline, rows.timeline_json),
        summary=summary,
        extra={
            "targets": LazySequence(len(rows), rows.targets, rows.targets_json),
            "shared_origins": shared,
            "prompts_without_ip": sum(
                f.extra.get("prompts_without_ip", 0) for f in chains
            ),
            "step_times_replaced": sum(
                f.extra.get("step_times_replaced", 0) for f in chains
            ),
            "step_times_unreadable": sum(
                f.extra.get("step_times_unreadable", 0) for f in chains
            ),
        },
    )


class CampaignRows:
    """A campaign's revocations as columns, made into finding items per slice.

    Each method that takes ``start`` and ``stop`` returns the items of those row
    positions, for a :class:`~h056hunt.lazy_sequence.LazySequence`.

    Args:
        revocations: the campaign's revocations in the finding's order, or with
            ``positions``, a frame that contains them. Only the columns that the
            items read are kept. They share memory with the frame where the
            campaign's rows are adjacent or form long runs of adjacent rows,
            and otherwise each is taken once.
        chains: the chain finding that followed each bombed target's revocation,
            by revocation id.
        positions: the campaign's row positions in ``revocations``, in the
            finding's order, or None for every row.
    """

    def __init__(
        self,
        revocations: pd.DataFrame,
        chains: Mapping[str, Finding],
        positions: np.ndarray | None = None,
    ) -> None:
        # Each column is kept as a Series, because slicing a Series costs less than
        # slicing the frame and then selecting its columns, once per slice.
        self._frame_columns = {
            name: revocations[name] for name in _CAMPAIGN_ROW_COLUMNS
        }
        self._campaign_columns: dict[str, pd.Series] = {}
        self._time_text_array: pa.StringArray | None = None
        self._positions = positions
        self._length = len(revocations) if positions is None else len(positions)
        self._chains = dict(chains)

    def __len__(self) -> int:
        return self._length

    def column(self, name: str, start: int = 0, stop: int | None = None) -> pd.Series:
        """Return rows ``start`` to ``stop`` of one kept column, the end when None."""
        column = self._campaign_columns.get(name)
        if column is None:
            column = self._campaign_column(name)
            self._campaign_columns[name] = column
        stop = self._length if stop is None else stop
        return column.iloc[start:stop]

    def _campaign_column(self, name: str) -> pd.Series:
        """Return the campaign's rows of one column, in the finding's order."""
        column = self._frame_columns[name]
        positions = self._positions
        if positions is None:
            return column
        if len(positions) and (np.diff(positions) == 1).all():
            # Positions that follow each other are one slice of the frame, a view.
            first = int(positions[0])
            return column.iloc[first : first + len(positions)]
        # The rows are selected once, because the rows of other actors between
        # them made a take of every slice: about 0.05 s of CPU (cProfile) for the
        # 15,116-target campaign of the 1M sign-in benchmark. Long runs of
        # adjacent rows share the frame's buffers. Other rows are copied, which
        # costs about as much memory as this column's rows in the frame.
        return take_in_runs(column, positions)

    def _columns(self, start: int, stop: int, names: Iterable[str]) -> list[list[Any]]:
        return [column_values(self.column(name, start, stop)) for name in names]

    def distinct_targets(self) -> int:
        """Return the number of distinct users revoked, by object id, else UPN."""
        users: set[str | None] = set()
        for start in range(0, len(self), SLICE_SIZE):
            stop = min(start + SLICE_SIZE, len(self))
            user_ids, upns = self._columns(start, stop, ("target_id", "target_upn"))
            users.update(
                user_id or upn
                for user_id, upn in zip(_texts(user_ids), _texts(upns), strict=True)
            )
        return len(users)

    def evidence(self, start: int, stop: int) -> list[Evidence]:
        """Return the revocation evidence items of rows ``start`` to ``stop``."""
        ids, times, files, lines, records, activities = self._columns(
            start,
            stop,
            (
                "revocation_id",
                "revocation_time",
                "source_file",
                "source_line",
                "source_record",
                "activity",
            ),
        )
        # The items are made from zipped columns by _make, because a call with
        # positional arguments per row took about 25 % longer over 15,000 rows.
        return list(
            map(
                Evidence._make,
                zip(
                    repeat("revocation"),
                    map(str, ids),
                    times,
                    map(str, files),
                    _optional_ints(lines),
                    _optional_ints(records),
                    repeat(None),
                    map(str, activities),
                    strict=False,
                ),
            )
        )

    def timeline(self, start: int, stop: int) -> list[TimelineEvent]:
        """Return the revocation timeline events of rows ``start`` to ``stop``."""
        ids, times, user_ids, upns, actor_ips = self._columns(
            start,
            stop,
            ("revocation_id", "revocation_time", "target_id", "target_upn", "actor_ip"),
        )
        descriptions = [
            f"sessions of {upn or user_id} revoked"
            for upn, user_id in zip(_texts(upns), _texts(user_ids), strict=True)
        ]
        return list(
            map(
                TimelineEvent._make,
                zip(
                    times,
                    repeat("revocation"),
                    descriptions,
                    _texts(actor_ips),
                    repeat(None),
                    map(str, ids),
                    strict=False,
                ),
            )
        )

    def targets(self, start: int, stop: int) -> list[dict[str, Any]]:
        """Return the target records of rows ``start`` to ``stop``."""
        ids, user_ids, upns = self._columns(
            start, stop, ("revocation_id", "target_id", "target_upn")
        )
        targets = []
        for revocation_id, user_id, upn, time_text in zip(
            map(str, ids),
            _texts(user_ids),
            _texts(upns),
            self._time_texts(start, stop),
            strict=True,
        ):
            chain = self._chains.get(revocation_id)
            targets.append(
                {
                    "user_id": user_id,
                    "upn": upn,
                    "revocation_time": time_text,
                    "revocation_id": revocation_id,
                    "bombed": chain is not None,
                    "approved": chain.approved if chain is not None else False,
                    "finding_id": chain.finding_id if chain is not None else None,
                }
            )
        return targets

    # The *_json methods write the records that h056hunt.render.records makes from
    # the items above, with their keys sorted, as dumps writes them. They skip the
    # items, the Timestamps and the dicts, and encode each column with one
    # mapped C call, which cost less than making and encoding the dicts. The lazy
    # and eager campaign tests compare both ways byte for byte.

    def evidence_json(self, start: int, stop: int) -> str:
        """Return the JSON of the evidence records of rows ``start`` to ``stop``."""
        ids, files, lines, records, activities = self._columns(
            start,
            stop,
            (
                "revocation_id",
                "source_file",
                "source_line",
                "source_record",
                "activity",
            ),
        )
        return ",".join(
            [
                f'{{"detail":{activity},"file":{file},"kind":"revocation",'
                f'"line":{line},"outcome":null,"record":{record},'
                f'"record_id":{revocation_id},"time":{time_text}}}'
                for revocation_id, file, line, record, activity, time_text in zip(
                    _json_strings(ids),
                    _json_strings(files),
                    _json_ints(lines),
                    _json_ints(records),
                    _json_strings(activities),
                    map(encode_basestring_ascii, self._time_texts(start, stop)),
                    strict=True,
                )
            ]
        )

    def timeline_json(self, start: int, stop: int) -> str:
        """Return the JSON of the timeline records of rows ``start`` to ``stop``."""
        ids, user_ids, upns, actor_ips = self._columns(
            start, stop, ("revocation_id", "target_id", "target_upn", "actor_ip")
        )
        descriptions = [
            f"sessions of {upn or user_id} revoked"
            for upn, user_id in zip(_texts(upns), _texts(user_ids), strict=True)
        ]
        return ",".join(
            [
                f'{{"country":null,"description":{description},'
                f'"ip_address":{actor_ip},"kind":"revocation",'
                f'"record_id":{revocation_id},"time":{time_text}}}'
                for revocation_id, description, actor_ip, time_text in zip(
                    _json_strings(ids),
                    map(encode_basestring_ascii, descriptions),
                    _json_texts(_texts(actor_ips)),
                    map(encode_basestring_ascii, self._time_texts(start, stop)),
                    strict=True,
                )
            ]
        )

    def targets_json(self, start: int, stop: int) -> str:
        """Return the JSON of the target records of rows ``start`` to ``stop``."""
        ids, user_ids, upns = self._columns(
            start, stop, ("revocation_id", "target_id", "target_upn")
        )
        revocation_ids = list(map(str, ids))
        # The JSON of the keys before "revocation_id", per bombed target's
        # revocation id. Every other target has the keys of ``unbombed``.
        chain_keys = {
            revocation_id: f'"approved":{json_scalar(chain.approved)},"bombed":true,'
            f'"finding_id":{json_scalar(chain.finding_id)}'
            for revocation_id, chain in self._chains.items()
        }
        unbombed = '"approved":false,"bombed":false,"finding_id":null'
        return ",".join(
            [
                f"{{{chain_keys.get(revocation_id, unbombed)},"
                f'"revocation_id":{revocation_id_json},'
                f'"revocation_time":{time_text},"upn":{upn},"user_id":{user_id}}}'
                for revocation_id, revocation_id_json, time_text, upn, user_id in zip(
                    revocation_ids,
                    map(encode_basestring_ascii, revocation_ids),
                    map(encode_basestring_ascii, self._time_texts(start, stop)),
                    _json_texts(_texts(upns)),
                    _json_texts(_texts(user_ids)),
                    strict=True,
                )
            ]
        )

    def _time_texts(self, start: int, stop: int) -> list[str]:
        if self._time_text_array is None:
            self._time_text_array = self._format_times()
        texts: list[str] = self._time_text_array.slice(start, stop - start).to_pylist()
        return texts

    def _format_times(self) -> pa.StringArray:
        """Return the text of every revocation time of the campaign.

        The texts are made once, because the evidence, timeline and target
        records each read them, and formatting a slice took 8 Arrow calls. They
        take about 30 bytes per target.
        """
        times = self.column("revocation_time")
        if not pd.api.types.is_datetime64_any_dtype(times.dtype):
            return pa.array(format_times(column_values(times)), type=pa.string())
        # The texts are made from the times' nanoseconds, without the Timestamp
        # objects that iterating the column would make.
        nanoseconds = times.to_numpy(dtype="datetime64[ns]").view(np.int64)
        return format_nanoseconds_array(nanoseconds)


def _campaign_id(revocation_ids: list[str]) -> str:
    """Return the finding id: a hash of the sorted revocation ids, joined by "|".

    The ids are sorted in place and hashed a slice at a time, so the joined text of
    a mass revocation is never held whole.
    """
    revocation_ids.sort()
    digest = hashlib.sha256(b"revocation_campaign|")
    for start in range(0, len(revocation_ids), SLICE_SIZE):
        if start:
            digest.update(b"|")
        digest.update("|".join(revocation_ids[start : start + SLICE_SIZE]).encode())
    return digest.hexdigest()[:16]


def _texts(values: Iterable[object]) -> list[str | None]:
    """Return ``first_text(value)`` of each value, skipping the call for plain text
    and the usual nulls."""
    return [
        value
        if type(value) is str and value
        else None
        if value is None or value is pd.NA
        else first_text(value)
        for value in values
    ]


def _json_strings(values: Iterable[object]) -> Iterator[str]:
    """Return the JSON of ``str(value)`` of each value, as dumps writes it."""
    return map(encode_basestring_ascii, map(str, values))


def _json_texts(texts: Iterable[str | None]) -> list[str]:
    """Return the JSON of each text or None, as dumps writes it."""
    return ["null" if text is None else encode_basestring_ascii(text) for text in texts]


def _json_ints(values: Iterable[object]) -> list[str]:
    """Return the JSON of ``optional_int(value)`` of each value, as dumps writes it."""
    return ["null" if value is None else str(value) for value in _optional_ints(values)]


def _optional_ints(values: Iterable[object]) -> list[int | None]:
    """Return ``optional_int(value)`` of each value, skipping the call for ints."""
    return [value if type(value) is int else optional_int(value) for value in values]


def _shared_facts(shared: dict[str, dict[str, list[str]]]) -> list[str]:
    # Values are quoted with repr(), as in build.shared_origin_factor().
    nouns = SHARED_ORIGIN_NOUNS
    facts = []
    for column, values in shared.items():
        for value, users in values.items():
            facts.append(
                f"{nouns[column]} {value!r} sent prompts to {len(users)} targets"
            )
    return facts
