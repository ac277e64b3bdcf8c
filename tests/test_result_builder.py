"""The cheap result path gives exactly what validation gives.

``ExecutionResult.build`` (behind ``for_order``, ``for_cancel``, the plugins'
``result_for`` and the mock's results) sets fields directly when every value already
has its field's type. These properties generate field sets, valid and invalid, in
final form and not, and check that ``build`` and the validating constructor agree:
the same refusal, or the same fields (type and text of each value), fields-set and dump.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import event, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from fks_exec._model_fields import _json_safe as made_json_safe
from fks_exec._result_model import _canonical, plainly_json
from fks_exec.models import (
    ErrorCode,
    ExecutionResult,
    Order,
    OrderSide,
    OrderStatus,
)

ABSENT = object()
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=timezone.utc)


# Each strategy draws (value, final): ``final`` is True when the value already has the
# type validation would give it, so the cheap path may take it.
def _tag(strategy: st.SearchStrategy[Any], final: bool) -> st.SearchStrategy[tuple[Any, bool]]:
    return strategy.map(lambda value: (value, final))


_decimals = st.one_of(
    st.sampled_from(
        [
            Decimal(text)
            for text in [
                "0",
                "-0",
                "1",
                "1.0",
                "-1",
                "-0.5",
                "NaN",
                "Infinity",
                "-Infinity",
                "sNaN",
                "2.50",
            ]
        ]
    ),
    st.decimals(allow_nan=True, allow_infinity=True),
)
_decimal_like = st.one_of(
    _tag(_decimals, True),
    _tag(st.sampled_from([1, 0, 2.5, "1", "0.5", True, math.nan, -1.0]), False),
)
_statuses = st.one_of(
    _tag(st.sampled_from(list(OrderStatus)), True),
    _tag(st.sampled_from(["filled", "REJECTED", "Unknown", "nope", 3]), False),
)
_flags = st.one_of(
    _tag(st.sampled_from([True, False, None]), True),
    _tag(st.sampled_from([1, 0, "yes", "false"]), False),
)
_texts = st.one_of(
    _tag(st.sampled_from(["mock", "", "a b", "M1", "x" * 40]), True),
    _tag(st.sampled_from([1, b"mock", None]), False),
)
_optional_texts = st.one_of(
    _tag(st.sampled_from(["c1", "", "why", None]), True), _tag(st.sampled_from([7, b"c"]), False)
)
_sides = st.one_of(
    _tag(st.sampled_from([OrderSide.BUY, OrderSide.SELL, None]), True),
    _tag(st.sampled_from(["buy", "SELL", "hold", 1]), False),
)
_codes = st.one_of(
    _tag(st.sampled_from([*ErrorCode, None]), True),
    _tag(st.sampled_from(["timeout", "bogus"]), False),
)
_times = st.one_of(
    _tag(st.just(NOW), True),
    _tag(
        st.sampled_from(
            [
                NOW.replace(tzinfo=None),
                NOW.astimezone(timezone(timedelta(hours=2))),
                None,
                "2026-12-01T12:00:00Z",
            ]
        ),
        False,
    ),
)
_json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.text(max_size=5),
    st.floats(allow_nan=False, allow_infinity=False),
)
_odd_leaves = st.sampled_from([math.nan, math.inf, Decimal("1.5"), object, b"x"])
_plain_raws = st.recursive(
    _json_leaves,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.text(max_size=3), inner, max_size=3)
        | st.tuples(inner, inner)
    ),
    max_leaves=8,
)
_odd_raws = st.recursive(
    _odd_leaves | _json_leaves,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.integers(0, 3) | st.text(max_size=2), inner, max_size=3)
    ),
    max_leaves=8,
)
_raws = st.one_of(_tag(_plain_raws, True), _tag(_odd_raws, False))

_FIELD_STRATEGIES: dict[str, st.SearchStrategy[tuple[Any, bool]]] = {
    "success": _flags.filter(lambda pair: pair[0] is not None),
    "sent": _flags,
    "paper": _flags,
    "status": _statuses,
    "plugin": _texts,
    "client_order_id": _optional_texts,
    "order_id": _optional_texts,
    "symbol": _texts,
    "side": _sides,
    "quantity": st.one_of(_decimal_like, _tag(st.none(), True)),
    "filled_quantity": _decimal_like,
    "average_price": st.one_of(_decimal_like, _tag(st.none(), True)),
    "error": _optional_texts,
    "error_code": _codes,
    "timestamp": _times,
    "raw": _raws,
}
_REQUIRED = {"status", "plugin", "client_order_id", "symbol", "side", "quantity"}


_SIZES = [Decimal(text) for text in ("1", "2", "0.5", "2.50", "1E+30")]


@st.composite
def coherent_fields(draw: st.DrawFn) -> dict[str, Any]:
    """Fields in final form that agree with each other (mostly valid results)."""
    status = draw(st.sampled_from(list(OrderStatus)))
    quantity = draw(st.sampled_from([*_SIZES, None]))
    top = quantity if quantity is not None else Decimal(3)
    if status is OrderStatus.FILLED:
        filled = draw(st.sampled_from([top, top / 2]))
    elif status is OrderStatus.PARTIALLY_FILLED:
        filled = top / 2
    else:
        filled = draw(st.sampled_from([Decimal(0), top / 4]))
    fields: dict[str, Any] = {
        "plugin": "mock",
        "status": status,
        "client_order_id": draw(st.sampled_from(["c1", None])),
        "symbol": "BTC/USDT",
        "side": draw(st.sampled_from([OrderSide.BUY, OrderSide.SELL, None])),
        "quantity": quantity,
    }
    optional = {
        "filled_quantity": filled,
        "average_price": Decimal(100) if filled else draw(st.sampled_from([None, Decimal(1)])),
        "success": status not in (OrderStatus.REJECTED, OrderStatus.UNKNOWN),
        "sent": None if status is OrderStatus.UNKNOWN else status is not OrderStatus.REJECTED,
        "paper": draw(st.sampled_from([True, False, None])),
        "order_id": "M1",
        "error": "why",
        "error_code": draw(st.sampled_from([*ErrorCode, None])),
        "timestamp": NOW,
        "raw": draw(_plain_raws),
    }
    for name, value in optional.items():
        if draw(st.booleans()):
            fields[name] = value
    return fields


@st.composite
def field_sets(draw: st.DrawFn) -> tuple[dict[str, Any], bool]:
    """Coherent fields with a few changed to anything (missing, in another form,
    contradicting), an unknown field now and then, and whether every value is still
    in final form with exactly known fields and the required ones."""
    fields = draw(coherent_fields())
    final = True
    count = draw(st.sampled_from([1, 1, 1, 2, 0]))
    changed = draw(
        st.lists(
            st.sampled_from(sorted(_FIELD_STRATEGIES)), min_size=count, max_size=count, unique=True
        )
    )
    for name in changed:
        if name in fields and draw(st.integers(0, 4)) == 0:
            del fields[name]
            final = final and name not in _REQUIRED
        else:
            value, value_final = draw(_FIELD_STRATEGIES[name])
            fields[name] = value
            final = final and value_final
    if draw(st.integers(0, 30)) == 0:
        fields["bogus"] = 1
        final = False
    return fields, final


def _outcome(make: Any) -> ExecutionResult | type[ValidationError]:
    try:
        return make()  # type: ignore[no-any-return]
    except ValidationError:
        return ValidationError


def _same(built: ExecutionResult, checked: ExecutionResult, fields: dict[str, Any]) -> None:
    left, right = dict(built.__dict__), dict(checked.__dict__)
    if "timestamp" not in fields:  # each took its own utc_now()
        for result in (built, checked):
            assert result.timestamp.tzinfo is timezone.utc
        left.pop("timestamp"), right.pop("timestamp")
    assert (
        left.keys()
        == right.keys()
        == set(ExecutionResult.model_fields) - (set() if "timestamp" in fields else {"timestamp"})
    )
    for name in left:
        assert type(left[name]) is type(right[name]), name
        assert repr(left[name]) == repr(right[name]), name
    assert built.model_fields_set == checked.model_fields_set == set(fields)
    dumped, expected = built.model_dump(mode="json"), checked.model_dump(mode="json")
    if "timestamp" not in fields:
        dumped.pop("timestamp"), expected.pop("timestamp")
    assert dumped == expected


@pytest.mark.parametrize("name", sorted(_FIELD_STRATEGIES))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_one_field_changed_build_still_agrees(name: str, data: st.DataObject) -> None:
    fields = data.draw(coherent_fields())
    value, final = data.draw(_FIELD_STRATEGIES[name])
    fields[name] = value
    checked = _outcome(lambda: ExecutionResult(**fields))
    built = _outcome(lambda: ExecutionResult.build(**fields))
    if checked is ValidationError:
        assert built is ValidationError
        return
    assert isinstance(built, ExecutionResult) and isinstance(checked, ExecutionResult)
    _same(built, checked, fields)
    if final and (name != "raw" or value is None or plainly_json(value)):
        assert _canonical(dict(fields)) is not None, "a value in final form was re-validated"


@settings(max_examples=200, deadline=None)
@given(field_sets())
def test_build_gives_what_validation_gives(case: tuple[dict[str, Any], bool]) -> None:
    fields, final = case
    checked = _outcome(lambda: ExecutionResult(**fields))
    built = _outcome(lambda: ExecutionResult.build(**fields))
    if checked is ValidationError:
        assert built is ValidationError
        assert _canonical(dict(fields)) is None  # a refusal never takes the cheap path
        return
    assert isinstance(built, ExecutionResult) and isinstance(checked, ExecutionResult)
    _same(built, checked, fields)
    if final and (fields.get("raw") is None or plainly_json(fields["raw"])):
        assert _canonical(dict(fields)) is not None, "a value in final form was re-validated"
        event("valid, in final form: the cheap path")
    else:
        event("valid, converted: the validating path")


@settings(max_examples=150, deadline=None)
@given(coherent_fields())
def test_coherent_final_values_take_the_cheap_path(fields: dict[str, Any]) -> None:
    checked = _outcome(lambda: ExecutionResult(**fields))
    if checked is ValidationError:
        assert _canonical(dict(fields)) is None
        return
    assert _canonical(dict(fields)) is not None, "a value in final form was re-validated"
    _same(ExecutionResult.build(**fields), checked, fields)


def test_the_cheap_path_is_taken_for_final_values() -> None:
    # Pinned by examples too, so that a mutant which always re-validates is caught
    # even when the property draws few final-form cases.
    order = Order.market("BTC/USDT", "buy", "2")
    fields = {
        "plugin": "mock",
        "status": OrderStatus.PARTIALLY_FILLED,
        "client_order_id": order.client_order_id,
        "symbol": order.symbol,
        "side": OrderSide.BUY,
        "quantity": Decimal(2),
        "filled_quantity": Decimal(1),
        "average_price": Decimal(10),
        "timestamp": NOW,
        "raw": {"a": [1, 2.5, None, "x", True], "b": {"c": (1,)}},
    }
    assert _canonical(dict(fields)) is not None
    built = ExecutionResult.build(**fields)
    assert built == ExecutionResult(**fields)
    assert built.success is True and built.sent is True and built.error_code is None
    assert built.model_fields_set == set(fields)


def test_for_order_and_for_cancel_take_the_cheap_path_and_agree() -> None:
    order = Order.limit("ES", "sell", "3", "4000")
    result = ExecutionResult.for_order(order, plugin="p", status=OrderStatus.REJECTED)
    assert (
        result.__dict__
        == ExecutionResult(
            plugin="p",
            status="rejected",
            client_order_id=order.client_order_id,
            symbol="ES",
            side="sell",
            quantity="3",
            timestamp=result.timestamp,
        ).__dict__
    )
    assert result.success is False and result.sent is True
    assert result.error_code is ErrorCode.REJECTED
    cancel = ExecutionResult.for_cancel(
        plugin="p", status=OrderStatus.UNKNOWN, order_id="9", symbol="ES", timestamp=NOW
    )
    assert (cancel.sent, cancel.error_code, cancel.side, cancel.quantity) == (
        None,
        ErrorCode.UNKNOWN,
        None,
        None,
    )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"status": OrderStatus.FILLED}, "status filled needs filled_quantity > 0"),
        ({"status": OrderStatus.ACCEPTED, "sent": False}, "sent=False needs status=rejected"),
        ({"status": OrderStatus.FILLED, "sent": None}, "sent=None (not known) needs status"),
        ({"status": OrderStatus.REJECTED, "success": True}, "contradicts status=rejected"),
        (
            {"status": OrderStatus.ACCEPTED, "filled_quantity": Decimal(1)},
            "needs average_price",
        ),
        (
            {
                "status": OrderStatus.FILLED,
                "filled_quantity": Decimal(3),
                "average_price": Decimal(1),
            },
            "exceeds quantity 2",
        ),
        (
            {
                "status": OrderStatus.PARTIALLY_FILLED,
                "filled_quantity": Decimal(2),
                "average_price": Decimal(1),
            },
            "needs 0 < filled_quantity < quantity",
        ),
    ],
)
def test_build_refuses_contradictions_with_the_validators_message(
    fields: dict[str, Any], message: str
) -> None:
    base = {
        "plugin": "p",
        "client_order_id": "c",
        "symbol": "S",
        "side": OrderSide.BUY,
        "quantity": Decimal(2),
    }
    with pytest.raises(ValidationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ExecutionResult.build(**base, **fields)


_FINAL_FIELDS: dict[str, Any] = {
    "plugin": "p",
    "status": OrderStatus.ACCEPTED,
    "client_order_id": "c",
    "symbol": "S",
    "side": OrderSide.BUY,
    "quantity": Decimal(1),
}


def test_plainly_json_is_what_json_safe_leaves_alone() -> None:
    plain: list[Any] = [None, "a", 1, True, 2.5, [1, (2, 3)], {"k": {"j": [None]}}]
    for value in plain:
        assert plainly_json(value) and made_json_safe(value) is value
    odd: list[Any] = [math.nan, -math.inf, math.inf, Decimal(1), {1: "a"}, [object()], b"x"]
    for value in odd:
        assert not plainly_json(value)
        assert not plainly_json({"x": [value]})
    for later in (
        [1, "a", math.nan],
        [2.5, math.nan],
        {"a": 1, "b": None, "c": math.inf},
        {"a": 2.5, "b": math.nan},  # a good float in a dict, then a bad value
        {"a": "x", "b": -math.inf},
        {"a": 2.5, "b": {"c": -math.inf}},
    ):
        assert not plainly_json(later)  # a bad value after good ones is still found
    for wrap in (lambda inner: [inner], lambda inner: {"k": inner}):
        deep: Any = "leaf"
        for _ in range(33):
            deep = wrap(deep)
        assert not plainly_json(deep)  # too deep to walk: the validator decides
        shallow: Any = "leaf"
        for _ in range(32):
            shallow = wrap(shallow)
        assert plainly_json(shallow)
        assert _canonical({**_FINAL_FIELDS, "raw": shallow}) is not None
        assert _canonical({**_FINAL_FIELDS, "raw": deep}) is None


class _Text(str):
    pass


def _plain_by_definition(value: Any, depth: int = 0) -> bool:
    # The rule written plainly (slow, obvious): what plainly_json must answer.
    kind = type(value)
    if kind in (str, int, bool, type(None)):
        return True
    if kind is float:
        return math.isfinite(value)
    if depth >= 32:
        return False
    if kind is dict:
        return all(type(k) is str and _plain_by_definition(v, depth + 1) for k, v in value.items())
    if kind in (list, tuple):
        return all(_plain_by_definition(v, depth + 1) for v in value)
    return False


_ODD_LEAVES = st.sampled_from([math.nan, math.inf, Decimal(1), b"x", _Text("t"), object()])
_LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=3), _ODD_LEAVES
)
_VALUES = st.recursive(
    _LEAVES,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(st.one_of(st.text(max_size=2), st.integers(0, 3)), inner, max_size=4),
    ),
    max_leaves=12,
)


@given(_VALUES)
@settings(max_examples=400, deadline=None)
def test_plainly_json_is_its_rule_on_any_value(value: Any) -> None:
    # Every kind inline or a level down, in dicts and lists, at every position.
    assert plainly_json(value) is _plain_by_definition(value)
    assert plainly_json({"k": value}) is _plain_by_definition({"k": value})


def test_pydantic_keeps_the_instance_slots_build_sets() -> None:
    # build() sets these four directly, as model_construct does; a pydantic release
    # that adds a slot must fail here rather than build half-made results.
    assert set(BaseModel.__slots__) == {
        "__dict__",
        "__pydantic_fields_set__",
        "__pydantic_extra__",
        "__pydantic_private__",
    }


def test_a_subclass_is_always_validated() -> None:
    class Tagged(ExecutionResult):
        tag: str = "t"

    built = Tagged.build(**_FINAL_FIELDS)
    assert type(built) is Tagged and built.tag == "t"
    assert Tagged.for_order(Order.market("S", "buy", "1"), plugin="p", status="accepted").tag == "t"


class _OrderSubclass(Order):
    """An Order subclass: for_order reads its fields as attributes, as for any order."""


_identity_orders = st.sampled_from(
    [
        Order.market("BTC/USDT", "buy", "2"),
        Order.limit("ES", "sell", "0.5", "4000"),
        _OrderSubclass.model_validate(Order.market("S", "sell", "1").model_dump()),
        # adversarial: built without validation, so its identity is not in final form
        Order.model_construct(
            **{**Order.market("S", "buy", "1").model_dump(), "client_order_id": 7}
        ),
        Order.model_construct(**{**Order.market("S", "buy", "1").model_dump(), "side": "buy"}),
        Order.model_construct(
            **{**Order.market("S", "buy", "1").model_dump(), "quantity": Decimal("NaN")}
        ),
    ]
)


def _same_public(built: ExecutionResult, checked: ExecutionResult) -> None:
    # What a user sees: repr (the fields in their order), equality and both dumps.
    assert list(built.__dict__) == list(checked.__dict__) == list(ExecutionResult.model_fields)
    assert repr(built) == repr(checked)
    assert built == checked
    assert built.model_dump_json() == checked.model_dump_json()
    assert built.model_dump() == checked.model_dump()


@settings(max_examples=300, deadline=None)
@given(case=field_sets(), order=_identity_orders, pin_time=st.booleans())
def test_for_order_gives_what_validation_gives(
    case: tuple[dict[str, Any], bool], order: Order, pin_time: bool
) -> None:
    fields, _ = case
    plugin = fields.pop("plugin", "mock")
    status = fields.pop("status", OrderStatus.ACCEPTED)
    for name in ("client_order_id", "symbol", "side", "quantity"):
        own = getattr(order, name, None)
        if name in fields and type(fields[name]) is type(own) and repr(fields[name]) == repr(own):
            del fields[name]  # most calls copy the order's own identity (no ==: sNaN raises)
    if pin_time:
        fields["timestamp"] = NOW
    copied = {
        "client_order_id": order.client_order_id,
        "symbol": order.symbol,
        "side": order.side,
        "quantity": order.quantity,
        **fields,
        "plugin": plugin,
        "status": status,
    }
    checked = _outcome(lambda: ExecutionResult(**copied))
    built = _outcome(
        lambda: ExecutionResult.for_order(order, plugin=plugin, status=status, **fields)
    )
    if checked is ValidationError:
        assert built is ValidationError
        return
    assert isinstance(built, ExecutionResult) and isinstance(checked, ExecutionResult)
    _same(built, checked, copied)
    if pin_time:
        _same_public(built, checked)


@settings(max_examples=150, deadline=None)
@given(coherent_fields())
def test_build_and_validation_look_alike_to_users(fields: dict[str, Any]) -> None:
    fields["timestamp"] = NOW
    checked = _outcome(lambda: ExecutionResult(**fields))
    if checked is ValidationError:
        assert _outcome(lambda: ExecutionResult.build(**fields)) is ValidationError
        return
    built = ExecutionResult.build(**fields)
    assert isinstance(checked, ExecutionResult)
    _same_public(built, checked)


def test_for_order_takes_the_cheap_path_with_the_orders_identity() -> None:
    order = Order.limit("ES", "sell", "3", "4000")
    fields = {"filled_quantity": Decimal(1), "average_price": Decimal(4000), "raw": {"a": 1}}
    result = ExecutionResult.for_order(
        order, plugin="p", status=OrderStatus.PARTIALLY_FILLED, **fields
    )
    assert result.model_fields_set == {
        "plugin", "status", "client_order_id", "symbol", "side", "quantity", *fields
    }  # fmt: skip
    values = {
        "client_order_id": order.client_order_id,
        "symbol": "ES",
        "side": OrderSide.SELL,
        "quantity": Decimal(3),
        "plugin": "p",
        "status": OrderStatus.PARTIALLY_FILLED,
        **fields,
    }
    assert _canonical(values) is not None
    _same_public(result, ExecutionResult(**values, timestamp=result.timestamp))
    overridden = ExecutionResult.for_order(order, plugin="p", status="accepted", quantity="2")
    assert overridden.quantity == Decimal(2) and overridden.status is OrderStatus.ACCEPTED
    with pytest.raises(ValidationError, match="bogus"):  # an unknown field: the validator's error
        ExecutionResult.for_order(order, plugin="p", status=OrderStatus.ACCEPTED, bogus=1)


def test_for_order_in_final_form_takes_only_the_cheap_path(monkeypatch: pytest.MonkeyPatch) -> None:
    from fks_exec import _result_model

    order = Order.limit("ES", "buy", "2", "4000")
    whole = {"filled_quantity": Decimal(2), "average_price": Decimal(4000)}  # all of it filled
    assert _canonical(
        {**_FINAL_FIELDS, "status": OrderStatus.FILLED, "quantity": Decimal(2), **whole}
    )

    def general(*args: Any) -> None:
        raise AssertionError("a result in final form took the general path")

    monkeypatch.setattr(_result_model, "_built", general)
    filled = ExecutionResult.for_order(order, plugin="p", status=OrderStatus.FILLED, **whole)
    assert (filled.filled_quantity, filled.quantity, filled.success) == (
        Decimal(2),
        Decimal(2),
        True,
    )


def test_a_subclass_is_validated_even_in_final_form() -> None:
    class Tagged(ExecutionResult):
        tag: str = "t"

    order = Order.market("S", "buy", "1")
    made = Tagged.for_order(order, plugin="p", status=OrderStatus.ACCEPTED)
    assert type(made) is Tagged and made.tag == "t"
