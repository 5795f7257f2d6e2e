"""Money as integer fen (分). Parsing what a clerk types, and printing it back, never through floats."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from yuexiu_desk.errors import UserError

FEN_PER_YUAN = 100


def yuan_to_fen(text: str | Decimal | int, what: str = "金额") -> int:
    """'604.34' → 60434. At most two decimals; refuses anything that is not a plain number."""
    raw = str(text).strip().replace(",", "").replace("，", "")
    try:
        amount = Decimal(raw)
    except InvalidOperation:
        raise UserError(f"{what}“{text}”不是数字，请填写元为单位的金额，例如 604.34。") from None
    if not amount.is_finite():
        raise UserError(f"{what}“{text}”不是有效金额。")
    if amount != amount.quantize(Decimal("0.01")):
        raise UserError(f"{what}“{text}”最多两位小数（精确到分）。")
    return int(amount * FEN_PER_YUAN)


def fen_to_decimal(fen: int) -> Decimal:
    return (Decimal(fen) / FEN_PER_YUAN).quantize(Decimal("0.01"))


def format_yuan(fen: int) -> str:
    """60434 → '604.34'; 123456789 → '1,234,567.89'."""
    return f"{fen_to_decimal(fen):,.2f}"


def round_half_up_div(numerator: int, denominator: int) -> int:
    """Integer division rounding halves away from zero (the usual 四舍五入 to the fen)."""
    return int((Decimal(numerator) / Decimal(denominator)).quantize(Decimal(1), rounding=ROUND_HALF_UP))
