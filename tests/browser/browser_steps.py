"""Steps every browser journey takes: logging in on the phone pages or the console, a transfer
screenshot to upload."""

from __future__ import annotations

from pathlib import Path

from django.urls import reverse

PASSWORD = "weishang-demo"  # every demo login's password


def log_in(page, username: str, password: str = PASSWORD) -> None:
    """Log in on the phone pages (/m/login/) as a user would."""
    page.goto("/m/login/")
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.locator("main form button[type=submit]").click()
    page.wait_for_load_state()


def console_log_in(page, username: str, password: str = PASSWORD) -> None:
    """Log in to the brand console."""
    page.goto(reverse("admin:login"))
    page.locator("input[name=username]").fill(username)
    page.locator("input[name=password]").fill(password)
    page.locator("form [type=submit]").click()
    page.wait_for_load_state()


def png_file(path: Path, size: tuple[int, int] = (120, 240)) -> Path:
    """A small PNG standing in for a WeChat transfer screenshot."""
    from PIL import Image

    Image.new("RGB", size, (7, 193, 96)).save(path, "PNG")
    return path
