"""docs/linter.md documents every rule, jurisdiction and figure; sources match the rulebook."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from weishang.plans.lint import FIGURES, JURISDICTIONS, RULES

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs" / "linter.md"


def _clone_root(root: Path) -> Path:
    """The clone this checkout belongs to: the repository itself, or for a git worktree (whose
    ``.git`` is a file "gitdir: <clone>/.git/worktrees/<name>") the main clone."""
    marker = root / ".git"
    if marker.is_file():
        text = marker.read_text(encoding="utf-8").strip()
        if text.startswith("gitdir:"):
            gitdir = (root / text.removeprefix("gitdir:").strip()).resolve()
            if gitdir.parent.name == "worktrees":
                return gitdir.parent.parent.parent
    return root


# The shared reference material lives beside the clone: <parent of the clone>/shared/reference.
RULEBOOK = _clone_root(ROOT).parent / "shared" / "reference" / "compliance-rules.md"
SKIP_REASON = f"the shared rulebook is not beside the clone (looked for {RULEBOOK})"


def test_every_rule_is_documented_with_its_source():
    text = DOCS.read_text(encoding="utf-8")
    for rule in RULES:
        assert re.search(rf"\b{re.escape(rule.id)}\b", text), rule.id
        assert rule.source in text, rule.id


def test_every_jurisdiction_and_figure_is_documented():
    text = DOCS.read_text(encoding="utf-8")
    for name in JURISDICTIONS:
        assert f"| `{name}` |" in text, name
    for key in FIGURES:
        assert f"`{key}`" in text, key


def _rulebook_sources() -> dict[str, str]:
    out = {}
    for line in RULEBOOK.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and re.fullmatch(r"[A-Z]+-[A-Z0-9-]+", cells[0]):
            out[cells[0]] = cells[4].replace("*", "")
    return out


@pytest.mark.skipif(not RULEBOOK.exists(), reason=SKIP_REASON)
def test_sources_are_the_rulebooks_words():
    sources = _rulebook_sources()
    assert set(sources) == {r.id for r in RULES}
    for rule in RULES:
        if rule.id == "EU-14-SIM":  # the rulebook writes 'as EU-14 ("primarily")'
            assert sources[rule.id] == 'as EU-14 ("primarily")'
            assert rule.source == sources["EU-14"] + ' ("primarily")'
        else:
            assert rule.source == sources[rule.id], rule.id


@pytest.mark.skipif(not RULEBOOK.exists(), reason=SKIP_REASON)
def test_rulebook_severities_are_kept():
    book = {}
    for line in RULEBOOK.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 5 and re.fullmatch(r"[A-Z]+-[A-Z0-9-]+", cells[0]):
            book[cells[0]] = cells[2].split()[0]
    assert {r.id: r.severity for r in RULES} == book
