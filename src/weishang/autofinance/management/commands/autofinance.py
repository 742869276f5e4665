"""``weishang autofinance schedule``: a loan's repayment schedule, as the desk and a bank show it.

    weishang autofinance schedule --principal 100000 --months 36 --rate 4.75 \\
        [--method equal_instalment|equal_principal|flat] [--fees 1500] [--format table|json] [--lang zh-hans|en]

Every period (number, payment, principal, interest, balance left) and the totals (total interest,
total paid, the APR: the IRR of the cash flows × 12, fees inside). The table is in Chinese unless
``--lang en`` or the environment's ``LANGUAGE`` is English; ``--format json`` has stable English
keys, money as strings with two decimals and rates as percent strings with four. Bad terms are
refused with a message naming the field (exit status 1, no traceback). The arithmetic is
``weishang.autofinance.arithmetic``; nothing here touches the database.
"""

from __future__ import annotations

import json
import os
import unicodedata
from decimal import Decimal

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from weishang.autofinance.arithmetic import METHODS, LoanTermsError, Schedule, schedule

FORMATS = ("table", "json")
LANGUAGES = ("zh-hans", "en")
OPTIONS = {"annual_rate": "rate"}  # the arithmetic's field → this command's option, where they differ


def method_label(method: str) -> str:
    return {
        "equal_instalment": pgettext("loan method", "Equal instalment"),
        "equal_principal": pgettext("loan method", "Equal principal"),
        "flat": pgettext("loan method", "Flat rate"),
    }[method]


def environment_language() -> str:
    """English when the environment's ``LANGUAGE`` (its first entry) is English, else the site's."""
    first = os.environ.get("LANGUAGE", "").split(":")[0].strip().lower()
    return "en" if first.startswith("en") else settings.LANGUAGE_CODE


def _width(text: str) -> int:
    """Columns ``text`` takes in a terminal: Chinese characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _right(text: str, width: int) -> str:
    return " " * max(0, width - _width(text)) + text


def _yuan(amount: Decimal) -> str:
    return f"{amount:,.2f}"


def table(loan: Schedule) -> str:
    """The schedule as a readable table in the active language."""
    headers = [
        pgettext("loan schedule", "No."),
        pgettext("loan schedule", "Payment"),
        pgettext("loan schedule", "Principal"),
        pgettext("loan schedule", "Interest"),
        pgettext("loan schedule", "Balance"),
    ]
    rows = [
        [str(p.number), _yuan(p.payment), _yuan(p.principal), _yuan(p.interest), _yuan(p.balance)] for p in loan.periods
    ]
    widths = [max(_width(cell) for cell in column) for column in zip(headers, *rows, strict=True)]
    lines = [
        _("Loan {principal} yuan, {months} months, annual rate {rate}, {method}, fees {fees} yuan").format(
            principal=_yuan(loan.principal),
            months=loan.months,
            rate=f"{loan.annual_rate}%",
            method=method_label(loan.method),
            fees=_yuan(loan.fees),
        ),
        "",
        "  ".join(_right(cell, width) for cell, width in zip(headers, widths, strict=True)),
    ]
    lines += ["  ".join(_right(cell, width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    totals = [
        (_("Total interest"), _yuan(loan.total_interest)),
        (_("Total paid"), _yuan(loan.total_paid)),
        (_("Total cost with fees"), _yuan(loan.total_cost)),
        (_("APR (IRR × 12)"), f"{loan.apr}%"),
    ]
    label_width = max(_width(label) for label, _value in totals)
    value_width = max(len(value) for _label, value in totals)
    lines.append("")
    lines += [f"{label}{' ' * (label_width - _width(label))}  {value:>{value_width}}" for label, value in totals]
    return "\n".join(lines)


class Command(BaseCommand):
    help = "Car finance: a loan's repayment schedule (equal instalment, equal principal, flat) with its true APR."
    requires_system_checks: list[str] = []  # pure arithmetic: no database, no models to check

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        command = sub.add_parser("schedule", help="print every period of a loan and its totals")
        # Read as text and checked by the arithmetic, so a bad value gets its message naming the field.
        command.add_argument("--principal", required=True, help="the amount lent, in yuan (e.g. 100000)")
        command.add_argument("--months", required=True, help="the number of monthly payments, 1 to 120")
        command.add_argument("--rate", required=True, help="the annual rate in percent (2.88 means 2.88%%)")
        command.add_argument("--method", default="equal_instalment", help=f"one of {', '.join(METHODS)}")
        command.add_argument("--fees", default="0", help="fees paid up front, in yuan (they count in the APR)")
        command.add_argument("--format", default="table", help="table (default) or json")
        command.add_argument("--lang", default=None, help="zh-hans or en (default: the environment's LANGUAGE)")

    def handle(self, *args, action: str, **options):
        language = options["lang"] or environment_language()
        with translation.override(language if language in LANGUAGES else settings.LANGUAGE_CODE):
            if options["lang"] is not None and options["lang"] not in LANGUAGES:
                raise CommandError(_("Unknown language {value}: use zh-hans or en.").format(value=options["lang"]))
            if options["format"] not in FORMATS:
                raise CommandError(_("Unknown format {value}: use table or json.").format(value=options["format"]))
            try:
                loan = schedule(
                    principal=options["principal"],
                    months=options["months"],
                    annual_rate=options["rate"],
                    method=options["method"],
                    fees=options["fees"],
                )
            except LoanTermsError as exc:
                option = OPTIONS.get(exc.field, exc.field)
                raise CommandError(f"--{option}: {exc.text(translation.get_language())}") from None
            if options["format"] == "json":
                self.stdout.write(json.dumps(loan.as_dict(), ensure_ascii=False, indent=2))
            else:
                self.stdout.write(table(loan))
