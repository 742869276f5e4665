"""Journey 5, in Chinese on a phone: the brand owner logs in to the console and the dashboard
shows the demo brand's figures, cash collected (回款) first, as a ¥ amount."""

from __future__ import annotations

import re

import pytest
from browser_steps import console_log_in, expect

pytestmark = pytest.mark.browser


def test_console_dashboard_shows_the_demo_figures(demo, page, shot):
    owner = page
    console_log_in(owner, "owner")
    dashboard = owner.locator("#dashboard")
    expect(dashboard).to_be_visible()
    cash = dashboard.locator("[data-metric=cash_collected]")
    expect(cash).to_be_visible()
    expect(cash).to_contain_text("回款")
    expect(cash.locator("[data-value=this_month]")).to_have_text(re.compile(r"^\s*¥\s?[\d,]+\.\d{2}\s*$"))
    shot(owner, "dashboard")


def test_the_owner_runs_a_background_job_from_the_console(demo, page, shot):
    """后台任务: the demo's worker ran each periodic job once; the owner runs the reward release
    again now, a worker picks it up, and the page shows it done."""
    from weishang.jobs.worker import Worker

    owner = page
    console_log_in(owner, "owner")
    owner.goto("/console/jobs/scheduledrun/overview/")  # (the sidebar's 概览 → 后台任务 on a desktop)
    jobs = owner.locator("[data-testid=jobs-overview]")
    expect(jobs).to_be_visible()
    release = jobs.locator("[data-job=rewards-release]")
    expect(release).to_contain_text("解冻到期的奖励")
    expect(release.locator("[data-state]")).to_have_text("完成")  # the demo's worker ran it
    expect(jobs.locator("[data-worker=demo-worker] [data-state]")).to_have_text("已停止")
    release.get_by_role("button", name="立即运行").click()
    expect(owner.get_by_text(re.compile("已排队"))).to_be_visible()
    expect(jobs.locator("[data-job=rewards-release] [data-state]")).to_have_text("排队中")
    shot(owner, "jobs-queued")
    Worker(worker_id="journey-worker", schedule=False, interval=0.01).run(once=True)
    owner.reload()
    expect(jobs.locator("[data-job=rewards-release] [data-state]")).to_have_text("完成")
    expect(jobs.locator("[data-worker=journey-worker]")).to_be_visible()
    shot(owner, "jobs-done")
