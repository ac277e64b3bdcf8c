"""signals.py is a facade over modules of one job: every name it had is still imported
from it, and its errors still carry its name in tracebacks and logs."""

from __future__ import annotations

import pickle
import traceback

import pytest

import fks_exec.signals as signals
from fks_exec.signals import SignalError, SignalSkipped, Unauthorized

# The public names of fks_exec.signals before it was split (written out, not read from it).
PUBLIC_BEFORE_THE_SPLIT = [
    "MAX_BODY_CHARS",
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_NUMBER_CHARS",
    "OrderRouter",
    "SIGNATURE_HEADER",
    "Signal",
    "SignalError",
    "SignalMapping",
    "SignalSkipped",
    "Unauthorized",
    "WebhookAuth",
    "execute_signal",
    "parse_signal",
    "signature_for",
    "to_order",
]


@pytest.mark.parametrize("name", PUBLIC_BEFORE_THE_SPLIT)
def test_every_public_name_is_still_imported_from_signals(name: str) -> None:
    assert name in signals.__all__
    assert getattr(signals, name) is not None


def test_the_limits_keep_their_values() -> None:
    assert (signals.MAX_BODY_CHARS, signals.MAX_DEPTH) == (1_048_576, 16)
    assert (signals.MAX_NUMBER_CHARS, signals.MAX_EXPONENT) == (40, 30)
    assert signals.SIGNATURE_HEADER == "X-Webhook-Signature"


@pytest.mark.parametrize("error", [SignalError, SignalSkipped, Unauthorized])
def test_a_signal_error_is_named_by_its_public_module(error: type[Exception]) -> None:
    line = traceback.format_exception_only(error("what went wrong"))[-1]
    assert line == f"fks_exec.signals.{error.__name__}: what went wrong\n"
    copy = pickle.loads(pickle.dumps(error("again")))
    assert type(copy) is error and str(copy) == "again"
