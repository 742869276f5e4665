"""Nothing under weishang.plans may import Django: it is called from Django, never the reverse."""

from __future__ import annotations

import ast
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

import weishang.plans

PLANS_DIR = Path(weishang.plans.__file__).parent


def _modules() -> list[str]:
    return ["weishang.plans"] + [f"weishang.plans.{m.name}" for m in pkgutil.iter_modules([str(PLANS_DIR)])]


def test_every_plans_module_imports_without_django():
    modules = _modules()
    assert {
        "weishang.plans.schema",
        "weishang.plans.loader",
        "weishang.plans.engine",
        "weishang.plans.memory",
        "weishang.plans.periods",
    } <= set(modules)
    code = (
        "import importlib, json, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "print(json.dumps(sorted(m for m in sys.modules if m == 'django' or m.startswith('django.'))))\n"
    )
    env_free = {k: v for k, v in __import__("os").environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env_free, check=False)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == []


def test_no_plans_source_mentions_a_django_import():
    for path in PLANS_DIR.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                assert not name.startswith(("django", "weishang.")) or name.startswith("weishang.plans"), (
                    f"{path.name} imports {name}"
                )
