"""Read a plan file: YAML → ``Plan``, or a ``PlanError`` listing every problem found.

Each problem is a ``PlanIssue`` with the file, the 1-based line and column, the key path
(``levels[2].discount``) and a sentence saying what is expected, in English and Chinese —
never a traceback. Numbers in the YAML become ``Decimal`` straight from their text
(``0.1`` is ``Decimal('0.1')``), never through a float.
"""

from __future__ import annotations

import re
import types
import typing
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from .schema import REWARD_TYPES, Plan, did_you_mean

__all__ = [
    "PlanError",
    "PlanIssue",
    "Positions",
    "format_path",
    "issues_for",
    "load_plan",
    "parse_plan",
    "plan_from_data",
    "plan_json_schema",
    "read_yaml",
]

PathParts = tuple[str | int, ...]


@dataclass(frozen=True)
class PlanIssue:
    """One problem in a plan file. ``line`` and ``column`` are 1-based (0 when unknown)."""

    file: str
    line: int
    column: int
    path: str
    message: str
    message_zh: str = ""
    code: str = ""
    suggestion: str = ""  # for an unknown key: the known key it is probably a typo of

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "message": self.message,
            "message_zh": self.message_zh,
            "code": self.code,
            "suggestion": self.suggestion,
        }


class PlanError(ValueError):
    """A plan file that cannot be used; ``issues`` says where and why."""

    def __init__(self, issues: list[PlanIssue]):
        self.issues = list(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))


# ---------------------------------------------------------------------------------------
# YAML with exact numbers and positions
# ---------------------------------------------------------------------------------------


class _Loader(yaml.SafeLoader):
    """SafeLoader that reads floats as Decimal."""


def _construct_decimal(loader: yaml.SafeLoader, node: yaml.ScalarNode) -> Any:
    text = str(loader.construct_scalar(node)).replace("_", "").strip()
    lowered = text.lower()
    if lowered in (".inf", "+.inf"):
        return Decimal("Infinity")
    if lowered == "-.inf":
        return Decimal("-Infinity")
    if lowered == ".nan":
        return Decimal("NaN")
    if ":" in text:  # YAML 1.1 base 60, e.g. 1:30.5
        sign = -1 if text.startswith("-") else 1
        total = Decimal(0)
        for part in text.lstrip("+-").split(":"):
            total = total * 60 + Decimal(part)
        return sign * total
    try:
        return Decimal(text)
    except InvalidOperation:
        return str(node.value)


_Loader.add_constructor("tag:yaml.org,2002:float", _construct_decimal)

_PLAIN_KEY = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_\-]*$")


