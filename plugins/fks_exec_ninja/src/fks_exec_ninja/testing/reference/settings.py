"""Settings of the reference ATI server, above all for behaviours the references leave open.

Every setting whose behaviour is *inferred* (neither the DLL source nor a help page says
what NinjaTrader does) has one value per plausible behaviour, so a client can be tested
against all of them. :data:`INFERRED_AXES` lists those axes and :func:`combinations`
enumerates them for ``pytest.mark.parametrize``::

    @pytest.mark.parametrize("settings", combinations("push_order", "repetition"))
"""

from __future__ import annotations

import datetime as dt
import enum
import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from types import MappingProxyType
from typing import Any

__all__ = [
    "INFERRED_AXES",
    "AccountSpec",
    "AtmTemplateSpec",
    "DuplicateOrderId",
    "Greeting",
    "InstrumentSpec",
    "InvalidCommand",
    "OcoPartialFill",
    "OffTickPrice",
    "OrderFate",
    "PushOrder",
    "Repetition",
    "Repush",
    "ServerSettings",
    "ValueOrder",
    "combinations",
    "front_month",
]


class PushOrder(enum.Enum):
    """Order of an order's three values in one update (inferred: the DLL is silent)."""

    STATUS_FILLED_AVG = ("OrderStatus", "Filled", "AvgFillPrice")
    STATUS_AVG_FILLED = ("OrderStatus", "AvgFillPrice", "Filled")
    FILLED_AVG_STATUS = ("Filled", "AvgFillPrice", "OrderStatus")
    AVG_FILLED_STATUS = ("AvgFillPrice", "Filled", "OrderStatus")
    FILLED_STATUS_AVG = ("Filled", "OrderStatus", "AvgFillPrice")
    AVG_STATUS_FILLED = ("AvgFillPrice", "OrderStatus", "Filled")


class Repetition(enum.Enum):
    """Which of an order's values an update pushes (inferred)."""

    CHANGED_ONLY = "changed"
    """Only values that changed: a new order's ``Filled``/``AvgFillPrice`` come with its
    first fill; a client never sees ``Filled|id`` = 0."""
    ALL_VALUES = "all"
    """Status, filled and average on every update."""


class ValueOrder(enum.Enum):
    """How the values of one operation reach a client (inferred).

    An operation is what one command, one market move or one re-push to a connecting
    client does: its updates (an order's states and fills, its OCO siblings' cancels,
    positions, lists). The DLL reads one Value message per key (``AtiSocket.Loop`` case
    2) and keeps only the latest value of each (``Client.AddValue`` overwrites it), so
    a server that pushes only the latest value of each key, in any order, is
    indistinguishable from one pushing every step except in order and timing; nothing
    in the DLL or the help pages says which order or timing NinjaTrader keeps. The
    ``LATEST_*`` values push the latest value of each key of an operation, each in its
    own write, ``ServerSettings.step_interval_s`` apart: a client's read can end between
    any two of them, of one order or of two.
    """

    AS_HAPPENED = "as_happened"
    """Each step as it happens: an order's values together (in ``push_order``), one
    step after the other."""
    LATEST_IN_ORDER = "latest"
    """The latest value of each key, in the order the keys last changed."""
    LATEST_REVERSED = "reversed"
    """The latest value of each key, the key that changed last first (an entry's
    ``Cancelled`` before the fill that came just before it; an OCO sibling's
    ``Cancelled`` before the fill of the exit that cancelled it)."""
    LATEST_SHUFFLED = "shuffled"
    """The latest value of each key, in an order drawn from
    ``ServerSettings.value_order_seed`` (a new draw for each operation)."""


class Repush(enum.Enum):
    """Whether a client that connects gets the values of orders that already exist."""

    ALL = "all"
    NONE = "none"
    DELAYED = "delayed"
    """All of them, ``ServerSettings.repush_delay_s`` after ``ATI``."""


class Greeting(enum.Enum):
    """What the server does when a client connects."""

    ATI = "ati"
    """Pushes ``ATI`` = ``True`` (what ``Client.Connected`` waits for), then state."""
    WITHHELD = "withheld"
    """Keeps the socket open, reads and records messages, never says anything."""
    CLOSE_BEFORE_ATI = "close"
    """Accepts, then closes at once."""


class OrderFate(enum.Enum):
    """What happens to an order placed through ATI once it is accepted."""

    FILL = "fill"
    """Normal: market orders fill, resting orders work until the market reaches them."""
    REJECT = "reject"
    """``Submitted`` then ``Rejected``."""
    UNKNOWN = "unknown"
    """``Submitted`` then ``Unknown``, which is final (help page IsTerminalState())."""


