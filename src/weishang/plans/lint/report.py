"""What the linter gives back: ``Finding``s in a ``LintReport``.

``LintReport.as_json()`` is the shape of design/plan-format.md ("Outputs"):
``{"plan", "version", "jurisdiction", "findings": [{"rule", "severity", "path", "line",
"message_zh", "message_en", "source"}], "blocking"}``; ``as_text()`` is the same for people.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

SEVERITIES: tuple[str, ...] = ("CRIT", "HIGH", "MED", "INFO")
"""Most serious first. CRIT blocks activation; HIGH needs a recorded acknowledgement."""

_PART = re.compile(r"\[(\d+)\]|\[\"((?:[^\"\\]|\\.)*)\"\]|\.?([^.\[]+)")


def path_sort_key(path: str) -> tuple[tuple[int, int | str], ...]:
    """``rewards[10].rates`` after ``rewards[2].rates``: list indexes compare as numbers."""
    key: list[tuple[int, int | str]] = []
    for index, quoted, name in _PART.findall(path):
        if index:
            key.append((0, int(index)))
        else:
            key.append((1, quoted or name))
    return tuple(key)


@dataclass(frozen=True)
class Finding:
    """One place in the plan that a rule objects to.

    ``path`` is the key path (``upgrades[0].any[2]``; ``""`` for the plan as a whole) and
    ``line`` its 1-based line in the file — of the key itself, or of its nearest written
    parent when the key is left to its default — or None (no file, or a plan-level finding).
    """

    rule: str
    severity: str
    path: str
    line: int | None
    message_zh: str
    message_en: str
    source: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "path": self.path,
            "line": self.line,
            "message_zh": self.message_zh,
            "message_en": self.message_en,
            "source": self.source,
        }

    @property
    def sort_key(self) -> tuple[Any, ...]:
        return (SEVERITIES.index(self.severity), path_sort_key(self.path), self.rule, self.message_en)


@dataclass(frozen=True)
class LintReport:
    """Findings for one plan version under one jurisdiction, most serious first, then by path.

    ``blocking`` is true when any finding is CRIT: the plan cannot be activated (and
    ``weishang plan lint`` exits 1, see ``exit_code``). ``rules_applied`` lists the rules
    that were checked; ``not_checked`` the figure rules skipped because their figures were
    not given.
    """

    plan: str
    version: int
    jurisdiction: str
    findings: tuple[Finding, ...]
    rules_applied: tuple[str, ...] = ()
    not_checked: tuple[str, ...] = ()
    file: str | None = field(default=None, compare=False)

    @property
    def blocking(self) -> bool:
        return any(f.severity == "CRIT" for f in self.findings)

    @property
    def exit_code(self) -> int:
        """1 when blocking (any CRIT), else 0 — the exit status of ``weishang plan lint``."""
        return 1 if self.blocking else 0

    def counts(self) -> dict[str, int]:
        """{"CRIT": n, "HIGH": n, "MED": n, "INFO": n}."""
        out = dict.fromkeys(SEVERITIES, 0)
        for finding in self.findings:
            out[finding.severity] += 1
        return out

    def by_rule(self, rule: str) -> list[Finding]:
        return [f for f in self.findings if f.rule == rule]

    def as_json(self) -> dict[str, Any]:
        """The plan-format.md lint output as a JSON-ready dict (``to_json`` gives the text)."""
        return {
            "plan": self.plan,
            "version": self.version,
            "jurisdiction": self.jurisdiction,
            "findings": [f.as_dict() for f in self.findings],
            "blocking": self.blocking,
        }

    def to_json(self, indent: int | None = None) -> str:
        return json.dumps(self.as_json(), ensure_ascii=False, indent=indent)

    def as_text(self, lang: str = "both") -> str:
        """A report for people: a summary line, then each finding with where, why and the
        source. ``lang`` is ``"zh"``, ``"en"`` or ``"both"`` (Chinese first)."""
        if lang not in ("zh", "en", "both"):
            raise ValueError(f"lang must be 'zh', 'en' or 'both', not {lang!r}")
        counts = self.counts()
        tally = ", ".join(f"{n} {sev}" for sev, n in counts.items())
        where = f"{self.file}: " if self.file else ""
        verdict_en = "BLOCKING: activation refused until every CRIT is fixed" if self.blocking else "not blocking"
        verdict_zh = "存在 CRIT：修正前不能启用" if self.blocking else "无阻断项"
        lines = [
            f"{where}{self.plan} v{self.version} — jurisdiction {self.jurisdiction}: {tally} — "
            + {"en": verdict_en, "zh": verdict_zh, "both": f"{verdict_zh} / {verdict_en}"}[lang]
        ]
        if not self.findings:
            lines.append("  no findings / 未发现问题")
        for f in self.findings:
            at = f.path or "(plan)"
            if f.line is not None:
                at += f" (line {f.line})"
            lines.append(f"{f.severity:<4} {f.rule:<9} {at}")
            if lang in ("zh", "both"):
                lines.append(f"     {f.message_zh}")
            if lang in ("en", "both"):
                lines.append(f"     {f.message_en}")
            lines.append(f"     source: {f.source}")
        if self.not_checked:
            lines.append("not checked (no simulated figures): " + ", ".join(self.not_checked))
        return "\n".join(lines)
