"""Plain-text tables for the operator commands: a header, a rule, and columns padded to fit."""

from __future__ import annotations

from collections.abc import Sequence


def looks_numeric(text: str) -> bool:
    stripped = text.replace("%", "").replace(" / ", "").replace(".", "").replace("-", "").split(" ")[0]
    return stripped.isdigit()


def render_table(headers: Sequence[str], rows: Sequence[Sequence[object]], empty: str = "(none)") -> str:
    """Columns as wide as their widest cell; numbers right-aligned, text left-aligned."""
    cells = [[str(value) for value in row] for row in rows]
    widths = [max([len(h), *(len(row[i]) for row in cells)]) for i, h in enumerate(headers)]
    numeric = [bool(cells) and all(looks_numeric(row[i]) for row in cells) for i in range(len(headers))]

    def line(values: Sequence[str]) -> str:
        padded = [v.rjust(w) if num else v.ljust(w) for v, w, num in zip(values, widths, numeric, strict=True)]
        return "  ".join(padded).rstrip()

    rule = "  ".join("-" * w for w in widths)
    return "\n".join([line(list(headers)), rule, *(line(row) for row in cells)] if cells else [line(headers), empty])