class InvalidCommand(enum.Enum):
    """What a command NinjaTrader cannot carry out does (inferred)."""

    REJECT = "reject"
    """If it names an order id, that order gets ``OrderStatus`` ``Rejected``."""
    IGNORE = "ignore"
    """Nothing is pushed (NinjaTrader would only write its log)."""


class DuplicateOrderId(enum.Enum):
    """A PLACE reusing a known order id ("must be unique", help page; outcome inferred)."""

    IGNORE = "ignore"
    REJECT = "reject"
    """Pushes ``Rejected`` under the id, overwriting the first order's cached status."""


class OffTickPrice(enum.Enum):
    """A price off the instrument's tick grid (inferred)."""

    REJECT = "reject"
    ROUND = "round"


class OcoPartialFill(enum.Enum):
    """What a partial fill of one OCO member does to the others (inferred)."""

    REDUCE_OTHERS = "reduce"
    CANCEL_OTHERS = "cancel"


@dataclass(frozen=True)
class AccountSpec:
    """An account NinjaTrader knows: its name, kind and starting cash."""

    name: str
    kind: str = "sim"
    """``sim`` (Sim101), ``playback`` (Playback101) or ``live`` (a broker account)."""
    cash: Decimal = Decimal("100000")


@dataclass(frozen=True)
class InstrumentSpec:
    """A tradable instrument: NinjaTrader name, tick size, point value, last price."""

    name: str
    tick_size: Decimal
    last: Decimal
    point_value: Decimal = Decimal("1")


@dataclass(frozen=True)
class AtmTemplateSpec:
    """An ATM strategy template: one stop and one target, distances in ticks."""

    stop_ticks: int = 8
    target_ticks: int = 16


def front_month(root: str, today: dt.date) -> str:
    """NinjaTrader's name of a quarterly future's front month, e.g. ``ES 12-26``.

    The contract rolls 8 days before its third Friday (NinjaTrader's usual roll date for
    CME equity index futures; inferred for the fake's default instruments only).
    """
    for year in (today.year, today.year + 1):
        for month in (3, 6, 9, 12):
            first = dt.date(year, month, 1)
            third_friday = first + dt.timedelta(days=(4 - first.weekday()) % 7 + 14)
            if today < third_friday - dt.timedelta(days=8):
                return f"{root} {month:02d}-{year % 100:02d}"
    raise AssertionError("unreachable: a quarter always follows")


def _default_instruments() -> tuple[InstrumentSpec, ...]:
    today = dt.datetime.now(dt.timezone.utc).date()
    return (
        InstrumentSpec(front_month("ES", today), Decimal("0.25"), Decimal("6000"), Decimal(50)),
        InstrumentSpec(front_month("NQ", today), Decimal("0.25"), Decimal("21000"), Decimal(20)),
        InstrumentSpec(front_month("MES", today), Decimal("0.25"), Decimal("6000"), Decimal(5)),
        InstrumentSpec("AAPL", Decimal("0.01"), Decimal("230.00"), Decimal(1)),
    )


def _default_accounts() -> tuple[AccountSpec, ...]:
    return (
        AccountSpec("Sim101", "sim"),
        AccountSpec("Playback101", "playback"),
        AccountSpec("LX-4402917", "live", Decimal("25000")),
    )


def _default_templates() -> Mapping[str, AtmTemplateSpec]:
    return MappingProxyType({"ATM1": AtmTemplateSpec(8, 16)})


