"""The scenario file: the market the simulator plays a plan in (design/plan-format.md, "Scenario file").

Pure Python like the rest of ``weishang.plans``. A scenario is read with the plan loader's
machinery, so problems come out the same way: ``ScenarioError`` (a ``PlanError``) holding
``PlanIssue``s with the file, 1-based line and column, the key path and a sentence in English
and Chinese — never a traceback. Numbers are read straight from their text into ``Decimal``
(a Python float is refused); probabilities become floats only when the simulator draws.

Keys that name levels (``founders``, ``recruitment.entry_level_mix``) and the product are
checked against a plan with :func:`check_against_plan`, which reports at the scenario's own
lines.

Keys beyond the design's list (``name``, ``start``, ``product``, ``restock_policy.upgrade_reach``,
``campaigns[].name`` / ``retail_boost``) are additions documented in docs/simulator.md.
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, PrivateAttr, ValidationError, model_validator
from pydantic_core import ErrorDetails

from ..loader import PlanError, PlanIssue, Positions, format_path, issues_for, read_yaml
from ..schema import (
    Issue,
    Money,
    NonNegInt,
    PosInt,
    Rate,
    StrictBool,
    Text,
    did_you_mean,
    exact_number,
    fmt_num,
    rule_error,
)

__all__ = [
    "Scenario",
    "ScenarioError",
    "check_against_plan",
    "load_scenario",
    "parse_scenario",
    "scenario_from_data",
    "scenario_json_schema",
]

Number = Annotated[Decimal, Field(ge=0, allow_inf_nan=False), BeforeValidator(exact_number)]
"""A non-negative number (a count or a multiple that may have decimals)."""

Probability = Rate
"""A probability between 0 and 1."""

MAX_MONTHS = 600
CAMPAIGN_KINDS = ("meeting", "training", "promotion", "advertising", "other")
_START_RE = re.compile(r"^(19|20|21)\d\d-(0[1-9]|1[0-2])$")


class ScenarioError(PlanError):
    """A scenario file that cannot be used; ``issues`` says where and why (as ``PlanError``)."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, validate_default=False)


class Customers(_Model):
    mean: Number = Field(description="average customers an agent serves a month")
    sd: Number = Field(default=Decimal(0), description="spread of that average between agents")


class Recruitment(_Model):
    contacts_per_agent_month: Number = Field(description="people an active agent pitches each month")
    join_probability: Probability = Field(description="chance a pitched person joins, before saturation")
    entry_level_mix: dict[Annotated[str, Field(min_length=1)], Probability] | None = Field(
        default=None, description="{level: share} of the levels recruits join at; shares add up to 1"
    )

    @model_validator(mode="after")
    def _mix_adds_up(self) -> Recruitment:
        if self.entry_level_mix is not None:
            if not self.entry_level_mix:
                raise rule_error(
                    (
                        ("entry_level_mix",),
                        "expected at least one level: {level: share}, e.g. {vip: 0.6, city: 0.4}",
                        "至少写一个等级：{等级: 占比}，如 {vip: 0.6, city: 0.4}",
                    )
                )
            total = sum(self.entry_level_mix.values(), Decimal(0))
            if total != 1:
                raise rule_error(
                    (
                        ("entry_level_mix",),
                        f"the shares add up to {fmt_num(total)}; expected exactly 1",
                        f"各等级占比之和为 {fmt_num(total)}；应恰好为 1",
                    )
                )
        return self


class Retail(_Model):
    customers_per_agent_month: Customers = Field(description="{mean, sd}: customers an agent serves a month")
    units_per_customer: PosInt = Field(default=1, description="units each customer buys")
    own_use_units_month: NonNegInt = Field(default=0, description="units an agent uses themself each month")


class RestockPolicy(_Model):
    target_months_of_stock: Number = Field(
        default=Decimal(2), description="agents restock up to this many months of their expected outflow"
    )
    buy_to_upgrade: StrictBool = Field(
        default=False, description="agents buy extra stock to reach an upgrade or award threshold within reach"
    )
    upgrade_reach: Probability = Field(
        default=Decimal("0.5"),
        description="within reach = the extra purchase needed is at most this share of the threshold (added key)",
    )


