"""Template filters for the plan pages: a plan's keys and words by their label (rewards.labels)."""

from django import template

from weishang.rewards import labels

register = template.Library()


@register.filter
def plan_value(value, key: str) -> str:
    """``{{ version.kind|plan_value:"kind" }}`` → 层级微商制度."""
    return labels.value_text(key, value)


@register.filter
def plan_path(path: str) -> str:
    """``{{ finding.path|plan_path }}`` → 等级 第 5 项 · 入门条件 · 首批进货额."""
    return labels.path_label(path)


@register.filter
def severity(code: str) -> str:
    """``{{ finding.severity|severity }}`` → 严重 (CRIT)."""
    return labels.severity_label(code)