@dataclass(frozen=True)
class ServerSettings:
    """Every knob of :class:`~.server.ReferenceAtiServer`; defaults are the tame case."""

    push_order: PushOrder = PushOrder.STATUS_FILLED_AVG
    repetition: Repetition = Repetition.CHANGED_ONLY
    repush: Repush = Repush.ALL
    repush_delay_s: float = 0.2
    value_order: ValueOrder = ValueOrder.AS_HAPPENED
    value_order_seed: int = 0
    """The seed of ``ValueOrder.LATEST_SHUFFLED``'s draws."""
    push_account_values_on_connect: bool = True
    """``Orders|``, ``Strategies|``, cash and positions of every account after ``ATI``
    (inferred: the DLL can only read them from its cache, so they must be pushed)."""
    greeting: Greeting = Greeting.ATI
    greeting_delay_s: float = 0.0
    """A slow NinjaTrader: ``ATI`` (and all after it) this long after the accept. The
    DLL waits up to 10 s for it (``SetUpNow``: 1000 x 10 ms)."""
    fate: OrderFate = OrderFate.FILL
    fill_pieces: int = 1
    """A fill comes in this many pieces (at most one lot each is not required)."""
    cancel_after_fills: int = 0
    """After this many fill pieces of an ATI order the rest is cancelled (0: never)."""
    step_interval_s: float = 0.0
    """Pause between the updates of one command (states, fill pieces)."""
    average_lag_s: float = 0.0
    """Push each ``AvgFillPrice`` value this long after the rest of its update
    (inferred: the DLL reads it as a key of its own, ``Client.AvgFillPrice``, and
    nothing says when NinjaTrader pushes it relative to ``Filled``)."""
    piece_slippage_ticks: int = 0
    """Each later piece of a market or stop-market fill this many ticks worse than the
    one before (a market order walking the book; inferred: the references say nothing
    of fill prices), so its average price changes from piece to piece."""
    invalid_command: InvalidCommand = InvalidCommand.REJECT
    duplicate_order_id: DuplicateOrderId = DuplicateOrderId.IGNORE
    off_tick_price: OffTickPrice = OffTickPrice.REJECT
    oco_partial_fill: OcoPartialFill = OcoPartialFill.REDUCE_OTHERS
    reject_reused_oco: bool = True
    """An OCO id whose orders are all final cannot start a new group (inferred)."""
    unknown_messages: bool = False
    """Send the client messages its DLL skips: an unknown type, and Data messages."""
    preexisting_orders: int = 0
    """Finished orders per account placed outside ATI (internal ids) before start: at
    33 bytes an id, 125 of them make ``Orders|<account>`` longer than 4096 bytes."""
    broadcast: bool = True
    """Push every update to every connected client (inferred), not only the sender."""
    write_per_field: bool = False
    """Write each field on its own, a loop turn apart, as the DLL's ``AtiSocket.Send``
    does (one ``socket.Send`` per field): a client's read may end between the values of
    one update. False: each update in one write."""
    accounts: tuple[AccountSpec, ...] = field(default_factory=_default_accounts)
    default_account: str = "Sim101"
    """Used for an empty account field (help page "Initialization")."""
    instruments: tuple[InstrumentSpec, ...] = field(default_factory=_default_instruments)
    atm_templates: Mapping[str, AtmTemplateSpec] = field(default_factory=_default_templates)

    def __post_init__(self) -> None:
        """Raise ``ValueError`` for values no server could have."""
        if self.fill_pieces < 1:
            raise ValueError("fill_pieces must be >= 1")
        if self.cancel_after_fills < 0 or self.preexisting_orders < 0:
            raise ValueError("cancel_after_fills and preexisting_orders must be >= 0")
        delays = (self.repush_delay_s, self.step_interval_s, self.greeting_delay_s)
        if min(*delays, self.average_lag_s) < 0 or self.piece_slippage_ticks < 0:
            raise ValueError("delays and piece_slippage_ticks must be >= 0")
        names = [a.name for a in self.accounts]
        if len(set(names)) != len(names) or self.default_account not in names:
            raise ValueError("account names must be unique and include default_account")

    def with_(self, **changes: Any) -> ServerSettings:
        """A copy with ``changes`` applied (validated again)."""
        return replace(self, **changes)

    def instrument(self, name: str) -> InstrumentSpec:
        """The spec of instrument ``name``; raises ``KeyError`` if unknown."""
        for spec in self.instruments:
            if spec.name == name:
                return spec
        raise KeyError(name)


INFERRED_AXES: Mapping[str, tuple[Any, ...]] = MappingProxyType(
    {
        "push_order": tuple(PushOrder),
        "repetition": tuple(Repetition),
        "repush": tuple(Repush),
        "value_order": tuple(ValueOrder),
        "fill_pieces": (1, 3),
        "cancel_after_fills": (0, 1),
        "fate": tuple(OrderFate),
        "invalid_command": tuple(InvalidCommand),
        "duplicate_order_id": tuple(DuplicateOrderId),
        "oco_partial_fill": tuple(OcoPartialFill),
        "push_account_values_on_connect": (True, False),
        "unknown_messages": (False, True),
        "broadcast": (True, False),
        "write_per_field": (False, True),
    }
)
"""Each inferred behaviour and the values a test should cover."""


def combinations(*axes: str, base: ServerSettings | None = None) -> Iterator[ServerSettings]:
    """Every combination of the values of ``axes`` (all of :data:`INFERRED_AXES` if none).

    Other settings keep ``base``'s values. Raises ``KeyError`` for an unknown axis.
    """
    names = axes or tuple(INFERRED_AXES)
    start = base or ServerSettings()
    for values in itertools.product(*(INFERRED_AXES[name] for name in names)):
        yield start.with_(**dict(zip(names, values, strict=True)))
