"""Reads ``data/gb2260.csv`` into rows with their kind, parent and full name (used by the
migrations, which load them, and by tests). No Django import: plain data."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).with_name("data") / "gb2260.csv"


@dataclass(frozen=True)
class RegionRow:
    code: str
    name: str
    kind: str
    parent: str | None
    full_name: str


def region_rows(path: Path = DATA) -> list[RegionRow]:
    names: dict[str, str] = {}
    with path.open(encoding="utf-8") as f:
        for row in csv.DictReader(line for line in f if not line.startswith("#")):
            names[row["code"]] = row["name"]
    rows: list[RegionRow] = []
    for code in sorted(names):
        province, city = code[:2] + "0000", code[:4] + "00"
        if code == province:
            kind, parent = "province", None
        elif code == city:
            kind, parent = "city", province
        else:
            kind, parent = "district", city if city in names else province
        # A grouping such as "省直辖县级行政区划" is a parent, not part of an address.
        chain = [
            names[c]
            for c in dict.fromkeys((province, parent or code, code))
            if c in names and (c == code or "直辖县级" not in names[c])
        ]
        rows.append(RegionRow(code, names[code], kind, parent if parent in names else None, " ".join(chain)))
    return rows
