"""Loading the regions from the data file (scripts/regions-data makes it)."""

from __future__ import annotations

from django.db import transaction

from weishang.regions.load import region_rows
from weishang.regions.models import Region


def regions_load(*, using: str = "default") -> int:
    """Add the regions the table lacks and rename those the file names otherwise; a region the
    file no longer lists stays (old addresses keep it). Returns how many rows changed. Cheap when
    nothing changed: one count, one query of names."""
    rows = region_rows()
    table = Region.objects.using(using)
    if table.count() == len(rows) and table.filter(code=rows[-1].code).exists():
        return 0
    with transaction.atomic(using=using):
        known = dict(table.values_list("code", "full_name"))
        # Parents first: rows are sorted by code, and a parent's code sorts before its children's.
        new = [
            Region(code=r.code, name=r.name, kind=r.kind, parent_id=r.parent, full_name=r.full_name)
            for r in rows
            if r.code not in known
        ]
        table.bulk_create(new, batch_size=500)
        renamed = [r for r in rows if r.code in known and known[r.code] != r.full_name]
        for r in renamed:
            table.filter(code=r.code).update(name=r.name, full_name=r.full_name, kind=r.kind, parent_id=r.parent)
    return len(new) + len(renamed)
