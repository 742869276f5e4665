"""Template filters for the plan pages: a plan's keys and words by their label (rewards.labels)."""

import re

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe

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


# What a finding quotes from a plan file (``supply: company``) or a command (`weishang plan simulate`).
_QUOTED = re.compile(r"`([^`]+)`|\b([a-z][a-z0-9_]*: [A-Za-z0-9_.\-]+)")


@register.filter
def finding_text(text: str) -> str:
    """A linter finding's message with the plan-file syntax and commands it quotes set as code, so
    that a reader sees ``supply: company`` as what to write in the file, not as words."""
    escaped = str(escape(text))
    return mark_safe(_QUOTED.sub(lambda m: f"<code>{m.group(1) or m.group(2)}</code>", escaped))
