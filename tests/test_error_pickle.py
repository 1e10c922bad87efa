"""Errors keep every attribute when pickled, as when they cross from a worker
process to the one that reports them."""

from __future__ import annotations

import pickle

import pytest

from h056hunt.errors import (
    AmbiguousDateError,
    ConfigError,
    H056Error,
    InputError,
    UsageError,
    quote_input,
)


def input_error() -> InputError:
    error = InputError(
        "exports/signin.csv",
        quote_input("column {name} has both orders", name="Date (UTC)" * 300),
        reason="conflicting_date_order",
        line=12,
        column=3,
        record=11,
        complete_records=10,
        hint="export it again",
    )
    error.fragment_line = 9
    return error


ERRORS = {
    "input": input_error,
    "ambiguous date": lambda: AmbiguousDateError(
        "a.csv", "dates read both ways", reason="ambiguous_date_order"
    ),
    "config": lambda: ConfigError("bad key", hint="remove it"),
    "usage": lambda: UsageError("no input"),
    "base": lambda: H056Error("failed"),
}


@pytest.mark.parametrize("name", sorted(ERRORS))
def test_error_survives_pickle(name: str) -> None:
    error = ERRORS[name]()

    copy = pickle.loads(pickle.dumps(error))

    assert type(copy) is type(error)
    assert str(copy) == str(error)
    assert copy.args == error.args
    assert vars(copy) == vars(error)


def test_input_error_keeps_quoted_values_apart() -> None:
    error = input_error()

    copy = pickle.loads(pickle.dumps(error))

    # The cut on the terminal needs the parts, not only the whole text.
    assert copy.message.parts == error.message.parts
    assert (copy.path, copy.line, copy.record) == ("exports/signin.csv", 12, 11)
    assert copy.reason == "conflicting_date_order"
