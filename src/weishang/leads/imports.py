"""Reading a file of leads (CSV or XLSX) into rows, and checking each row.

The first row names the columns, in Chinese or English: 姓名/name, 手机/phone, 微信/wechat,
地区/region (a GB/T 2260 code or a place name, e.g. 杭州市西湖区), 渠道/channel (a channel's Chinese
label or code), 负责人/owner (the owning agent's phone), 来源/source (an ad placement's source
code), 备注/note. A row needs a name and a phone or WeChat id. A rejected row keeps its line
number and every reason, so the person importing can fix the file and try again.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from django.db.models import Value
from django.db.models.functions import Replace
from django.utils.translation import gettext as _

from weishang.core.errors import BusinessError
from weishang.core.validators import PHONE_RE, normalize_phone, to_ascii
from weishang.leads.models import AdPlacement, LeadChannel
from weishang.regions.models import Region

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 5000
COLUMNS = {
    "姓名": "name",
    "name": "name",
    "手机": "phone",
    "手机号": "phone",
    "phone": "phone",
    "微信": "wechat_id",
    "微信号": "wechat_id",
    "wechat": "wechat_id",
    "wechat_id": "wechat_id",
    "地区": "region",
    "region": "region",
    "渠道": "channel",
    "channel": "channel",
    "负责人": "owner",
    "owner": "owner",
    "来源": "source",
    "source": "source",
    "备注": "note",
    "note": "note",
}


def _table_csv(content: bytes) -> list[list[str]]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = content.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise BusinessError(_("The file is not text in UTF-8 or GBK."), field="file")
    if "\x00" in text:
        raise BusinessError(_("The file is not a CSV file."), field="file")
    try:
        return [row for row in csv.reader(io.StringIO(text))]
    except csv.Error as exc:
        raise BusinessError(_("The file is not a CSV file."), field="file") from exc


def _table_xlsx(content: bytes) -> list[list[str]]:
    from openpyxl import load_workbook  # type: ignore[import-untyped]  # openpyxl ships no type hints

    try:
        sheet = load_workbook(io.BytesIO(content), read_only=True, data_only=True).worksheets[0]
        table = []
        for cells in sheet.iter_rows(values_only=True):
            table.append(["" if cell is None else str(cell).strip() for cell in cells])
            if len(table) > MAX_ROWS + 1:
                break
        return table
    except Exception as exc:  # noqa: BLE001 - a broken or foreign file, whatever openpyxl raises
        raise BusinessError(_("This is not an Excel (.xlsx) file."), field="file") from exc


def parse_rows(*, file_name: str, content: bytes) -> list[dict[str, Any]]:
    """The file's rows as dicts keyed by the known columns, each with its line number."""
    if not content:
        raise BusinessError(_("The file is empty."), field="file")
    if len(content) > MAX_BYTES:
        raise BusinessError(_("The file is larger than 2 MB."), field="file")
    lower = (file_name or "").lower()
    if lower.endswith(".xlsx") or content[:2] == b"PK":
        table = _table_xlsx(content)
    elif lower.endswith(".csv") or lower.endswith(".txt"):
        table = _table_csv(content)
    else:
        raise BusinessError(_("Upload a .csv or .xlsx file."), field="file")
    if not table:
        raise BusinessError(_("The file is empty."), field="file")
    header = [COLUMNS.get(to_ascii(cell).strip().lower(), COLUMNS.get(cell.strip(), "")) for cell in table[0]]
    if "name" not in header or not ({"phone", "wechat_id"} & set(header)):
        raise BusinessError(
            _("The first row must name the columns 姓名 and 手机 or 微信 (and 地区, 渠道, 负责人, 来源, 备注)."),
            field="file",
        )
    if len(table) - 1 > MAX_ROWS:
        raise BusinessError(_("A file holds at most 5,000 leads."), field="file")
    rows = []
    for number, cells in enumerate(table[1:], start=2):
        if not any(str(c).strip() for c in cells):
            continue
        row: dict[str, Any] = {"line": number}
        for key, cell in zip(header, cells, strict=False):
            if key:
                row[key] = str(cell).strip()
        rows.append(row)
    return rows


