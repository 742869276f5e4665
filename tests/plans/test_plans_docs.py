"""docs/plans.md documents every key of the plan file."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from weishang.plans import schema

DOCS = Path(__file__).resolve().parents[2] / "docs" / "plans.md"


def _keys() -> set[str]:
    keys = set()
    for obj in vars(schema).values():
        if isinstance(obj, type) and issubclass(obj, BaseModel) and obj.__module__ == schema.__name__:
            keys |= {field.alias or name for name, field in obj.model_fields.items()}
    return keys


def test_every_plan_key_is_documented():
    text = DOCS.read_text(encoding="utf-8")
    keys = _keys()
    assert {"discount", "rates_by_level", "from", "any", "top_up", "refund_rate", "retail_sales"} <= keys
    missing = sorted(key for key in keys if f"`{key}" not in text)
    assert missing == []


def test_every_reward_type_and_condition_is_documented():
    text = DOCS.read_text(encoding="utf-8")
    for name in (*schema.REWARD_TYPES, *schema.CONDITION_KEYS):
        assert f"`{name}" in text, name
