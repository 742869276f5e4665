"""The ``weishang`` console script: Django management with Weishang's settings.

``weishang migrate``, ``weishang demo``, ``weishang serve`` and every other management
command (``weishang help`` lists them). ``serve`` is ``runserver`` without the auto-reloader's
surprises: it binds 127.0.0.1:8000 by default and prints where to go and how to log in.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "weishang.settings")
    argv = list(sys.argv if argv is None else argv)
    argv[0] = "weishang"
    from django.core.management import execute_from_command_line

    execute_from_command_line(argv)


if __name__ == "__main__":  # pragma: no cover
    main()
