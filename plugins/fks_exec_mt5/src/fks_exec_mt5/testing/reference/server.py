"""The fake trade server's state: account, symbols and quotes, book, clock, and money.

Money (simplified, Decimal). Margin follows the Forex formula of ENUM_SYMBOL_CALC_MODE
(https://www.mql5.com/en/docs/constants/environment_state/marketinfoconstants#enum_symbol_calc_mode:
"Margin: Lots * Contract_Size / Leverage * Margin_Rate", in the margin currency), taken
to the account currency by the symbol's own price when the margin currency is not the
account's (**inferred** conversion; hedged positions are not offset). Profit is
``(close - open) * volume * contract_size`` in the profit currency, divided by the close
price when the base currency is the account's (USDJPY on a USD account). Enough to
exercise 10019 NO_MONEY and the equity/margin fields, not a broker's calculator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from fks_exec_mt5.testing.reference.account import AccountSpec, TerminalSpec
from fks_exec_mt5.testing.reference.constants import MetaTrader5Constants as C
from fks_exec_mt5.testing.reference.state import Book, Position, ServerClock
from fks_exec_mt5.testing.reference.symbols import Quote, SymbolSpec

__all__ = ["TradeServer"]


@dataclass
class TradeServer:
    """Everything behind the terminal: what order_send acts on and ticks move."""

    account: AccountSpec
    terminal: TerminalSpec
    clock: ServerClock
    specs: dict[str, SymbolSpec] = field(default_factory=dict)
    quotes: dict[str, Quote] = field(default_factory=dict)
    book: Book = field(default_factory=Book)
    balance: Decimal = Decimal(0)
    arrivals: dict[str, int] = field(default_factory=dict)
    truncate_long_comments: bool = False

    def now_msc(self) -> int:
        """Server time now in milliseconds."""
        return self.clock.server_msc()

    def now_s(self) -> int:
        """Server time now in seconds."""
        return self.clock.server_msc() // 1000

    def close_price(self, position_type: int, symbol: str) -> Decimal:
        """The price a position closes at now: Bid for a buy, Ask for a sell."""
        quote = self.quotes[symbol]
        return quote.bid if position_type == C.POSITION_TYPE_BUY else quote.ask

    def position_profit(self, position: Position, price: Decimal | None = None) -> Decimal:
        """Floating (or, at ``price``, realized) profit of ``position``."""
        close = self.close_price(position.type, position.symbol) if price is None else price
        spec = self.specs[position.symbol]
        sign = 1 if position.type == C.POSITION_TYPE_BUY else -1
        profit = (close - position.price_open) * position.volume * spec.contract_size * sign
        currency = self.account.currency
        if spec.currency_profit != currency and spec.currency_base == currency and close:
            profit /= close
        return profit.quantize(Decimal("0.01"))

    def floating_profit(self) -> Decimal:
        """Sum of open positions' profit at current prices."""
        return sum((self.position_profit(p) for p in self.book.positions.values()), Decimal(0))

    def margin_for(self, symbol: str, volume: Decimal, price: Decimal) -> Decimal:
        """Margin one position of ``volume`` at ``price`` takes."""
        spec = self.specs[symbol]
        margin = volume * spec.contract_size / Decimal(self.account.leverage)
        if spec.currency_margin != self.account.currency:
            margin *= price
        return margin

    def used_margin(self) -> Decimal:
        """Margin of all open positions."""
        return sum(
            (
                self.margin_for(p.symbol, p.volume, p.price_open)
                for p in self.book.positions.values()
            ),
            Decimal(0),
        )

    def free_margin(self) -> Decimal:
        """Equity minus used margin."""
        return self.balance + self.floating_profit() - self.used_margin()

    def net_volume(self, symbol: str, magic: int | None = None) -> Decimal:
        """Signed open volume of ``symbol`` (buy +, sell -), optionally of one ``magic``."""
        total = Decimal(0)
        for position in self.book.positions.values():
            if position.symbol != symbol or (magic is not None and position.magic != magic):
                continue
            sign = 1 if position.type == C.POSITION_TYPE_BUY else -1
            total += sign * position.volume
        return total

    def count_arrival(self, comment: str) -> None:
        """Record that a new order with ``comment`` reached the book."""
        self.arrivals[comment] = self.arrivals.get(comment, 0) + 1
