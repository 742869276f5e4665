"""The cache every process shares (WEISHANG_CACHE_URL): rate limits, texted codes and WeChat's access
token must be the same in every worker process, or each process counts and fetches on its own
(a second access token from WeChat cuts the first one short). Shown with two real processes."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest
import redis
from django.core.cache import caches
from django.core.cache.backends.db import DatabaseCache


def _python(code: str, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "WEISHANG_CACHE"))}
    return subprocess.run(
        [sys.executable, "-c", "import django, sys; django.setup(); " + code],
        env={**base, "DJANGO_SETTINGS_MODULE": "weishang.settings", **env},
        capture_output=True,
        text=True,
    )


def test_redis_is_shared_between_processes():
    url = "redis://127.0.0.1:6379/7"
    try:
        redis.Redis.from_url(url).ping()
    except redis.RedisError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    key = f"k-{uuid.uuid4().hex}"
    for alias in ("default", "shared"):
        setter = _python(
            f"from django.core.cache import caches; caches[{alias!r}].set({key!r}, '一号进程', 60)",
            WEISHANG_CACHE_URL=url,
        )
        assert setter.returncode == 0, setter.stderr
        getter = _python(
            f"from django.core.cache import caches; print(caches[{alias!r}].get({key!r}))", WEISHANG_CACHE_URL=url
        )
        assert getter.stdout.strip() == "一号进程"


@pytest.mark.django_db
def test_the_database_cache_table_is_made_by_migrate():
    cache = DatabaseCache("weishang_cache", {})
    cache.set("rate:1.2.3.4", 3, 60)
    assert cache.incr("rate:1.2.3.4") == 4
    assert cache.get("rate:1.2.3.4") == 4


def test_a_bad_cache_url_is_refused_with_its_reason():
    out = _python("print('started')", WEISHANG_CACHE_URL="memcached://x")
    assert out.returncode != 0
    assert "WEISHANG_CACHE_URL must be db, locmem or a redis:// URL" in out.stderr
    assert "started" not in out.stdout


def test_the_development_default_is_one_process_memory():
    assert {type(caches[alias]).__name__ for alias in ("default", "shared")} == {"LocMemCache"}


def test_production_keeps_the_api_counts_in_the_process_and_the_rest_shared():
    out = _python(
        "from django.core.cache import caches; "
        "print(type(caches['default']).__name__, type(caches['shared']).__name__)",
        WEISHANG_ENV="production",
        SECRET_KEY="x" * 50,
        WEISHANG_SMS_BACKEND="weishang.core.sms.LocmemBackend",
    )
    assert out.stdout.split() == ["LocMemCache", "DatabaseCache"], out.stderr
