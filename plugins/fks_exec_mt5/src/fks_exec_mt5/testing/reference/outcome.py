"""What the server answers to one request, before it becomes an ``OrderSendResult``.

MqlTradeResult (https://www.mql5.com/en/docs/constants/structures/mqltraderesult):
``deal`` "if it is performed", ``order`` "if it is placed", ``volume``/``price``
"confirmed by broker", ``bid``/``ask`` the current prices (requote prices). A pending
order placed by TRADE_ACTION_PENDING is answered 10009 DONE with ``deal=0`` and
``price=0.0``, as a real server does: a public capture of a real answer reads
``OrderSendResult(retcode=10009, deal=0, order=47247595, volume=0.05, price=0.0,
bid=65348.46, ask=65380.34, comment='limit order', ...,
request=TradeRequest(action=5, ..., type=2, type_filling=2, ...))`` (public GitHub code
found through the code index; quoted in docs/plugins/mt5-reference-fake.md). An SL/TP
change is answered ``retcode=10009, deal=0, order=0, ..., comment='Request executed'``
(same source kind).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from fks_exec_mt5.testing.reference.errors import retcode_comment

__all__ = ["Outcome", "rejected"]


@dataclass(frozen=True)
class Outcome:
    """Retcode and the fields of the answer; ``margin`` is for order_check."""

    retcode: int
    deal: int = 0
    order: int = 0
    volume: Decimal = Decimal(0)
    price: Decimal = Decimal(0)
    bid: Decimal = Decimal(0)
    ask: Decimal = Decimal(0)
    comment: str = ""
    margin: Decimal = Decimal(0)
    executed: bool = False

    @property
    def text(self) -> str:
        """The comment, or the retcode's standard one."""
        return self.comment or retcode_comment(self.retcode)


def rejected(retcode: int, bid: Decimal = Decimal(0), ask: Decimal = Decimal(0)) -> Outcome:
    """A refusal (nothing changed on the server)."""
    return Outcome(retcode=retcode, bid=bid, ask=ask)
