"""The plans and rewards console: owners upload a plan, read it as tables, compare two versions and
activate one; finance sees the reward lines with their totals, releases due rewards and settles a
period. Everything changes through the services only, and only for the roles allowed to."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from html import unescape
from pathlib import Path

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from weishang.core.errors import BusinessError
from weishang.core.roles import role_group_name, roles_sync
from weishang.jobs.worker import Worker
from weishang.rewards import services as rewards_services
from weishang.rewards.models import PlanVersion, RewardLine, RewardStatus, SettlementRun
from weishang.rewards.plan_versions import plan_in_force, plan_upload
from weishang.rewards.services import settle_period

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "plans"
TIERED = (EXAMPLES / "glow-tiered.yaml").read_text(encoding="utf-8")
UPLOAD = reverse("admin:rewards_planversion_upload_plan")


def text(response) -> str:
    return unescape(response.content.decode())


def edited(source: str = TIERED, *, version: int | None = None, vip_discount: str | None = None) -> str:
    if version is not None:
        source = source.replace("version: 1\n", f"version: {version}\n", 1)
    if vip_discount is not None:
        source = source.replace("    discount: 0.80\n", f"    discount: {vip_discount}\n", 1)
    return source


def yaml_file(source: str, name: str = "glow-tiered.yaml") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, source.encode("utf-8"), content_type="application/x-yaml")


@pytest.fixture(autouse=True)
def english(client):
    """These pages are read in English (the staff member switched; Chinese is the default)."""
    client.cookies["django_language"] = "en"


@pytest.fixture
def staff(db, django_user_model):
    """staff("owner") -> a staff user in that role group."""
    roles_sync()

    def make(role: str):
        user = django_user_model.objects.create_user(username=f"{role}-staff", password="staff-pass-123", is_staff=True)
        user.groups.add(Group.objects.get(name=role_group_name(role)))
        return django_user_model.objects.get(pk=user.pk)

    return make


@pytest.fixture
def owner(client, staff):
    client.force_login(staff("owner"))
    return client


def change_url(version: PlanVersion) -> str:
    return reverse("admin:rewards_planversion_change", args=[version.pk])


# --- upload --------------------------------------------------------------------------------


def test_upload_a_valid_plan_and_read_it_as_tables(owner, catalog):
    response = owner.post(UPLOAD, {"file": yaml_file(TIERED)})
    version = PlanVersion.objects.get()
    assert response.status_code == 302 and response["Location"] == change_url(version)
    assert (version.plan_id, version.version, version.filename) == ("glow-tiered", 1, "glow-tiered.yaml")
    assert not version.is_activated and version.uploaded_by.username == "owner-staff"

    page = text(owner.get(change_url(version)))
    levels = page[page.index('data-testid="plan-levels"') : page.index('data-testid="plan-prices"')]
    for cell in ("联创", "partner", "first order amount 100000", "0.30", "特约", "vip", "0.80"):
        assert cell in levels, cell
    assert levels.index("联创") < levels.index("总代") < levels.index("特约")  # highest first
    prices = page[page.index('data-testid="plan-prices"') : page.index('data-testid="plan-rewards"')]
    assert "GLOW-30ML" in prices and "170" in prices and "158.40" in prices  # 198 × 0.80, not written
    rewards = page[page.index('data-testid="plan-rewards"') : page.index('data-testid="plan-upgrades"')]
    for cell in (
        "referral reward",
        "peer-referral",
        "平级推荐奖",
        "[0.05, 0.02]",
        "team volume",
        "{from: 100000, rate: 0.03}",
        "target award",
        "泰国游",
    ):
        assert cell in rewards, cell
    upgrades = page[page.index('data-testid="plan-upgrades"') : page.index('data-testid="plan-settlement"')]
    assert "same-level referrals: 3" in upgrades and "team volume: {period: month, amount: 200000}" in upgrades
    assert "smallest withdrawal" in page and "0.006" in page and "refund rate" in page
    assert "id: glow-tiered" in page  # the YAML source
    assert reverse("admin:rewards_planversion_activate", args=[version.pk]) in page


def test_paste_a_plan(owner, catalog):
    response = owner.post(UPLOAD, {"text": edited(version=3)})
    assert response.status_code == 302
    assert PlanVersion.objects.get().version == 3


def test_upload_a_broken_plan_shows_each_issue_with_its_line_and_stores_nothing(owner, catalog):
    broken = TIERED.replace("    discount: 0.50\n", "    discount: half\n", 1)
    line = broken.splitlines().index("    discount: half") + 1
    response = owner.post(UPLOAD, {"file": yaml_file(broken)})
    assert response.status_code == 400
    page = text(response)
    assert f"glow-tiered.yaml:{line}:" in page and "levels[2].discount" in page
    assert "nothing was stored" in page
    assert not PlanVersion.objects.exists()

    response = owner.post(UPLOAD, {"text": "id: x\nversion: one\n"})
    assert response.status_code == 400 and "pasted.yaml:2:" in text(response)
    assert owner.post(UPLOAD, {}).status_code == 400
    assert owner.post(UPLOAD, {"file": SimpleUploadedFile("p.yaml", b"\xff\xfe\x00bad")}).status_code == 400
    assert not PlanVersion.objects.exists()


def test_an_activated_version_cannot_be_uploaded_again_with_different_content(owner, catalog, tiered):
    before = (tiered.source, tiered.sha256)
    response = owner.post(UPLOAD, {"file": yaml_file(edited(vip_discount="0.85"))})
    assert response.status_code == 409
    assert "cannot change" in text(response) and "new version number" in text(response)
    tiered.refresh_from_db()
    assert (tiered.source, tiered.sha256) == before and PlanVersion.objects.count() == 1
    # The same file again is the same version; a new number is a new draft.
    assert owner.post(UPLOAD, {"file": yaml_file(TIERED)})["Location"] == change_url(tiered)
    assert owner.post(UPLOAD, {"file": yaml_file(edited(version=2, vip_discount="0.85"))}).status_code == 302
    assert PlanVersion.objects.count() == 2
    # An activated version has no edit path: no activate link, and activating again is refused.
    page = text(owner.get(change_url(tiered)))
    assert "immutable" in page
    assert reverse("admin:rewards_planversion_activate", args=[tiered.pk]) not in page
    response = owner.post(reverse("admin:rewards_planversion_activate", args=[tiered.pk]), {"active_from": ""})
    assert response.status_code == 409 and "already activated" in text(response)


def test_a_draft_can_be_replaced_until_it_is_activated(owner, catalog):
    owner.post(UPLOAD, {"file": yaml_file(edited(version=2))})
    owner.post(UPLOAD, {"file": yaml_file(edited(version=2, vip_discount="0.85"))})
    version = PlanVersion.objects.get()
    assert "discount: 0.85" in version.source


# --- compare -------------------------------------------------------------------------------


def test_compare_two_versions_shows_the_changed_discount(owner, catalog, tiered):
    newer = plan_upload(text=edited(version=2, vip_discount="0.85"), filename="glow-tiered-v2.yaml")
    url = reverse("admin:rewards_planversion_compare", args=[newer.pk])
    assert owner.get(url).status_code == 200  # the picker
    response = owner.get(url, {"other": tiered.pk})
    assert response.status_code == 200
    page = text(response)
    rows = re.findall(r'data-testid="plan-change">(.*?)</tr>', page, re.S)
    cells = [re.sub(r"<[^>]+>", "|", row) for row in rows]
    assert any("levels" in c and "vip" in c and "discount" in c and "0.80" in c and "0.85" in c for c in cells)
    diff = page[page.index('data-testid="plan-diff"') :]
    assert "-    discount: 0.80" in diff and "+    discount: 0.85" in diff
    assert "-version: 1" in diff and "+version: 2" in diff
    # The older upload is always on the left, from whichever side the page is opened.
    other_side = text(owner.get(reverse("admin:rewards_planversion_compare", args=[tiered.pk]), {"other": newer.pk}))
    assert "-    discount: 0.80" in other_side
    assert owner.get(url, {"other": "nope"}).status_code == 400


# --- activate ------------------------------------------------------------------------------


def test_owner_activates_a_version_now_or_from_a_date(owner, catalog):
    first = plan_upload(text=TIERED, filename="glow-tiered.yaml")
    url = reverse("admin:rewards_planversion_activate", args=[first.pk])
    page = text(owner.get(url))
    assert "UK-TS" in page and "HIGH" in page  # the linter's findings for the brand's jurisdiction (uk)
    refused = owner.post(url, {"active_from": ""})
    assert refused.status_code == 409 and "acknowledgement" in text(refused)
    response = owner.post(url, {"active_from": "", "acknowledgement": "老板：已与律师确认，接受风险"})
    assert response.status_code == 302 and response["Location"] == change_url(first)
    first.refresh_from_db()
    assert first.is_activated and first.synced_at is not None and plan_in_force().pk == first.pk
    assert first.activated_by.username == "owner-staff"

    second = plan_upload(text=edited(version=2, vip_discount="0.85"), filename="v2.yaml")
    start = timezone.localtime() + timedelta(days=5)
    response = owner.post(
        reverse("admin:rewards_planversion_activate", args=[second.pk]),
        {"active_from": f"{start:%Y-%m-%dT%H:%M}", "acknowledgement": "同上"},
    )
    assert response.status_code == 302
    second.refresh_from_db()
    assert second.active_from == start.replace(second=0, microsecond=0)
    assert plan_in_force().pk == first.pk and plan_in_force(start + timedelta(minutes=1)).pk == second.pk
    listing = text(owner.get(reverse("admin:rewards_planversion_changelist")))
    assert "In force" in listing and "Scheduled" in listing


def test_activate_shows_the_services_refusal(owner, catalog):
    sandbox = plan_upload(text=TIERED.replace("jurisdiction: cn", "jurisdiction: none"), filename="s.yaml")
    response = owner.post(reverse("admin:rewards_planversion_activate", args=[sandbox.pk]), {"active_from": ""})
    assert response.status_code == 409 and "sandbox" in text(response)
    response = owner.post(
        reverse("admin:rewards_planversion_activate", args=[sandbox.pk]), {"active_from": "next tuesday"}
    )
    assert response.status_code == 400
    sandbox.refresh_from_db()
    assert not sandbox.is_activated


def test_staff_who_are_not_owners_cannot_upload_or_activate(client, staff, catalog):
    draft = plan_upload(text=TIERED, filename="glow-tiered.yaml")
    activate = reverse("admin:rewards_planversion_activate", args=[draft.pk])
    client.force_login(staff("finance"))
    assert client.get(reverse("admin:rewards_planversion_changelist")).status_code == 200
    page = text(client.get(change_url(draft)))
    assert "联创" in page and activate not in page
    assert client.get(reverse("admin:rewards_planversion_compare", args=[draft.pk])).status_code == 200
    assert client.get(activate).status_code == 403
    assert client.post(activate, {"active_from": ""}).status_code == 403
    assert client.get(UPLOAD).status_code == 403
    assert client.post(UPLOAD, {"file": yaml_file(edited(version=2))}).status_code == 403
    draft.refresh_from_db()
    assert not draft.is_activated and PlanVersion.objects.count() == 1

    client.force_login(staff("operations"))
    assert client.get(reverse("admin:rewards_planversion_changelist")).status_code == 403
    assert client.post(activate, {"active_from": ""}).status_code == 403
    assert client.get(reverse("admin:rewards_planversion_compare", args=[draft.pk])).status_code == 403
    draft.refresh_from_db()
    assert not draft.is_activated


# --- reward lines, release, settlement -------------------------------------------------------


@pytest.fixture
def chain(tiered, make_agent, catalog, r):
    p0 = make_agent("province", real_name="省代周强")
    c1 = make_agent("city", referrer=p0, real_name="市代王芳")
    c2 = make_agent("city", referrer=c1, real_name="市代李娜")
    c3 = make_agent("city", referrer=c2, real_name="市代张伟")
    r.receive(p0, catalog.skus["GLOW-30ML"], 3000)
    r.process()
    return p0, c1, c2, c3


def test_reward_lines_with_totals_per_rule_and_per_agent(client, staff, chain, r):
    p0, c1, c2, c3 = chain
    first = r.complete(c3, [("GLOW-30ML", 20)])  # 李娜 ¥170, 王芳 ¥68, 周强's margin ¥600
    second = r.complete(c2, [("GLOW-30ML", 10)])  # 王芳 ¥85, 周强 (province, not a peer) nothing; margin ¥300
    r.process()
    client.force_login(staff("finance"))
    url = reverse("admin:rewards_rewardline_changelist")
    page = text(client.get(url))
    totals = page[page.index('data-testid="reward-totals"') :]
    rules = {
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
        for row in re.findall(r'data-testid="rule-total">(.*?)</tr>', totals, re.S)
    }
    assert "peer-referral Reward 3 ¥323.00" in rules and "margin Margin (price differential) 2 ¥900.00" in rules
    agents = [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip()
        for row in re.findall(r'data-testid="agent-total">(.*?)</tr>', totals, re.S)
    ]
    assert agents[0] == "省代周强 2 ¥900.00" and "市代王芳 2 ¥153.00" in agents and "市代李娜 1 ¥170.00" in agents

    only_rewards = text(client.get(url, {"kind__exact": "reward"}))
    assert "4 lines" not in only_rewards and "3 lines, ¥323.00" in only_rewards
    by_order = text(client.get(url, {"q": second.number}))
    assert "2 lines, ¥385.00" in by_order and first.number not in by_order.split('id="result_list"')[-1]
    by_agent = text(client.get(url, {"q": c1.phone}))
    assert "2 lines, ¥153.00" in by_agent
    month = f"{timezone.localtime():%Y-%m}"
    assert re.search(r"5 lines, ¥1,?223\.00", text(client.get(url, {"in_period": month})))
    assert "0 lines" in text(client.get(url, {"in_period": "2001-01"}))
    line = RewardLine.objects.get(order=first, beneficiary=c2)
    detail = text(client.get(reverse("admin:rewards_rewardline_change", args=[line.pk])))
    # The explanation in the reader's language (this staff reads English), not both (M7 item 13).
    assert line.explanation_en in detail and line.explanation_zh not in detail
    client.cookies["django_language"] = "zh-hans"
    detail = text(client.get(reverse("admin:rewards_rewardline_change", args=[line.pk])))
    assert line.explanation_zh in detail and line.explanation_en not in detail


def test_finance_releases_due_rewards(client, staff, chain, r):
    _p0, _c1, c2, c3 = chain
    order = r.complete(c3, [("GLOW-30ML", 20)])
    r.process()
    client.force_login(staff("finance"))
    url = reverse("admin:rewards_rewardline_release_due")
    assert "0 lines (¥0.00) are due now" in text(client.get(url))
    RewardLine.objects.filter(order=order).update(release_at=timezone.now() - timedelta(minutes=1))
    assert "2 lines (¥238.00) are due now" in text(client.get(url))
    response = client.post(url)
    assert response.status_code == 302
    assert set(RewardLine.objects.filter(order=order, kind="reward").values_list("status", flat=True)) == {
        RewardStatus.AVAILABLE
    }
    assert r.available(c2) == Decimal("170.00") and r.verify() == []

    client.force_login(staff("operations"))
    assert client.post(url).status_code == 403


def test_settle_a_period_from_the_console(client, staff, catalog, r):
    r.activate("glow-tiered.yaml", active_from=timezone.now() - timedelta(days=120))
    client.force_login(staff("finance"))
    url = reverse("admin:rewards_settlementrun_settle")
    assert client.get(url).status_code == 200
    for bad, words in (
        ("2026-13", "is not a period"),
        ("soon", "is not a period"),
        (f"{timezone.localdate():%Y-%m}", "is not over yet"),
    ):
        response = client.post(url, {"period": bad})
        assert response.status_code == 400, bad
        assert words in text(response), bad
    assert not SettlementRun.objects.exists()
    last_month = (timezone.localdate().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    response = client.post(url, {"period": f" {last_month.lower()} "})
    run = SettlementRun.objects.get()
    page = reverse("admin:rewards_settlementrun_change", args=[run.pk])
    assert response.status_code == 302 and response["Location"] == page
    # The request only opened the run: the worker settles it, and its page follows it.
    assert run.period == last_month and run.finished_at is None and run.task_id
    waiting = text(client.get(page))
    assert "Waiting for the background worker." in waiting and "This page refreshes" in waiting
    client.post(url, {"period": last_month})  # again while it waits: the same task, not a second
    assert SettlementRun.objects.get().task_id == run.task_id and DBTaskResult.objects.count() == 1

    assert Worker(schedule=False, follow=False, interval=0.01).run(once=True) == 1
    run.refresh_from_db()
    assert run.finished_at is not None
    done = text(client.get(page))
    assert "background worker" not in done and "Agents with the most rewards" in done
    client.post(url, {"period": last_month})
    assert SettlementRun.objects.count() == 1 and DBTaskResult.objects.count() == 1  # settling again changes nothing

    client.force_login(staff("operations"))
    assert client.post(url, {"period": last_month}).status_code == 403


def test_a_settlement_stopped_by_an_error_says_so_and_is_started_again(client, staff, catalog, r, monkeypatch):
    r.activate("glow-tiered.yaml", active_from=timezone.now() - timedelta(days=120))
    client.force_login(staff("finance"))
    url = reverse("admin:rewards_settlementrun_settle")
    last_month = (timezone.localdate().replace(day=1) - timedelta(days=1)).strftime("%Y-%m")
    real = rewards_services._settle

    def broken(*args, **kwargs):
        raise BusinessError("the ledger is closed for maintenance")

    monkeypatch.setattr(rewards_services, "_settle", broken)
    client.post(url, {"period": last_month})
    run = SettlementRun.objects.get()
    Worker(schedule=False, follow=False, interval=0.01).run(once=True)
    page = text(client.get(reverse("admin:rewards_settlementrun_change", args=[run.pk])))
    assert "Stopped by an error" in page and "the ledger is closed for maintenance" in page
    assert "This page refreshes" not in page

    monkeypatch.setattr(rewards_services, "_settle", real)
    first_task = run.task_id
    client.post(url, {"period": last_month})  # settle again: a new task finishes the same run
    run.refresh_from_db()
    assert run.task_id != first_task and run.finished_at is None
    Worker(schedule=False, follow=False, interval=0.01).run(once=True)
    run.refresh_from_db()
    assert run.finished_at is not None and SettlementRun.objects.count() == 1


def test_settlement_runs_show_the_payout_ratio_and_the_top_reports(client, staff, chain, r):
    p0, c1, c2, c3 = chain
    order = r.complete(c3, [("GLOW-30ML", 700)])  # ¥119,000: 张伟's team reaches the 3 % step
    r.process()
    month = timezone.localtime(order.completed_at).date()
    run = settle_period(period=f"{month:%Y-%m}", today=month.replace(day=28) + timedelta(days=10))
    client.force_login(staff("finance"))
    listing = text(client.get(reverse("admin:rewards_settlementrun_changelist")))
    assert run.period in listing and "3.00%" in listing and "119000" in listing.replace(",", "")
    detail = text(client.get(reverse("admin:rewards_settlementrun_change", args=[run.pk])))
    reports = detail[detail.index('data-testid="settlement-reports"') :]
    assert reports.index("市代张伟") < reports.index("市代李娜")  # the most rewarded first
    assert "¥3570.00" in reports.replace(",", "")


# --- lists stay cheap --------------------------------------------------------------------------


def test_console_lists_load_with_a_bounded_number_of_queries(client, staff, chain, r, django_assert_max_num_queries):
    p0, c1, c2, c3 = chain
    for _ in range(10):
        r.complete(c3, [("GLOW-30ML", 5)])
        r.complete(c2, [("GLOW-30ML", 5)])
    r.process()
    month = timezone.localtime().date()
    settle_period(period=f"{month:%Y-%m}", today=month.replace(day=28) + timedelta(days=10))
    plan_upload(text=edited(version=2, vip_discount="0.85"), filename="v2.yaml")
    assert RewardLine.objects.count() > 30
    client.force_login(staff("owner"))
    pages = [
        reverse("admin:rewards_rewardline_changelist"),
        reverse("admin:rewards_rewardline_changelist") + "?kind__exact=reward&q=" + c2.phone,
        reverse("admin:rewards_planversion_changelist"),
        reverse("admin:rewards_settlementrun_changelist"),
        reverse("admin:rewards_settlementrun_change", args=[SettlementRun.objects.get().pk]),
        reverse("admin:rewards_planversion_change", args=[PlanVersion.objects.first().pk]),
        reverse("admin:rewards_rewardline_change", args=[RewardLine.objects.first().pk]),
    ]
    for url in pages:
        client.get(url)  # warm the caches (the parsed plan, the sidebar)
        with django_assert_max_num_queries(20):
            assert client.get(url).status_code == 200, url
