"""The plan pages in Chinese (M7 item 15d): each version's state is named for what it is (a blocked
draft never reads "此版本已启用"), and the plan's keys and words show by their Chinese label, never
as the raw key written in the file (``first_order_amount``, ``tiered``, ``cn``)."""

from __future__ import annotations

import re
from html import unescape
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from weishang.core.models import Brand
from weishang.core.roles import role_group_name, roles_sync
from weishang.rewards import plan_versions
from weishang.rewards.labels import PLAN_KEYS, PLAN_VALUES
from weishang.rewards.models import PlanVersion

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "plans"
ACK = "保留云仓上级发货；已评估 CN-LOCK 风险"


def source(name: str, version: int = 1) -> str:
    text = (EXAMPLES / name).read_text(encoding="utf-8")
    return text.replace("version: 1\n", f"version: {version}\n", 1)


@pytest.fixture
def owner(client, catalog, django_user_model):
    Brand.objects.update(jurisdiction="cn")
    roles_sync()
    user = django_user_model.objects.create_user("owner-zh", password="pass-word-1", is_staff=True)
    user.groups.add(Group.objects.get(name=role_group_name("owner")))
    client.force_login(user)
    return client


@pytest.fixture
def versions(owner):
    """One version in each state, the demo's way: China, glow-retail-first in force."""
    retired = plan_versions.plan_upload(text=source("glow-retail-first.yaml"), filename="glow-retail-first.yaml")
    plan_versions.plan_activate(version=retired, acknowledgement=ACK)
    in_force = plan_versions.plan_upload(text=source("glow-retail-first.yaml", 2), filename="glow-retail-first.yaml")
    plan_versions.plan_activate(version=in_force, acknowledgement=ACK)
    activatable = plan_versions.plan_upload(text=source("glow-retail-first.yaml", 3), filename="v3.yaml")
    blocked = plan_versions.plan_upload(text=source("glow-tiered.yaml"), filename="glow-tiered.yaml")
    mall = plan_versions.plan_upload(text=source("glow-social-mall.yaml"), filename="glow-social-mall.yaml")
    unreadable = PlanVersion.objects.create(
        plan_id="old-format",
        version=1,
        name="旧格式",
        kind="tiered",
        jurisdiction="cn",
        source="id: old-format\nversion: one\n",
        sha256="x",
    )
    for v in (retired, in_force):
        v.refresh_from_db()
    return {
        "retired": retired,
        "in_force": in_force,
        "activatable": activatable,
        "blocked": blocked,
        "mall": mall,
        "draft": unreadable,
    }