class Attrition(_Model):
    base_monthly: Probability = Field(default=Decimal(0), description="chance an agent quits in a month")
    loss_sensitivity: Number = Field(
        default=Decimal(0), description="how much faster agents quit as their loss grows (0 = not at all)"
    )


class Campaign(_Model):
    month: PosInt = Field(description="month of the run, 1 = the first")
    kind: Literal["meeting", "training", "promotion", "advertising", "other"] = Field(
        description="meeting (招商会) | training | promotion | advertising | other"
    )
    name: Text | None = Field(default=None, description="display name (added key)")
    extra_join_probability: Probability = Field(default=Decimal(0), description="added to join_probability that month")
    retail_boost: Number = Field(
        default=Decimal(0), description="extra share of customers that month, 0.2 = +20% (added key)"
    )
    cost: Money = Field(default=Decimal(0), description="yuan the brand spends on it")


class Product(_Model):
    sku: Text | None = Field(default=None, description="the SKU simulated; default: the plan's first SKU")
    retail: Money | None = Field(default=None, description="retail price, yuan; default: the plan's")
    unit_cost: Money = Field(default=Decimal(0), description="what one unit costs the brand to make, yuan")


class Scenario(_Model):
    name: Text | None = Field(default=None, description="display name (added key)")
    months: Annotated[int, Field(ge=1, le=MAX_MONTHS, strict=True)] = Field(default=36, description="months run")
    seed: NonNegInt = Field(default=0, description="random seed: the same seed gives the same numbers")
    start: Annotated[str, Field(strict=True)] = Field(
        default="2026-01", description="calendar month of month 1, YYYY-MM (added key)"
    )
    market_size: PosInt = Field(description="people the brand can reach at all")
    founders: dict[Annotated[str, Field(min_length=1)], PosInt] = Field(
        min_length=1, description="{level: count} of agents at launch"
    )
    recruitment: Recruitment
    retail: Retail
    restock_policy: RestockPolicy = Field(default_factory=RestockPolicy)
    attrition: Attrition = Field(default_factory=Attrition)
    campaigns: list[Campaign] = Field(default_factory=list)
    product: Product = Field(default_factory=Product)

    _source_file: str | None = PrivateAttr(default=None)
    _positions: Any = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _checks(self) -> Scenario:
        issues: list[Issue] = []
        if not _START_RE.match(self.start):
            issues.append(
                (
                    ("start",),
                    f"'{self.start}' is not a month; expected YYYY-MM, e.g. 2026-01",
                    f"“{self.start}”不是月份；应为 YYYY-MM，如 2026-01",
                )
            )
        for i, campaign in enumerate(self.campaigns):
            if campaign.month > self.months:
                issues.append(
                    (
                        ("campaigns", i, "month"),
                        f"month {campaign.month} is after the run's last month ({self.months}); expected 1 to "
                        f"{self.months}",
                        f"第 {campaign.month} 月晚于模拟的最后一个月（{self.months}）；应在 1 到 {self.months} 之间",
                    )
                )
        if issues:
            raise rule_error(*issues)
        return self

    @property
    def source_file(self) -> str | None:
        return self._source_file

    def position(self, path: str) -> tuple[int, int]:
        """(line, column) of the value at ``path`` in the file, (0, 0) when unknown."""
        if self._positions is None:
            return (0, 0)
        return self._positions.values.get(path) or self._positions.keys.get(path) or (0, 0)

    def key_position(self, path: str) -> tuple[int, int]:
        if self._positions is None:
            return (0, 0)
        return self._positions.keys.get(path) or (0, 0)


# ---------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------


def load_scenario(source: str | Path, *, text: str | None = None) -> Scenario:
    """Load the scenario file at ``source`` (or ``text``, reported under the name ``source``)."""
    filename = str(source)
    if text is None:
        try:
            text = Path(source).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise ScenarioError(
                [
                    PlanIssue(
                        filename,
                        0,
                        0,
                        "",
                        f"cannot read the scenario file: {reason}; expected a readable UTF-8 YAML file",
                        f"无法读取场景文件：{reason}；应为可读的 UTF-8 YAML 文件",
                        "io",
                    )
                ]
            ) from None
    return parse_scenario(text, filename)


