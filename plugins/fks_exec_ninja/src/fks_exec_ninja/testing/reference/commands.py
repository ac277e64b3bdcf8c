"""The text of a Command message, split into the thirteen ATI parameters.

``Client.Command`` (NinjaTrader.Client/Client/Client.cs) writes
``"{0};{1};...;{12}"`` of: command, account, instrument, action, quantity, order type,
limit price, stop price, time in force, OCO id, order id, strategy (template name),
strategy id. Quantity and prices are ``ToString(InvariantCulture)``, so an unused
number is ``0``; unused strings are empty. That order is also the order of an Order
Instruction File line (help page "Commands and Valid Parameters",
https://ninjatrader.com/support/helpGuides/nt8/commands_and_valid_parameters.htm).
How the server splits the text is not in the DLL: we split on ``;`` and take the
thirteen fields by position (inferred); a command with another count is invalid.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from .wire import WireError, parse_double, parse_int

__all__ = ["COMMANDS", "AtiCommand", "CommandError", "parse_command"]

COMMANDS = frozenset(
    {
        "CANCEL",
        "CANCELALLORDERS",
        "CHANGE",
        "CLOSEPOSITION",
        "CLOSESTRATEGY",
        "FLATTENEVERYTHING",
        "PLACE",
        "REVERSEPOSITION",
    }
)
"""The eight commands of the help page "Commands and Valid Parameters"."""


class CommandError(ValueError):
    """A command NinjaTrader cannot carry out; ``order_id`` names its order, if any."""

    def __init__(self, message: str, order_id: str = "") -> None:
        super().__init__(message)
        self.order_id = order_id


@dataclass(frozen=True)
class AtiCommand:
    """One command, its fields as sent (strings stripped of nothing)."""

    command: str
    account: str
    instrument: str
    action: str
    quantity: int
    order_type: str
    limit_price: Decimal
    stop_price: Decimal
    tif: str
    oco: str
    order_id: str
    strategy: str
    strategy_id: str


def _number(text: str, what: str, order_id: str) -> Decimal:
    # Empty means unused (OIF lines leave optional fields empty); otherwise the
    # invariant-culture decimal of the help page ("1212.25 is correct, 1212,25 is not").
    if text.strip() == "":
        return Decimal(0)
    try:
        parse_double(text)
        return Decimal(text.strip().replace(",", ""))
    except (WireError, InvalidOperation):
        raise CommandError(f"{what} is not a number: {text[:40]!r}", order_id) from None


def parse_command(text: str) -> AtiCommand:
    """Split ``text``; raises :class:`CommandError` for a wrong field count or number."""
    fields = text.split(";")
    if len(fields) != 13:
        raise CommandError(f"expected 13 ';'-separated fields, got {len(fields)}")
    order_id = fields[10]
    quantity_text = fields[4]
    try:
        quantity = 0 if quantity_text.strip() == "" else parse_int(quantity_text)
    except WireError:
        raise CommandError(
            f"quantity is not an integer: {quantity_text[:40]!r}", order_id
        ) from None
    return AtiCommand(
        command=fields[0].strip().upper(),
        account=fields[1],
        instrument=fields[2],
        action=fields[3].strip().upper(),
        quantity=quantity,
        order_type=fields[5].strip().upper(),
        limit_price=_number(fields[6], "limit price", order_id),
        stop_price=_number(fields[7], "stop price", order_id),
        tif=fields[8].strip().upper(),
        oco=fields[9],
        order_id=order_id,
        strategy=fields[11],
        strategy_id=fields[12],
    )
