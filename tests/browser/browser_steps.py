"""Steps every browser journey takes: logging in on the phone pages or the console, a transfer
screenshot to upload; and Playwright's ``expect`` (a test module importing it is skipped, with a
message, where Playwright is not installed)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse

expect = pytest.importorskip("playwright.sync_api", reason="browser tests skipped: playwright is not installed").expect
expect.set_options(timeout=15_000)  # as the pages' own timeout: the machine running the suite may be busy

PASSWORD = "weishang-demo"  # every demo login's password


def log_in(page, username: str, password: str = PASSWORD) -> None:
    """Log in on the phone pages (/m/login/) as a user would."""
    page.goto("/m/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.locator("main form button[type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/login/"))


def console_log_in(page, username: str, password: str = PASSWORD) -> None:
    """Log in to the brand console."""
    page.goto(reverse("admin:login"))
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.locator("form [type=submit]").click()
    expect(page).not_to_have_url(re.compile(r"/login/"))


def png_file(path: Path, size: tuple[int, int] = (120, 240)) -> Path:
    """A small PNG standing in for a WeChat transfer screenshot."""
    from PIL import Image

    Image.new("RGB", size, (7, 193, 96)).save(path, "PNG")
    return path