def parse_scenario(text: str, filename: str = "<scenario>") -> Scenario:
    """Parse and validate scenario YAML ``text``; ``filename`` names it in issues."""
    try:
        data, pos = read_yaml(text, filename)
    except PlanError as err:
        raise ScenarioError(err.issues) from None
    issues = [
        PlanIssue(
            filename,
            second[0],
            second[1],
            format_path(parts),
            f"{format_path(parts)}: this key is written twice (lines {first[0]} and {second[0]}); keep one",
            f"{format_path(parts)}：该键写了两次（第 {first[0]} 行和第 {second[0]} 行）；请只保留一个",
            "duplicate_key",
        )
        for parts, first, second in pos.duplicates
    ]
    if data is None:
        issues.append(
            PlanIssue(
                filename,
                1,
                1,
                "",
                "the file is empty; expected a scenario: a mapping with market_size, founders, recruitment and retail",
                "文件为空；应为包含 market_size、founders、recruitment、retail 的场景",
                "empty",
            )
        )
    elif not isinstance(data, dict):
        issues.append(
            PlanIssue(
                filename,
                1,
                1,
                "",
                "the file does not hold a mapping; expected a scenario: a "
                "mapping with market_size, founders, recruitment and retail",
                "文件内容不是映射；应为包含 market_size、founders、recruitment、retail 的场景",
                "type",
            )
        )
    if issues:
        raise ScenarioError(issues)
    return _validate(data, filename, pos)


def scenario_from_data(data: Any, filename: str = "<data>") -> Scenario:
    """Validate an already-parsed mapping (numbers as int/Decimal/str) into a ``Scenario``."""
    return _validate(data, filename, Positions())


def scenario_json_schema() -> dict[str, Any]:
    schema = Scenario.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Weishang plan simulator scenario"
    schema["description"] = "The market a bonus plan is simulated in; keys documented in docs/simulator.md."
    return schema


def _validate(data: Any, filename: str, pos: Positions) -> Scenario:
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        issues: list[PlanIssue] = []
        for error in exc.errors(include_url=False):
            issues.extend(_scenario_issues(error, data, filename, pos))
        typo_for = {_parent(i.path) + i.suggestion for i in issues if i.suggestion}
        issues = [i for i in issues if not (i.code == "missing" and i.path in typo_for)]
        issues.sort(key=lambda i: (i.line, i.column, i.path))
        seen, out = set(), []
        for issue in issues:
            if (issue.path, issue.message) not in seen:
                seen.add((issue.path, issue.message))
                out.append(issue)
        raise ScenarioError(out) from None
    scenario._source_file = filename
    scenario._positions = pos
    return scenario