def format_path(parts: PathParts) -> str:
    """('levels', 2, 'discount') → 'levels[2].discount'."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _PLAIN_KEY.match(part):
            out += f".{part}" if out else part
        else:
            out += '["' + part.replace("\\", "\\\\").replace('"', '\\"') + '"]'
    return out


@dataclass
class Positions:
    """Where each key path sits in the file: the key's mark and the value's mark (``read_yaml``
    makes it; a file read some other way has an empty one and every issue is at line 1)."""

    keys: dict[str, tuple[int, int]] = field(default_factory=dict)
    values: dict[str, tuple[int, int]] = field(default_factory=dict)
    duplicates: list[tuple[PathParts, tuple[int, int], tuple[int, int]]] = field(default_factory=list)

    def key_mark(self, parts: PathParts) -> tuple[int, int]:
        """Key position of ``parts``, else of its nearest written ancestor."""
        return self._nearest(parts, self.keys)

    def value_mark(self, parts: PathParts) -> tuple[int, int]:
        """Value position of ``parts``; for a key not written, its nearest written container."""
        return self._nearest(parts, self.values)

    def _nearest(self, parts: PathParts, table: dict[str, tuple[int, int]]) -> tuple[int, int]:
        path = format_path(parts)
        if path in table:
            return table[path]
        for n in range(len(parts) - 1, -1, -1):
            path = format_path(parts[:n])
            if path in self.values:
                return self.values[path]
        return (1, 1)


def _mark(node: yaml.Node) -> tuple[int, int]:
    return (node.start_mark.line + 1, node.start_mark.column + 1)


def _walk(node: yaml.Node, parts: PathParts, pos: Positions) -> None:
    path = format_path(parts)
    pos.values.setdefault(path, _mark(node))
    pos.keys.setdefault(path, _mark(node))
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, tuple[int, int]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == "tag:yaml.org,2002:merge":
                continue
            key = str(key_node.value)
            child = (*parts, key)
            if key in seen:
                pos.duplicates.append((child, seen[key], _mark(key_node)))
            seen[key] = _mark(key_node)
            child_path = format_path(child)
            pos.keys[child_path] = _mark(key_node)
            pos.values[child_path] = _mark(value_node)
            _walk(value_node, child, pos)
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            child = (*parts, i)
            pos.keys[format_path(child)] = _mark(item)
            pos.values[format_path(child)] = _mark(item)
            _walk(item, child, pos)


def read_yaml(text: str, filename: str) -> tuple[Any, Positions]:
    """The YAML document in ``text`` and where each of its keys and values sits; a
    :class:`PlanError` naming the line for a file that is not YAML. Plans and simulation
    scenarios are read with it."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        problem = exc.problem or "not valid YAML"
        if exc.context and exc.context_mark is not None:
            problem = f"{problem} ({exc.context} that starts at line {exc.context_mark.line + 1})"
        elif exc.context:
            problem = f"{problem} ({exc.context})"
        raise PlanError(
            [
                PlanIssue(
                    filename,
                    line,
                    column,
                    "",
                    f"YAML syntax error: {problem}; the file must be valid YAML (check indentation, colons and quotes)",
                    f"YAML 语法错误：{problem}；请检查缩进、冒号和引号",
                    "yaml_syntax",
                )
            ]
        ) from None
    except yaml.YAMLError as exc:
        raise PlanError(
            [
                PlanIssue(
                    filename, 1, 1, "", f"cannot read the file as YAML: {exc}", f"无法作为 YAML 读取：{exc}", "yaml"
                )
            ]
        ) from None
    finally:
        loader.dispose()
    pos = Positions()
    if node is not None:
        _walk(node, (), pos)
    return data, pos


# ---------------------------------------------------------------------------------------
# Public entry points
# ---------------------------------------------------------------------------------------


def load_plan(source: str | Path, *, text: str | None = None) -> Plan:
    """Load the plan file at ``source`` (or ``text``, reported under the name ``source``)."""
    filename = str(source)
    if text is None:
        try:
            text = Path(source).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise PlanError(
                [
                    PlanIssue(
                        filename,
                        0,
                        0,
                        "",
                        f"cannot read the plan file: {reason}; expected a readable UTF-8 YAML file",
                        f"无法读取方案文件：{reason}；应为可读的 UTF-8 YAML 文件",
                        "io",
                    )
                ]
            ) from None
    return parse_plan(text, filename)


def parse_plan(text: str, filename: str = "<plan>") -> Plan:
    """Parse and validate plan YAML ``text``; ``filename`` names it in issues."""
    data, pos = read_yaml(text, filename)
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
                "the file is empty; expected a plan: a mapping with id, version, name, kind and levels",
                "文件为空；应为包含 id、version、name、kind、levels 的方案",
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
                f"the file holds {_describe(data)}; expected a plan: a mapping with id, version, name, kind and levels",
                "文件内容不是映射；应为包含 id、version、name、kind、levels 的方案",
                "type",
            )
        )
    if issues:
        raise PlanError(issues)
    return _validate(data, filename, pos)


def plan_from_data(data: Any, filename: str = "<data>") -> Plan:
    """Validate an already-parsed mapping (numbers as int/Decimal/str) into a ``Plan``."""
    return _validate(data, filename, Positions())


def plan_json_schema() -> dict[str, Any]:
    """JSON Schema (draft 2020-12) of the plan file."""
    schema = Plan.model_json_schema(by_alias=True, mode="validation")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Weishang bonus plan"
    schema["description"] = "A brand's agent system (代理制度 / 奖金制度); keys documented in docs/plans.md."
    return schema


