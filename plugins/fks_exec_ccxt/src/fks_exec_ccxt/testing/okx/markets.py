"""The instruments the fake OKX lists, and their ``/api/v5/public/instruments`` form.

Values are OKX's own, as recorded in ccxt's static test markets
(``ts/src/test/static/markets/okx.json`` at ccxt commit 3802e1a2, ``info`` blocks):
BTC-USDT spot (tickSz 0.1, lotSz 1e-8, minSz 1e-5), BTC-USDT-SWAP linear (ctVal 0.01 BTC,
tickSz 0.1, lotSz 0.1, minSz 0.1), BTC-USD-SWAP inverse (ctVal 100 USD, tickSz 0.1,
lotSz 1, minSz 1). Field meanings: https://www.okx.com/docs-v5/en/#public-data-rest-api-get-instruments
(for FUTURES/SWAP, ``sz`` of an order and ``pos`` of a position count contracts; one
contract is ``ctVal`` of ``ctValCcy``).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

__all__ = ["DEFAULT_INSTRUMENTS", "Instrument", "instrument_from_info", "instrument_json"]

InstType = Literal["SPOT", "SWAP", "FUTURES"]


@dataclass(frozen=True)
class Instrument:
    """One tradable instrument, with the fields the fake's rules need."""

    inst_id: str
    inst_type: InstType
    base: str
    quote: str
    tick_sz: Decimal
    lot_sz: Decimal
    min_sz: Decimal
    settle: str = ""
    ct_val: Decimal = Decimal(0)
    ct_val_ccy: str = ""
    ct_type: Literal["", "linear", "inverse"] = ""
    max_lever: int = 100
    taker_fee: Decimal = Decimal("0.0005")
    maker_fee: Decimal = Decimal("0.0002")
    list_time_ms: int = 1611916828000

    @property
    def is_contract(self) -> bool:
        """FUTURES or SWAP: sizes are contracts, trades move positions."""
        return self.inst_type != "SPOT"

    @property
    def inverse(self) -> bool:
        """Coin-margined: one contract is ``ct_val`` USD, settled in the base coin."""
        return self.ct_type == "inverse"

    @property
    def margin_ccy(self) -> str:
        """The currency orders are paid or margined in."""
        return self.settle if self.is_contract else self.quote


DEFAULT_INSTRUMENTS: tuple[Instrument, ...] = (
    Instrument(
        "BTC-USDT", "SPOT", "BTC", "USDT",
        tick_sz=Decimal("0.1"), lot_sz=Decimal("0.00000001"), min_sz=Decimal("0.00001"),
        max_lever=10, taker_fee=Decimal("0.0015"), maker_fee=Decimal("0.001"),
        list_time_ms=1548133413000,
    ),
    Instrument(
        "BTC-USDT-SWAP", "SWAP", "BTC", "USDT",
        tick_sz=Decimal("0.1"), lot_sz=Decimal("0.1"), min_sz=Decimal("0.1"),
        settle="USDT", ct_val=Decimal("0.01"), ct_val_ccy="BTC", ct_type="linear",
    ),
    Instrument(
        "BTC-USD-SWAP", "SWAP", "BTC", "USD",
        tick_sz=Decimal("0.1"), lot_sz=Decimal("1"), min_sz=Decimal("1"),
        settle="BTC", ct_val=Decimal("100"), ct_val_ccy="USD", ct_type="inverse",
    ),
)  # fmt: skip


def instrument_json(inst: Instrument) -> dict[str, Any]:
    """The instrument as ``GET /api/v5/public/instruments`` lists it."""
    contract = inst.is_contract
    family = f"{inst.base}-{inst.quote}" if contract else ""
    return {
        "alias": "",
        "baseCcy": "" if contract else inst.base,
        "category": "1",
        "ctMult": "1" if contract else "",
        "ctType": inst.ct_type,
        "ctVal": _s(inst.ct_val) if contract else "",
        "ctValCcy": inst.ct_val_ccy,
        "expTime": "",
        "instFamily": family,
        "instId": inst.inst_id,
        "instType": inst.inst_type,
        "lever": str(inst.max_lever),
        "listTime": str(inst.list_time_ms),
        "lotSz": _s(inst.lot_sz),
        "maxLmtSz": "100000000",
        "maxMktSz": "1000000",
        "minSz": _s(inst.min_sz),
        "optType": "",
        "quoteCcy": "" if contract else inst.quote,
        "settleCcy": inst.settle,
        "state": "live",
        "stk": "",
        "tickSz": _s(inst.tick_sz),
        "uly": family,
    }


def _s(value: Decimal) -> str:
    """A decimal as OKX writes it: plain notation, no exponent."""
    return format(value.normalize(), "f")


def instrument_from_info(info: dict[str, Any]) -> Instrument:
    """An :class:`Instrument` from OKX's own instrument JSON (e.g. a recorded ``info``).

    Raises ``KeyError``/``ValueError`` when a required field is missing or malformed.
    """
    inst_type = info["instType"]
    if inst_type not in ("SPOT", "SWAP", "FUTURES"):
        raise ValueError(f"instrument type {inst_type!r} is not modelled")
    contract = inst_type != "SPOT"
    family = str(info.get("instFamily") or info.get("uly") or "")
    base, quote = family.split("-")[:2] if contract else (info["baseCcy"], info["quoteCcy"])
    return Instrument(
        inst_id=info["instId"],
        inst_type=inst_type,
        base=base,
        quote=quote,
        tick_sz=Decimal(info["tickSz"]),
        lot_sz=Decimal(info["lotSz"]),
        min_sz=Decimal(info["minSz"]),
        settle=str(info.get("settleCcy") or ""),
        ct_val=Decimal(info["ctVal"]) if contract else Decimal(0),
        ct_val_ccy=str(info.get("ctValCcy") or ""),
        ct_type=info.get("ctType") or "",
    )
