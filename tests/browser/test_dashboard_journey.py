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