def _validate(data: Any, filename: str, pos: Positions) -> Plan:
    try:
        plan = Plan.model_validate(data)
    except ValidationError as exc:
        issues = []
        for error in exc.errors(include_url=False):
            issues.extend(issues_for(error, data, filename, pos))
        # A misspelt required key shows up twice: unknown 'discont', missing 'discount'.
        # The unknown-key sentence already names the right key, so drop the other one.
        typo_for = {_parent(i.path) + i.suggestion for i in issues if i.suggestion}
        issues = [i for i in issues if not (i.code == "missing" and i.path in typo_for)]
        issues.sort(key=lambda i: (i.line, i.column, i.path))
        raise PlanError(_dedupe(issues)) from None
    plan._source_lines = {path: mark[0] for path, mark in pos.keys.items() if path}
    plan._source_file = filename
    return plan


def _parent(path: str) -> str:
    """'levels[1].discont' → 'levels[1].'; 'kind' → ''."""
    cut = max(path.rfind("."), path.rfind("]"))
    return path[: cut + 1] if cut >= 0 else ""


def _dedupe(issues: list[PlanIssue]) -> list[PlanIssue]:
    seen, out = set(), []
    for issue in issues:
        key = (issue.path, issue.message)
        if key not in seen:
            seen.add(key)
            out.append(issue)
    return out


# ---------------------------------------------------------------------------------------
# pydantic errors → sentences
# ---------------------------------------------------------------------------------------


def _loc_parts(loc: tuple[Any, ...], data: Any) -> PathParts:
    """pydantic's loc → key path in the data, dropping the reward-type tag."""
    parts: list[str | int] = []
    cur = data
    for el in loc:
        if el == "[key]":
            continue
        if (
            len(parts) == 2
            and parts[0] == "rewards"
            and isinstance(cur, dict)
            and el == cur.get("type")
            and el in REWARD_TYPES
        ):
            continue  # the discriminated union's tag
        if isinstance(cur, dict) and el in cur:
            parts.append(el)
            cur = cur[el]
        elif isinstance(cur, list) and isinstance(el, int) and 0 <= el < len(cur):
            parts.append(el)
            cur = cur[el]
        else:
            parts.append(el if isinstance(el, int | str) else str(el))
            cur = None
    return tuple(parts)


def _unwrap(tp: Any, el: Any) -> Any:
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            tagged = [a for a in args if isinstance(a, type) and issubclass(a, BaseModel) and "type" in a.model_fields]
            if el is not None and tagged:
                match = [a for a in tagged if typing.get_args(a.model_fields["type"].annotation) == (el,)]
                if match:
                    return _Tagged(match[0])
            if len(args) == 1:
                tp = args[0]
            else:
                return tp
        else:
            return tp


class _Tagged:
    """Marks a union member chosen by its tag: the tag itself is consumed from loc."""

    def __init__(self, model: type[BaseModel]):
        self.model = model


def _model_after_tag(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """Like _model_at, but understands the reward tag element in loc."""
    tp: Any = Plan
    i = 0
    while i < len(loc):
        el = loc[i]
        tp = _unwrap(tp, el)
        if isinstance(tp, _Tagged):
            tp = tp.model
            i += 1
            continue
        if isinstance(tp, type) and issubclass(tp, BaseModel):
            fld = next((f for name, f in tp.model_fields.items() if (f.alias or name) == el or name == el), None)
            if fld is None:
                return None
            tp = fld.annotation
        elif typing.get_origin(tp) is list:
            tp = typing.get_args(tp)[0]
        elif typing.get_origin(tp) is dict:
            tp = typing.get_args(tp)[1]
        else:
            return None
        i += 1
    tp = _unwrap(tp, None)
    if isinstance(tp, _Tagged):
        tp = tp.model
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _known_keys(model: type[BaseModel]) -> list[str]:
    return [f.alias or name for name, f in model.model_fields.items()]


def _describe(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | int):
        return f"the number {value}"
    if isinstance(value, float):
        return f"the float {value!r}"
    if isinstance(value, str):
        return f"the text '{value}'"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return type(value).__name__


def _describe_zh(value: Any) -> str:
    if value is None:
        return "空值（null）"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal | int | float):
        return f"数字 {value}"
    if isinstance(value, str):
        return f"文本“{value}”"
    if isinstance(value, dict):
        return "映射"
    if isinstance(value, list):
        return "列表"
    return type(value).__name__