def _parent(path: str) -> str:
    cut = max(path.rfind("."), path.rfind("]"))
    return path[: cut + 1] if cut >= 0 else ""


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The scenario model that holds the key at ``loc`` (for missing and unknown keys)."""
    import typing

    tp: Any = Scenario
    for el in loc:
        tp = _strip(tp)
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            field = next((f for name, f in tp.model_fields.items() if (f.alias or name) == el), None)
            if field is None:
                return None
            tp = field.annotation
        elif typing.get_origin(tp) is list:
            tp = typing.get_args(tp)[0]
        elif typing.get_origin(tp) is dict:
            tp = typing.get_args(tp)[1]
        else:
            return None
    tp = _strip(tp)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _strip(tp: Any) -> Any:
    import types
    import typing

    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp


def _scenario_issues(error: ErrorDetails, data: Any, filename: str, pos: Positions) -> list[PlanIssue]:
    kind = error["type"]
    loc = tuple(el for el in error["loc"] if el != "[key]")
    if kind not in ("missing", "extra_forbidden"):
        return issues_for(error, data, filename, pos)  # the plan loader's sentences
    parts = tuple(el if isinstance(el, int | str) else str(el) for el in loc)
    path = format_path(parts)
    model = _model_at(loc[:-1])
    if kind == "missing":
        desc = ""
        if model is not None:
            field = next((f for n, f in model.model_fields.items() if (f.alias or n) == loc[-1]), None)
            if field is not None and field.description:
                desc = f" ({field.description})"
        line, column = pos.value_mark(parts[:-1])
        return [
            PlanIssue(
                filename,
                line,
                column,
                path,
                f"{path}: this required key is missing{desc}; add it",
                f"{path}：缺少必填项；请补上",
                "missing",
            )
        ]
    known = [f.alias or n for n, f in model.model_fields.items()] if model is not None else []
    hint, hint_zh = did_you_mean(parts[-1], known)
    line, column = pos.key_mark(parts)
    suggestion = re.findall(r"'([^']*)'", hint)[0] if hint else ""
    return [
        PlanIssue(
            filename,
            line,
            column,
            path,
            f"{path}: unknown key '{parts[-1]}'{hint}" + (f"; the keys here are: {', '.join(known)}" if known else ""),
            f"{path}：未知的键“{parts[-1]}”{hint_zh}" + (f"；可用的键：{', '.join(known)}" if known else ""),
            "extra_forbidden",
            suggestion,
        )
    ]


# ---------------------------------------------------------------------------------------
# Against a plan
# ---------------------------------------------------------------------------------------


def check_against_plan(scenario: Scenario, plan: Any) -> None:
    """Raise ``ScenarioError`` when the scenario names levels or products the plan does not have."""
    filename = scenario.source_file or "<scenario>"
    codes = list(plan.level_codes)
    code_list = ", ".join(codes)
    issues: list[PlanIssue] = []

    def issue(path: str, en: str, zh: str, *, key: bool = False) -> None:
        line, column = scenario.key_position(path) if key else scenario.position(path)
        issues.append(PlanIssue(filename, line, column, path, f"{path}: {en}", f"{path}：{zh}", "plan_mismatch"))

    for section, mapping in (
        ("founders", scenario.founders),
        ("recruitment.entry_level_mix", scenario.recruitment.entry_level_mix or {}),
    ):
        for code in mapping:
            if code not in codes:
                hint, hint_zh = did_you_mean(code, codes)
                issue(
                    f"{section}.{code}" if re.match(r"^[A-Za-z0-9_][A-Za-z0-9_\-]*$", code) else f'{section}["{code}"]',
                    f"'{code}' is not a level of plan {plan.id}{hint}; expected one of: {code_list}",
                    f"“{code}”不是方案 {plan.id} 的等级{hint_zh}；应为：{code_list}",
                    key=True,
                )
    gift_packs = {level.entry.gift_pack for level in plan.levels if level.entry.gift_pack}
    sku = scenario.product.sku
    if sku is None:
        candidates = [s for s in plan.prices if s not in gift_packs]
        if not candidates:
            issue(
                "product",
                "the plan lists no SKU under prices:; name the product simulated: product: {sku: CODE, retail: PRICE}",
                "方案的 prices 中没有商品；请写明模拟的商品：product: {sku: 代码, retail: 零售价}",
            )
        else:
            sku = candidates[0]
    if sku is not None and scenario.product.retail is None and "retail" not in plan.prices.get(sku, {}):
        issue(
            "product.sku" if scenario.product.sku else "product",
            f"the plan has no retail price for {sku}; add product.retail (yuan)",
            f"方案中 {sku} 没有零售价；请写 product.retail（元）",
        )
    for level in plan.levels:
        pack = level.entry.gift_pack
        if pack and "retail" not in plan.prices.get(pack, {}):
            issue(
                "product",
                f"the gift pack {pack} of level {level.code} has no retail price in the plan's prices:; "
                "the simulator needs it to price the entry",
                f"等级 {level.code} 的礼包 {pack} 在方案 prices 中没有零售价；模拟需要它来计算入门价",
            )
    if issues:
        raise ScenarioError(issues)
