"""The shape, enforced (M8; docs/architecture.md, "The shape, enforced").

The import contracts (import-linter, ``[tool.importlinter]`` in pyproject.toml), the type checks
(mypy with django-stubs, ``[tool.mypy]``: plans/ strict, every services module checked) and
``ruff check`` run here, each as its own process, so ``make test`` and CI fail when the code
leaves the shape. Each tool reports what is wrong in its own words; the assertion shows it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.db_independent  # tools reading the code, no database
ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _run(*command: str, cwd: Path = ROOT, src: Path = ROOT / "src") -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(src), os.environ.get("PYTHONPATH", "")])}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def _lint_imports(cwd: Path = ROOT, src: Path = ROOT / "src") -> subprocess.CompletedProcess[str]:
    return _run(str(BIN / "lint-imports"), "--no-cache", cwd=cwd, src=src)


def test_the_import_contracts_hold():
    done = _lint_imports()
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Contracts: 4 kept, 0 broken." in done.stdout


def test_the_import_contracts_catch_an_import_against_them(tmp_path):
    """The contracts are live: in a copy of the code, plans importing core, the loan arithmetic
    importing core and trade importing the phone pages each break theirs."""
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    shutil.copytree(
        ROOT / "src" / "weishang",
        tmp_path / "src" / "weishang",
        ignore=shutil.ignore_patterns("__pycache__", "templates", "static", "locale", "migrations"),
    )
    package = tmp_path / "src" / "weishang"
    with open(package / "plans" / "periods.py", "a", encoding="utf-8") as f:
        f.write("\nimport weishang.core.money  # noqa: E402,F401\n")
    with open(package / "trade" / "selectors.py", "a", encoding="utf-8") as f:
        f.write("\nimport weishang.web  # noqa: E402,F401\n")
    with open(package / "autofinance" / "arithmetic.py", "a", encoding="utf-8") as f:
        f.write("\nimport weishang.core.money  # noqa: E402,F401\n")

    done = _lint_imports(cwd=tmp_path, src=tmp_path / "src")

    assert done.returncode == 1, done.stdout + done.stderr
    assert "weishang.plans.periods -> weishang.core.money" in done.stdout
    assert "weishang.trade.selectors -> weishang.web" in done.stdout
    assert "weishang.autofinance.arithmetic -> weishang.core.money" in done.stdout
    assert "Contracts: 0 kept, 4 broken." in done.stdout


def test_plans_and_the_services_type_check():
    """mypy reads its files and flags from pyproject.toml (about half a minute without its cache)."""
    done = _run(sys.executable, "-m", "mypy")
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("Success:"), done.stdout


def test_ruff_finds_nothing():
    done = _run(sys.executable, "-m", "ruff", "check", "src", "tests", "bench")
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_code_is_formatted():
    """``ruff format`` (line length 120, pyproject.toml): run it before committing."""
    done = _run(sys.executable, "-m", "ruff", "format", "--check", "src", "tests", "bench")
    assert done.returncode == 0, done.stdout + done.stderr
