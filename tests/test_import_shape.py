"""The console's place among the apps (docs/architecture.md, "The console").

The console has two sides. Its kit (``console/kit.py`` and the shared ``exports``, ``history``
and ``bulk``) is what domain ``admin.py`` files build their pages from; it imports nothing of a
domain but ``core``. Its own pages (the dashboard, the audit history, branding) read the
domains, through their models and selectors only, and no domain module imports them. So there is
no cycle between the console and a domain, and nothing in ``console/`` imports a domain's admin.

The imports are read from the source with ``ast`` (every import statement, those inside
functions too), without importing anything.
"""

from __future__ import annotations

import ast
from pathlib import Path

import weishang

ROOT = Path(weishang.__file__).parent
APPS = sorted(p.name for p in ROOT.iterdir() if (p / "__init__.py").is_file())
KIT = {"weishang.console.kit", "weishang.console.exports", "weishang.console.history", "weishang.console.bulk"}
READ = {"models", "selectors"}  # what the console's pages may import of a domain app (besides core)


def _module(path: Path) -> str:
    parts = path.relative_to(ROOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every module (or module.name) an import statement in ``path`` names."""
    names: set[str] = set()
    package = _module(path).split(".")
    if path.name != "__init__.py":
        package = package[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = ".".join([*base, *(node.module or "").split(".")]).strip(".")
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)
    return names


def _modules(under: Path) -> dict[str, set[str]]:
    return {_module(path): _imports(path) for path in sorted(under.rglob("*.py"))}


def _ours(name: str) -> list[str]:
    """``weishang.<app>.<module>`` parts of an imported name, or [] for anything not ours."""
    parts = name.split(".")
    return parts[1:3] if parts[0] == "weishang" and len(parts) > 1 and parts[1] in APPS else []


def test_the_scan_reads_the_console_and_lazy_imports():
    console = _modules(ROOT / "console")
    assert {"weishang.console.dashboard", "weishang.console.audit"} <= set(console)
    tree_with_lazy = ast.parse("def f():\n    from weishang.trade.admin import OrderAdmin\n")
    assert any(
        isinstance(node, ast.ImportFrom) and node.module == "weishang.trade.admin" for node in ast.walk(tree_with_lazy)
    )


def test_nothing_in_the_console_imports_a_domain_admin_module():
    found = sorted(
        (module, name)
        for module, names in _modules(ROOT / "console").items()
        for name in names
        if (ours := _ours(name)) and ours[0] != "console" and ours[1:] == ["admin"]
    )
    assert found == []


def test_the_console_reads_a_domain_through_its_models_and_selectors_only():
    """Queues, counts, where an order is filled from: a domain's selectors say them, not its
    services, admin or views (``core``, the layer under every app, is read freely but for its admin)."""
    found = []
    for module, names in _modules(ROOT / "console").items():
        for name in names:
            ours = _ours(name)
            if not ours or ours[0] == "console" or len(ours) == 1:
                continue
            app, first = ours
            allowed = first != "admin" if app == "core" else first in READ
            if not allowed:
                found.append((module, name))
    assert sorted(found) == []


def _console_page(name: str) -> bool:
    """Whether ``name`` is one of the console's own modules, not its kit."""
    ours = _ours(name)
    return ours[:1] == ["console"] and len(ours) == 2 and ".".join(name.split(".")[:3]) not in KIT


def test_domain_code_imports_only_the_console_kit():
    """A domain admin builds its pages from the kit; it never imports the console's own pages
    (the dashboard, the audit), which read the domains (that would be a cycle)."""
    outside = {module: names for app in APPS if app != "console" for module, names in _modules(ROOT / app).items()}
    outside.update({_module(path): _imports(path) for path in ROOT.glob("*.py")})
    found = sorted((module, name) for module, names in outside.items() for name in names if _console_page(name))
    assert found == []


def test_the_kit_imports_no_domain_but_core():
    found = sorted(
        (module, name)
        for module, names in _modules(ROOT / "console").items()
        if module in KIT
        for name in names
        if _ours(name)[:1] not in ([], ["core"], ["console"]) or _console_page(name)
    )
    assert found == []