def _channel_of(value: str) -> str | None:
    value = (value or "").strip()
    if not value:
        return LeadChannel.OTHER
    for code, label in LeadChannel.choices:
        text = str(label)
        if value in (code, text) or (len(value) >= 2 and value in text):
            return code
    return None


def _region_of(value: str) -> tuple[str, bool]:
    """(code, ok): a six-digit code the brand knows, or a place name matched by its full name."""
    value = to_ascii(value or "").strip()
    if not value:
        return "", True
    if value.isdigit():
        return (value, True) if Region.objects.filter(code=value).exists() else ("", False)
    value = "".join(value.split())
    regions = Region.objects.annotate(joined=Replace("full_name", Value(" "), Value("")))
    found = regions.filter(joined=value).values_list("code", flat=True).first()
    if found is None and len(value) >= 2:  # 杭州市西湖区 without the province, if only one region ends so
        matches = list(regions.filter(joined__endswith=value).values_list("code", flat=True)[:2])
        found = matches[0] if len(matches) == 1 else None
    return (found, True) if found else ("", False)


def validate_rows(rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Split rows into the accepted (cleaned) and the rejected (with their reasons)."""
    accepted: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    seen: dict[str, int] = {}
    sources = set(AdPlacement.objects.values_list("code", flat=True))
    from weishang.core.models import User

    owner_phones = {normalize_phone(r.get("owner", "")) for r in rows if r.get("owner")}
    agents = set(User.objects.filter(phone__in=owner_phones, agent__isnull=False).values_list("phone", flat=True))
    for row in rows:
        reasons = []
        name = row.get("name", "").strip()
        if not name:
            reasons.append(_("no name"))
        elif len(name) > 50:
            reasons.append(_("name longer than 50 characters"))
        phone = normalize_phone(row.get("phone", ""))
        wechat = to_ascii(row.get("wechat_id", "")).strip()
        if phone and not PHONE_RE.match(phone):
            reasons.append(_("phone %(phone)s is not an 11-digit mobile number") % {"phone": row.get("phone", "")[:20]})
        if not phone and not wechat:
            reasons.append(_("no phone and no WeChat id"))
        if wechat and (len(wechat) > 40 or any(c.isspace() for c in wechat)):
            reasons.append(_("WeChat id has spaces or more than 40 characters"))
        for key in (phone, wechat):
            if key and key in seen:
                reasons.append(_("the same person as line %(line)s") % {"line": seen[key]})
                break
        channel = _channel_of(row.get("channel", ""))
        if channel is None:
            reasons.append(_("unknown channel %(channel)s") % {"channel": row.get("channel", "")[:30]})
        region, ok = _region_of(row.get("region", ""))
        if not ok:
            reasons.append(_("unknown region %(region)s") % {"region": row.get("region", "")[:30]})
        owner = normalize_phone(row.get("owner", ""))
        if owner and owner not in agents:
            reasons.append(_("no agent with phone %(phone)s") % {"phone": row.get("owner", "")[:20]})
        source = row.get("source", "").strip()
        if source and source not in sources:
            reasons.append(_("no ad placement with source code %(code)s") % {"code": source[:40]})
        note = row.get("note", "").strip()[:500]
        if reasons:
            rejected.append({"line": row["line"], "name": name[:50], "reasons": reasons})
            continue
        for key in (phone, wechat):
            if key:
                seen[key] = row["line"]
        accepted.append(
            {
                "line": row["line"],
                "name": name,
                "phone": phone,
                "wechat_id": wechat,
                "region": region,
                "channel": channel,
                "owner": owner,
                "source": source,
                "note": note,
            }
        )
    return accepted, rejected
