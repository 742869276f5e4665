"""The FAQ's changes: entries saved with their search words, imports from Markdown and XLSX (all or
nothing, every problem listed), and searches recorded."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.db import transaction
from django.utils.translation import gettext as _

from weishang.channel.models import Level
from weishang.core import clock
from weishang.core.errors import BusinessError
from weishang.faq import search, selectors
from weishang.faq.models import FaqCategory, FaqEntry, FaqSearch


def _text(value, field: str, *, max_length: int | None = None, required: bool = True) -> str:
    text = str(value or "").strip()
    if "\x00" in text:
        raise BusinessError(_("This text contains a character that cannot be stored."), field=field)
    if required and not text:
        raise BusinessError(_("This field is required."), field=field)
    if max_length and len(text) > max_length:
        raise BusinessError(_("At most %(n)d characters.") % {"n": max_length}, field=field)
    return text


@transaction.atomic
def faq_entry_save(*, entry: FaqEntry) -> FaqEntry:
    """Save a question (new or changed) and put its words in the search index."""
    entry.question = _text(entry.question, "question", max_length=200)
    entry.answer = _text(entry.answer, "answer")
    entry.terms = search.index_text(entry.question, entry.answer)
    entry.updated_at = clock.now()
    entry.save()
    search.index_put(entry.pk, entry.terms)
    return entry


@transaction.atomic
def faq_entry_delete(*, entry: FaqEntry) -> None:
    search.index_drop(entry.pk)
    entry.delete()


def faq_search_logged(query: str, *, agent=None, limit: int = 20) -> list[FaqEntry]:
    """Search, and record the search (the brand's "most searched")."""
    query = (query or "").replace("\x00", " ").strip()[: search.MAX_QUERY]
    if not query:
        return []
    found = selectors.faq_search(query, agent=agent, limit=limit)
    FaqSearch.objects.create(query=query, terms=" ".join(search.words(query))[:200], hits=len(found))
    return found


# --- imports ----------------------------------------------------------------------------------


@dataclass
class Row:
    category: str
    question: str
    answer: str
    level: str = ""
    where: str = ""  # "第 3 行" / "line 12": where the row came from, for messages


class ImportFailed(BusinessError):
    """An import refused as a whole: ``problems`` lists every row's."""

    def __init__(self, problems: list[str]):
        super().__init__(_("Nothing was imported: %(n)d problem(s).") % {"n": len(problems)}, field="file")
        self.problems = problems


def parse_markdown(text: str) -> list[Row]:
    """``## 分类`` starts a category, ``### 问题`` a question; the paragraphs after it are the
    answer. A line ``可见：市代`` right under a question limits it to that level and above."""
    rows: list[Row] = []
    category, current = "", None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("## ") and not line.startswith("### "):
            category, current = line[3:].strip(), None
        elif line.startswith("### "):
            current = Row(category=category, question=line[4:].strip(), answer="", where=f"第 {number} 行")
            rows.append(current)
        elif current is not None:
            level = re.match(r"^\s*可见[:：]\s*(\S+)\s*$", line)
            if level and not current.answer.strip():
                current.level = level.group(1)
            else:
                current.answer += line + "\n"
    for row in rows:
        row.answer = row.answer.strip()
    return rows


def _cell(cells: tuple, index: int) -> str:
    return str(cells[index] or "").strip() if index < len(cells) else ""


def parse_xlsx(upload) -> list[Row]:
    """Columns 分类, 问题, 答案 and (optional) 可见级别, under a header row."""
    from openpyxl import load_workbook  # type: ignore[import-untyped]  # openpyxl ships no type hints

    try:
        sheet = load_workbook(upload, read_only=True, data_only=True).worksheets[0]
    except Exception as exc:  # noqa: BLE001 - a broken or foreign file, whatever openpyxl raises
        raise ImportFailed([_("This is not an Excel (.xlsx) file.")]) from exc
    lines = sheet.iter_rows(values_only=True)
    header = [str(cell or "").strip() for cell in next(lines, ())]
    wanted = {"分类": "category", "问题": "question", "答案": "answer", "可见级别": "level"}
    columns = {wanted[name]: i for i, name in enumerate(header) if name in wanted}
    if not {"category", "question", "answer"} <= set(columns):
        raise ImportFailed([_("The first row must name the columns 分类, 问题 and 答案 (and 可见级别).")])
    rows = []
    for number, cells in enumerate(lines, start=2):
        if not any(cells):
            continue
        values = {key: _cell(cells, i) for key, i in columns.items()}
        rows.append(
            Row(values["category"], values["question"], values["answer"], values.get("level", ""), f"第 {number} 行")
        )
    return rows


@transaction.atomic
def faq_import(rows: list[Row]) -> int:
    """Add every row, or none: each row needs a category, a question (at most 200 characters) and an
    answer, and a level the brand has (by name or code) if it names one. Returns how many."""
    levels = {level.name: level for level in Level.objects.all()} | {level.code: level for level in Level.objects.all()}
    problems = []
    for row in rows:
        for field, value, limit in (
            ("category", row.category, 60),
            ("question", row.question, 200),
            ("answer", row.answer, None),
        ):
            try:
                _text(value, field, max_length=limit)
            except BusinessError as exc:
                label = {"category": _("category"), "question": _("question"), "answer": _("answer")}[field]
                problems.append(f"{row.where}：{label}：{exc.message}")
        if row.level and row.level not in levels:
            problems.append(_("%(where)s: no level called %(level)s.") % {"where": row.where, "level": row.level})
    if not rows:
        problems.append(_("The file holds no questions."))
    if problems:
        raise ImportFailed(problems)
    for position, row in enumerate(rows):
        category, _created = FaqCategory.objects.get_or_create(
            name=row.category.strip(), defaults={"position": FaqCategory.objects.count()}
        )
        faq_entry_save(
            entry=FaqEntry(
                category=category,
                question=row.question,
                answer=row.answer,
                min_level=levels.get(row.level) if row.level else None,
                position=position,
            )
        )
    return len(rows)
