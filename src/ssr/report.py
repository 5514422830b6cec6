"""Tables: the same rows printed to the terminal, written as Markdown, CSV and JSON."""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any, Sequence

from ssr.hashing import atomic_write_bytes

UNAVAILABLE = "unavailable"


def format_value(value: Any, digits: int = 4) -> str:
    if value is None:
        return UNAVAILABLE
    if isinstance(value, float):
        if math.isinf(value):
            return "inf"
        return f"{value:.{digits}f}"
    return str(value)


def markdown_table(rows: Sequence[dict], columns: Sequence[str], digits: dict[str, int] | None = None) -> str:
    digits = digits or {}
    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(format_value(row.get(c), digits.get(c, 4)) for c in columns) + " |")
    return "\n".join(lines) + "\n"


def write_csv(path: Path, rows: Sequence[dict], columns: Sequence[str]) -> None:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(columns), extrasaction="ignore")
    writer.writeheader()
    for row in rows:
        writer.writerow({c: (UNAVAILABLE if row.get(c) is None else row.get(c)) for c in columns})
    atomic_write_bytes(path, buffer.getvalue().encode())


def mean_row(rows: Sequence[dict], columns: Sequence[str], label_column: str, label: str = "mean") -> dict:
    """Column means over rows; a column with any unavailable value stays unavailable."""
    out: dict[str, Any] = {label_column: label}
    for column in columns:
        if column == label_column:
            continue
        values = [row.get(column) for row in rows]
        numbers = [v for v in values if isinstance(v, (int, float))]
        out[column] = sum(numbers) / len(numbers) if numbers and len(numbers) == len(values) else None
    return out
