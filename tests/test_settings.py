"""Production refuses unsafe settings. Each case starts a fresh Python, as a deployment would."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parent.parent / "src"
LONG_KEY = "k" * 20 + "-a-long-and-random-production-secret-key-0123456789"
PROBE = (
    "import django\n"
    "django.setup()\n"
    "from django.conf import settings\n"
    "from django.urls import resolve\n"
    "resolve('/m/login/')\n"
    "print('DEBUG', settings.DEBUG)\n"
    "print('SECURE', getattr(settings, 'SESSION_COOKIE_SECURE', False),"
    " getattr(settings, 'CSRF_COOKIE_SECURE', False))\n"
    "print('KEY', settings.SECRET_KEY == " + repr(LONG_KEY) + ")\n"
)


def start(tmp_path, *, code: str = PROBE, **env_vars: str | None) -> subprocess.CompletedProcess:
    """``code`` (default: set Django up and print what production checks) in a fresh Python, with
    ``env_vars`` over the deployment's environment (None: unset)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"WEISHANG_ENV", "DEBUG", "SECRET_KEY", "DATABASE_URL", "ALLOWED_HOSTS", "WEISHANG_SMS_BACKEND"}
    }
    # A deployment names its SMS provider's backend (the console one is refused in production).
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "weishang.settings",
            "WEISHANG_VAR": str(tmp_path),
            "WEISHANG_SMS_BACKEND": "weishang.core.sms.LocmemBackend",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")])),
        }
    )
    for key, value in env_vars.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(
        [sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("debug", ["1", "true", "True", "yes", "on"])
def test_production_refuses_debug(tmp_path, debug):
    result = start(tmp_path, WEISHANG_ENV="production", DEBUG=debug, SECRET_KEY=LONG_KEY)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "DEBUG" in result.stderr


def test_production_refuses_the_default_secret_key(tmp_path):
    result = start(tmp_path, WEISHANG_ENV="production", DEBUG="0", SECRET_KEY=None)
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "SECRET_KEY" in result.stderr


def test_production_refuses_the_default_secret_key_given_explicitly(tmp_path):
    from weishang.settings import DEFAULT_SECRET_KEY

    result = start(tmp_path, WEISHANG_ENV="production", DEBUG="0", SECRET_KEY=DEFAULT_SECRET_KEY)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


@pytest.mark.parametrize("key", ["short", "x" * 31, ""])
def test_production_refuses_a_short_secret_key(tmp_path, key):
    result = start(tmp_path, WEISHANG_ENV="production", DEBUG="0", SECRET_KEY=key)
    assert result.returncode != 0
    assert "SECRET_KEY" in result.stderr


def test_production_debug_is_off_by_default(tmp_path):
    result = start(tmp_path, WEISHANG_ENV="production", DEBUG=None, SECRET_KEY=LONG_KEY)
    assert result.returncode == 0, result.stderr
    assert "DEBUG False" in result.stdout


def test_production_starts_with_debug_off_and_a_long_key(tmp_path):
    result = start(tmp_path, WEISHANG_ENV="production", DEBUG="0", SECRET_KEY=LONG_KEY)
    assert result.returncode == 0, result.stderr
    assert "DEBUG False" in result.stdout
    assert "SECURE True True" in result.stdout
    assert "KEY True" in result.stdout


def test_production_accepts_a_key_of_exactly_32_characters(tmp_path):
    result = start(tmp_path, WEISHANG_ENV="production", DEBUG="false", SECRET_KEY="z" * 32)
    assert result.returncode == 0, result.stderr


def test_unknown_environment_is_refused(tmp_path):
    result = start(tmp_path, WEISHANG_ENV="staging")
    assert result.returncode != 0
    assert "WEISHANG_ENV" in result.stderr


def test_development_starts_with_defaults(tmp_path):
    result = start(tmp_path, WEISHANG_ENV=None, DEBUG=None, SECRET_KEY=None)
    assert result.returncode == 0, result.stderr
    assert "DEBUG True" in result.stdout
    assert "SECURE False False" in result.stdout


def test_development_can_turn_debug_off(tmp_path):
    result = start(tmp_path, WEISHANG_ENV="development", DEBUG="0")
    assert result.returncode == 0, result.stderr
    assert "DEBUG False" in result.stdout


def test_test_settings_are_chinese_first():
    from django.conf import settings

    assert settings.LANGUAGE_CODE == "zh-hans"
    assert settings.TIME_ZONE == "Asia/Shanghai" and settings.USE_TZ
    assert settings.AUTH_USER_MODEL == "core.User"


# --- text messages: reset codes never go to the log in production (M7 item 8e) ---------------

CONSOLE_SMS = "weishang.core.sms.ConsoleBackend"


def test_production_refuses_the_console_sms_backend(tmp_path):
    result = start(
        tmp_path, WEISHANG_ENV="production", DEBUG="0", SECRET_KEY=LONG_KEY, WEISHANG_SMS_BACKEND=CONSOLE_SMS
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "SMS" in result.stderr


def test_production_refuses_the_console_sms_backend_when_none_is_named(tmp_path):
    result = start(tmp_path, WEISHANG_ENV="production", DEBUG="0", SECRET_KEY=LONG_KEY, WEISHANG_SMS_BACKEND=None)
    assert result.returncode != 0 and "SMS" in result.stderr


def weishang_check(tmp_path, *args: str, **env_vars: str | None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in {"WEISHANG_ENV", "DEBUG", "DATABASE_URL"}}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "weishang.settings",
            "WEISHANG_VAR": str(tmp_path),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")])),
        }
    )
    for key, value in env_vars.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return subprocess.run(
        [sys.executable, "-m", "weishang.cli", "check", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_with_debug_off_the_system_check_refuses_the_console_sms_backend(tmp_path):
    """`weishang serve` (runserver) and `weishang check` stop on this error."""
    refused = weishang_check(tmp_path, DEBUG="0", WEISHANG_SMS_BACKEND=CONSOLE_SMS)
    assert refused.returncode != 0
    assert "weishang.E001" in refused.stderr and "WEISHANG_SMS_BACKEND" in refused.stderr
    fine = weishang_check(tmp_path, DEBUG="0", WEISHANG_SMS_BACKEND="weishang.core.sms.LocmemBackend")
    assert fine.returncode == 0, fine.stderr


def test_check_deploy_names_the_console_sms_backend_even_in_development(tmp_path):
    assert weishang_check(tmp_path, DEBUG="1", WEISHANG_SMS_BACKEND=CONSOLE_SMS).returncode == 0  # make run works
    deploy = weishang_check(tmp_path, "--deploy", DEBUG="1", WEISHANG_SMS_BACKEND=CONSOLE_SMS)
    assert deploy.returncode != 0 and "weishang.E001" in deploy.stderr


def test_the_check_function_itself(settings):
    from weishang.core.checks import sms_backend_check

    settings.DEBUG = False
    settings.WEISHANG_SMS_BACKEND = CONSOLE_SMS
    assert [e.id for e in sms_backend_check()] == ["weishang.E001"]
    settings.WEISHANG_SMS_BACKEND = "weishang.core.sms.LocmemBackend"
    assert sms_backend_check() == []
    settings.DEBUG = True
    settings.WEISHANG_SMS_BACKEND = CONSOLE_SMS
    assert sms_backend_check() == []


# --- settings create nothing on import (M8) ------------------------------------------------------


def fresh_python(cwd, code: str) -> subprocess.CompletedProcess:
    """A fresh interpreter in ``cwd`` with the default places: no WEISHANG_VAR, no DATABASE_URL."""
    env = {k: v for k, v in os.environ.items() if k not in {"WEISHANG_VAR", "DATABASE_URL", "WEISHANG_ENV"}}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "weishang.settings",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")])),
        }
    )
    return subprocess.run([sys.executable, "-c", code], env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_importing_the_settings_creates_nothing(tmp_path):
    """`make messages` runs from src/weishang: setting Django up there must not leave a var/ behind."""
    result = fresh_python(
        tmp_path,
        "import django\ndjango.setup()\nfrom django.conf import settings\n"
        "print(settings.DATABASES['default']['NAME'])\n"
        "from weishang.cli import main\nmain(['weishang', 'help'])\n",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == str(tmp_path.resolve() / "var" / "weishang.sqlite3")
    assert list(tmp_path.iterdir()) == []


def test_the_database_directory_is_made_when_the_database_is_first_opened(tmp_path):
    result = fresh_python(
        tmp_path, "import django\ndjango.setup()\nfrom django.db import connection\nconnection.ensure_connection()\n"
    )
    assert result.returncode == 0, result.stderr
    assert [p.name for p in tmp_path.iterdir()] == ["var"]
    assert (tmp_path / "var" / "weishang.sqlite3").is_file()


STORAGE_PROBE = (
    "import django\n"
    "django.setup()\n"
    "from django.core.files.storage import storages\n"
    "store = storages['default']\n"
    "print('BACKEND', type(store).__module__ + '.' + type(store).__name__)\n"
    "print('BUCKET', getattr(store, 'bucket_name', ''))\n"
    "print('ENDPOINT', getattr(store, 'endpoint_url', ''))\n"
)


def test_files_go_to_local_storage_by_default_and_to_s3_when_a_bucket_is_named(tmp_path):
    """Uploaded files go through Django's storage API: local files, or an S3-compatible bucket
    (django-storages) when WEISHANG_S3_BUCKET is set. Nothing is uploaded here: the storage the
    application would write to is read back."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WEISHANG_S3")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "weishang.settings",
            "WEISHANG_VAR": str(tmp_path),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH")])),
        }
    )

    def probe(**extra) -> str:
        run = subprocess.run(
            [sys.executable, "-c", STORAGE_PROBE],
            env={**env, **extra},
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert run.returncode == 0, run.stderr
        return run.stdout

    assert "BACKEND django.core.files.storage.filesystem.FileSystemStorage" in probe()
    s3 = probe(WEISHANG_S3_BUCKET="glow-media", WEISHANG_S3_ENDPOINT="https://oss-cn-hangzhou.aliyuncs.com")
    assert "BACKEND storages.backends.s3.S3Storage" in s3
    assert "BUCKET glow-media" in s3 and "ENDPOINT https://oss-cn-hangzhou.aliyuncs.com" in s3


# --- PostgreSQL prepares the statements a connection runs again (M13) ------------------------------

PG_OPTIONS_PROBE = (
    "import django\n"
    "django.setup()\n"
    "from django.conf import settings\n"
    "print(sorted(settings.DATABASES['default']['OPTIONS'].items()))\n"
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, "[('prepare_threshold', 5), ('server_side_binding', True)]"),
        ("0", "[('prepare_threshold', 0), ('server_side_binding', True)]"),
        ("off", "[]"),
        ("OFF", "[]"),
    ],
)
def test_postgresql_binds_on_the_server_and_prepares_unless_turned_off(tmp_path, value, expected):
    """Settings only: nothing connects to the named database."""
    probe = start(
        tmp_path,
        code=PG_OPTIONS_PROBE,
        DATABASE_URL="postgres://app@db.example:5432/weishang",
        WEISHANG_PG_PREPARE_THRESHOLD=value,
    )
    assert probe.returncode == 0, probe.stderr
    assert probe.stdout.strip() == expected


@pytest.mark.parametrize("value", ["-1", "five", "²", "1e3", "9999999"])
def test_a_bad_prepare_threshold_is_refused_by_name(tmp_path, value):
    result = start(
        tmp_path, DATABASE_URL="postgres://app@db.example:5432/weishang", WEISHANG_PG_PREPARE_THRESHOLD=value
    )
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert "WEISHANG_PG_PREPARE_THRESHOLD" in result.stderr