def _num(value: Any) -> str:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f") if value == value.to_integral_value() else format(value, "f")
    return str(value)


_EXPECTED = {
    "int_type": ("a whole number", "整数"),
    "int_parsing": ("a whole number", "整数"),
    "int_from_float": ("a whole number", "整数"),
    "decimal_type": ("a number", "数字"),
    "decimal_parsing": ("a number", "数字"),
    "plan_not_number": ("a number", "数字"),
    "plan_float": ("an exact number (Decimal or text)", "精确数字（Decimal 或文本）"),
    "string_type": ("text", "文本"),
    "bool_type": ("true or false", "true 或 false"),
    "bool_parsing": ("true or false", "true 或 false"),
    "list_type": ("a list", "列表"),
    "dict_type": ("a mapping (key: value)", "映射（键: 值）"),
    "model_type": ("a mapping (key: value)", "映射（键: 值）"),
    "model_attributes_type": ("a mapping (key: value)", "映射（键: 值）"),
}


def issues_for(error: ErrorDetails, data: Any, filename: str, pos: Positions) -> list[PlanIssue]:
    """One pydantic validation ``error`` of ``data`` (read from ``filename``) as the loader's
    sentences, in English and Chinese, at the line and column ``pos`` gives."""
    kind = error["type"]
    loc = tuple(error["loc"])
    parts = _loc_parts(loc, data)
    ctx = error.get("ctx") or {}
    value = error.get("input")

    hint = ""
    if kind == "plan_rule":
        out = []
        for sub, en, zh, *at in ctx["issues"]:
            full = (*parts, *sub)
            path = format_path(full)
            line, column = pos.key_mark(full) if at == ["key"] else pos.value_mark(full)
            out.append(
                PlanIssue(
                    filename, line, column, path, f"{path}: {en}" if path else en, f"{path}：{zh}" if path else zh, kind
                )
            )
        return out

    path = format_path(parts)
    where = f"{path}: " if path else ""
    where_zh = f"{path}：" if path else ""
    line, column = pos.value_mark(parts)

    if kind == "missing":
        model = _model_after_tag(loc[:-1])
        desc = ""
        if model is not None:
            fld = next((f for n, f in model.model_fields.items() if (f.alias or n) == loc[-1]), None)
            if fld is not None and fld.description:
                desc = f" ({fld.description})"
        line, column = pos.value_mark(parts[:-1])
        en = f"{where}this required key is missing{desc}; add it"
        zh = f"{where_zh}缺少必填项；请补上"
    elif kind == "extra_forbidden":
        model = _model_after_tag(loc[:-1])
        known = _known_keys(model) if model is not None else []
        hint, hint_zh = did_you_mean(parts[-1], known)
        line, column = pos.key_mark(parts)
        en = f"{where}unknown key '{parts[-1]}'{hint}" + (f"; the keys here are: {', '.join(known)}" if known else "")
        zh = f"{where_zh}未知的键“{parts[-1]}”{hint_zh}" + (f"；可用的键：{', '.join(known)}" if known else "")
    elif kind == "greater_than":
        en = f"{where}{_num(value)} is not above {_num(ctx['gt'])}; expected a number greater than {_num(ctx['gt'])}"
        zh = f"{where_zh}{_num(value)} 不大于 {_num(ctx['gt'])}；应大于 {_num(ctx['gt'])}"
    elif kind == "greater_than_equal":
        en = f"{where}{_num(value)} is below {_num(ctx['ge'])}; expected {_num(ctx['ge'])} or more"
        zh = f"{where_zh}{_num(value)} 小于 {_num(ctx['ge'])}；应不小于 {_num(ctx['ge'])}"
    elif kind == "less_than":
        en = f"{where}{_num(value)} is not below {_num(ctx['lt'])}; expected a number less than {_num(ctx['lt'])}"
        zh = f"{where_zh}{_num(value)} 不小于 {_num(ctx['lt'])}；应小于 {_num(ctx['lt'])}"
    elif kind == "less_than_equal":
        en = f"{where}{_num(value)} is above {_num(ctx['le'])}; expected {_num(ctx['le'])} or less"
        zh = f"{where_zh}{_num(value)} 大于 {_num(ctx['le'])}；应不大于 {_num(ctx['le'])}"
    elif kind == "decimal_max_places":
        en = f"{where}{_num(value)} has more than {ctx['decimal_places']} decimal places; amounts are yuan to the fen"
        zh = f"{where_zh}{_num(value)} 的小数超过 {ctx['decimal_places']} 位；金额精确到分"
    elif kind == "finite_number":
        en = f"{where}{value} is not a finite number; expected a number"
        zh = f"{where_zh}{value} 不是有限的数；应为数字"
    elif kind in _EXPECTED:
        exp_en, exp_zh = _EXPECTED[kind]
        en = f"{where}expected {exp_en}, got {_describe(value)}"
        zh = f"{where_zh}应为{exp_zh}，实际为{_describe_zh(value)}"
    elif kind in ("literal_error", "enum"):
        expected = str(ctx.get("expected", ""))
        options = re.findall(r"'([^']*)'", expected)
        hint, hint_zh = did_you_mean(value, options)
        en = f"{where}{_describe(value)} is not allowed{hint}; expected {expected}"
        zh = f"{where_zh}不允许{_describe_zh(value)}{hint_zh}；应为 {expected.replace(' or ', ' 或 ')}"
    elif kind == "union_tag_invalid":
        options = re.findall(r"'([^']*)'", str(ctx.get("expected_tags", "")))
        hint, hint_zh = did_you_mean(ctx.get("tag"), options)
        path = format_path((*parts, "type"))
        line, column = pos.value_mark((*parts, "type"))
        en = f"{path}: '{ctx.get('tag')}' is not a reward type{hint}; expected one of: {', '.join(options)}"
        zh = f"{path}：“{ctx.get('tag')}”不是奖励类型{hint_zh}；应为：{', '.join(options)}"
    elif kind == "union_tag_not_found":
        en = f"{where}the key 'type' is missing; expected one of: {', '.join(REWARD_TYPES)}"
        zh = f"{where_zh}缺少 type；应为：{', '.join(REWARD_TYPES)}"
    elif kind == "string_pattern_mismatch":
        en = (
            f"{where}{_describe(value)} is not a slug; expected lowercase letters, digits, '-' and '_', "
            "starting with a letter or digit (e.g. glow-tiered)"
        )
        zh = f"{where_zh}{_describe_zh(value)}不是合法代码；只能用小写字母、数字、“-”和“_”，如 glow-tiered"
        if parts and parts[-1] == "currency":
            en = f"{where}{_describe(value)} is not a currency code; expected three capital letters such as CNY"
            zh = f"{where_zh}{_describe_zh(value)}不是币种代码；应为三个大写字母，如 CNY"
    elif kind in ("string_too_short", "too_short"):
        if kind == "string_too_short":
            en, zh = f"{where}must not be empty; expected some text", f"{where_zh}不能为空"
        else:
            n = ctx.get("min_length", 1)
            en = f"{where}expected at least {n} item{'s' if n != 1 else ''}, got {ctx.get('actual_length', 0)}"
            zh = f"{where_zh}至少需要 {n} 项，实际 {ctx.get('actual_length', 0)} 项"
    elif kind == "string_too_long":
        en = f"{where}is too long; expected at most {ctx.get('max_length')} characters"
        zh = f"{where_zh}太长；最多 {ctx.get('max_length')} 个字符"
    else:
        msg = error.get("msg", "is not valid")
        en = f"{where}{msg}"
        zh = f"{where_zh}{msg}"
    suggestion = ""
    if kind == "extra_forbidden" and hint:
        suggestion = re.findall(r"'([^']*)'", hint)[0]
    return [PlanIssue(filename, line, column, path, en, zh, kind, suggestion)]
