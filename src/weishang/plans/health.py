"""Channel health: the linter's rules on simulated figures, applied to one month's figures.

Pure Python like the rest of ``weishang.plans``. The same rule functions (``plans.lint.simulated``:
CN-CRIM, US-NONP, EU-14-SIM, ECON-LOSS, ECON-INV) judge a forecast (the simulator's figures) and
a live month (``monitor.selectors.channel_health``); this module only runs them and turns their
hits into a verdict per rule: OK, WARN (the rule fired and is HIGH/MED) or CRIT (it fired and is
CRIT), or SKIPPED when a figure the rule needs is missing.

    verdicts = judge(plan, "cn", {"loss_share": Decimal("0.62"), ...})
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from .lint import Thresholds, rules_for
from .lint.base import Context
from .schema import Plan

OK, WARN, CRIT, SKIPPED = "OK", "WARN", "CRIT", "SKIPPED"
BREACHES = (WARN, CRIT)

# The simulator's wording, and the live month's: the rules' messages speak of "the simulation".
_LIVE_WORDS = (
    ("In the simulation", "In the live figures"),
    ("in the simulation", "in the live figures"),
    ("模拟中", "实际数据中"),
)


@dataclass(frozen=True)
class Verdict:
    """One rule's answer on one month's figures."""

    rule: str
    status: str  # OK | WARN | CRIT | SKIPPED
    severity: str  # the rule's own (CRIT, HIGH …)
    source: str  # the citation
    title_en: str
    title_zh: str
    figures: dict[str, str]  # the figures the rule read, as strings
    message_en: str = ""
    message_zh: str = ""

    @property
    def breach(self) -> bool:
        return self.status in BREACHES

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"breach": self.breach}


def _live(text: str) -> str:
    for old, new in _LIVE_WORDS:
        text = text.replace(old, new)
    return text


def judge(
    plan: Plan,
    jurisdiction: str,
    figures: Mapping[str, Decimal | int | None],
    thresholds: Thresholds | None = None,
    *,
    live: bool = True,
) -> list[Verdict]:
    """The verdict of every figure rule of ``jurisdiction`` on ``figures`` (keys of
    ``plans.lint.FIGURES``; None = not known). ``live``: word the messages for live figures."""
    known = {k: Decimal(str(v)) for k, v in figures.items() if v is not None}
    ctx = Context(plan=plan, figures=known, thresholds=thresholds or Thresholds())
    out = []
    for rule in rules_for(jurisdiction):
        if rule.kind != "figures":
            continue
        read = {k: str(known[k]) for k in rule.figures if k in known}
        if len(read) < len(rule.figures):
            out.append(Verdict(rule.id, SKIPPED, rule.severity, rule.source, rule.title_en, rule.title_zh, read))
            continue
        hits = list(rule.check(ctx))
        if not hits:
            out.append(Verdict(rule.id, OK, rule.severity, rule.source, rule.title_en, rule.title_zh, read))
            continue
        severity = hits[0].severity or rule.severity
        en = " ".join(h.message_en for h in hits)
        zh = "".join(h.message_zh for h in hits)
        out.append(
            Verdict(
                rule.id,
                CRIT if severity == "CRIT" else WARN,
                severity,
                rule.source,
                rule.title_en,
                rule.title_zh,
                read,
                _live(en) if live else en,
                _live(zh) if live else zh,
            )
        )
    return out
