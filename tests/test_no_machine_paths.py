"""Tests run from any clone on any machine: none reads a file by an absolute path of one machine
(the shared reference material is found beside the clone, see tests/plans/test_lint_docs.py)."""

from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent

# A string literal that starts with a machine's root folder ("/work/…", "/home/…", "/Users/…").
MACHINE_PATH = re.compile(r"""["'](/work/|/home/|/Users/|/root/)""")


def test_no_test_reads_an_absolute_machine_path():
    offenders = [
        f"{path.relative_to(TESTS)}:{number}"
        for path in sorted(TESTS.rglob("*.py"))
        if path != Path(__file__).resolve()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if MACHINE_PATH.search(line)
    ]
    assert offenders == []