def visible(response) -> str:
    """What a reader sees as words: the page without the plan file itself (shown as written, in
    <pre>), the file's syntax quoted as code (a finding's place in the file beside its label; its
    advice, 合法做法：supply: company — what to write instead), scripts, styles and tags. A finding's
    advice and legal source are left out too."""
    html = response.content.decode()
    html = re.sub(r"<(pre|code|script|style|template)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r'<td data-testid="lint-text">.*?</td>', " ", html, flags=re.S)
    html = re.sub(r"<[^>]+>", " ", html)
    return re.sub(r"\s+", " ", unescape(html))


RAW = sorted(
    {key for key in PLAN_KEYS if "_" in key}
    | {value for words in PLAN_VALUES.values() for value in words}
    | {
        "true",
        "false",
        "kind",
        "jurisdiction",
        "entry",
        "discount",
        "prices",
        "retail",
        "rewards",
        "upgrades",
        "settlement",
        "returns",
        "supply",
        "rates",
        "rate",
        "ladder",
        "prize",
        "period",
        "metric",
        "payer",
        "threshold",
        "currency",
        "timezone",
        "version",
        "levels",
    }
)


def raw_keys_in(text: str) -> list[str]:
    return [raw for raw in RAW if re.search(rf"(?<![\w\-/.]){re.escape(raw)}(?![\w\-/])", text)]


def test_each_state_has_its_own_words_and_a_blocked_draft_is_not_called_activated(owner, versions):
    listing = visible(owner.get(reverse("admin:rewards_planversion_changelist")))
    for words in ("生效中", "已停用", "可以启用", "被合规检查拦截", "草稿"):
        assert words in listing, words
    expected = {
        "retired": "已停用",
        "in_force": "生效中",
        "activatable": "可以启用",
        "blocked": "被合规检查拦截",
        "draft": "草稿",
    }
    for state, words in expected.items():
        page = visible(owner.get(reverse("admin:rewards_planversion_change", args=[versions[state].pk])))
        assert words in page, (state, words)
    blocked = visible(owner.get(reverse("admin:rewards_planversion_activate", args=[versions["blocked"].pk])))
    assert "已启用" not in blocked and "被合规检查拦截" in blocked and "不能启用" in blocked
    ready = visible(owner.get(reverse("admin:rewards_planversion_activate", args=[versions["activatable"].pk])))
    assert "已启用" not in ready and "可以启用" in ready
    done = visible(owner.get(reverse("admin:rewards_planversion_activate", args=[versions["in_force"].pk])))
    assert "此版本已启用" in done
    unreadable = owner.get(reverse("admin:rewards_planversion_activate", args=[versions["draft"].pk]))
    assert unreadable.status_code == 200 and "已启用" not in visible(unreadable)
    assert 'data-testid="activate"' not in unreadable.content.decode()
    refused = owner.post(
        reverse("admin:rewards_planversion_activate", args=[versions["draft"].pk]),
        {"active_from": "", "acknowledgement": "x"},
    )
    assert refused.status_code == 409
    versions["draft"].refresh_from_db()
    assert not versions["draft"].is_activated


def test_plan_pages_show_no_raw_key_in_chinese(owner, versions):
    pages = {"list": reverse("admin:rewards_planversion_changelist")}
    for state in ("in_force", "blocked", "mall", "activatable"):
        pages[f"plan {state}"] = reverse("admin:rewards_planversion_change", args=[versions[state].pk])
        pages[f"activate {state}"] = reverse("admin:rewards_planversion_activate", args=[versions[state].pk])
    compare = reverse("admin:rewards_planversion_compare", args=[versions["blocked"].pk])
    pages["compare tiered/retail-first"] = f"{compare}?other={versions['in_force'].pk}"
    pages["compare mall/tiered"] = (
        reverse("admin:rewards_planversion_compare", args=[versions["mall"].pk]) + f"?other={versions['blocked'].pk}"
    )
    found = {}
    for name, url in pages.items():
        response = owner.get(url)
        assert response.status_code == 200, name
        page = visible(response)
        raw = raw_keys_in(page)
        if raw:
            found[name] = {
                key: re.findall(rf".{{0,40}}(?<![\w\-/.]){re.escape(key)}(?![\w\-/]).{{0,40}}", page)[:2] for key in raw
            }
    assert found == {}
    tiered = visible(owner.get(pages["plan blocked"]))
    for label in ("首批进货额 100000", "层级微商", "中国", "推荐奖", "团队", "同级推荐人数"):
        assert label in tiered, label


SEVERITY_WORDS = {"CRIT": "严重 (CRIT)", "HIGH": "高 (HIGH)", "MED": "中 (MED)", "INFO": "提示 (INFO)"}


def test_lint_severities_show_by_their_chinese_label_with_the_code(owner, versions):
    """M7 item 3: a finding's severity reads 严重 (CRIT), 高 (HIGH)…, never a bare English code."""
    pages = [
        reverse("admin:rewards_planversion_change", args=[versions["blocked"].pk]),
        reverse("admin:rewards_planversion_activate", args=[versions["blocked"].pk]),
        reverse("admin:rewards_planversion_activate", args=[versions["activatable"].pk]),
    ]
    refused = owner.post(pages[1], {"active_from": "", "acknowledgement": ""})
    assert refused.status_code == 409
    seen = set()
    for page in [visible(owner.get(url)) for url in pages] + [visible(refused)]:
        for code, words in SEVERITY_WORDS.items():
            if words in page:
                seen.add(code)
            page = page.replace(words, " ")
        bare = re.findall(r".{0,30}\b(?:CRIT|HIGH|MED|INFO)\b.{0,30}", page)
        assert bare == [], bare
    assert {"CRIT", "HIGH"} <= seen
    activatable = visible(owner.get(pages[2]))
    assert "高 (HIGH) 1" in activatable or re.search(r"高 \(HIGH\) \d", activatable)
