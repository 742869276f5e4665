"""``weishang plan validate|schema|upload|activate|list`` — the plan file from the command line
(``plan monitor``, a month's channel health, is added by the monitor app: ``SUBCOMMANDS``).

``validate`` needs no database: it reads the file and prints every problem with file, line,
column and key path (exit 1), or a one-line summary (exit 0).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime, time
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from weishang.core.errors import BusinessError
from weishang.plans import PlanError, load_plan, plan_json_schema

# Subcommands an app above rewards adds when it is ready (monitor: ``plan monitor``), so that this
# command need not import it: name -> (help, add its arguments to the parser, run it with the options).
SUBCOMMANDS: dict[str, tuple[str, Callable[[Any], None], Callable[..., None]]] = {}


class Command(BaseCommand):
    help = "Plan files: validate, lint, simulate, print the JSON Schema, upload a version, activate it, list versions."
    requires_system_checks = []  # validate, lint, simulate and schema read files only: no database needed

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        validate = sub.add_parser("validate", help="check a plan file (no database needed)")
        validate.add_argument("file")
        validate.add_argument("--format", choices=["text", "json"], default="text")
        lint = sub.add_parser("lint", help="read a plan against the compliance rulebook (no database needed)")
        lint.add_argument("file")
        lint.add_argument(
            "--jurisdiction",
            choices=["cn", "wechat", "us", "eu", "uk", "all"],
            help="rulebook to apply (default: the plan's own jurisdiction key)",
        )
        lint.add_argument("--format", choices=["text", "json"], default="text")
        lint.add_argument("--lang", choices=["zh", "en", "both"], default="both", help="text report language")
        lint.add_argument("--simulate", metavar="SCENARIO", help="also apply the rules on simulated figures")
        simulate = sub.add_parser("simulate", help="simulate the plan in a market scenario (no database needed)")
        simulate.add_argument("file")
        simulate.add_argument("--scenario", required=True)
        simulate.add_argument("--months", type=int)
        simulate.add_argument("--seed", type=int)
        simulate.add_argument("--out", required=True, help="directory for report.json, report.html and charts")
        simulate.add_argument("--lang", choices=["zh", "en", "both"], default="both", help="summary language")
        simulate.add_argument("--progress", action="store_true", help="show a progress bar even when not a TTY")
        simulate.add_argument(
            "--campaign",
            action="append",
            default=[],
            metavar="CAMPAIGN",
            help="a campaign file (YAML overlay); the months its dates touch run with it laid over (repeatable)",
        )
        sub.add_parser("schema", help="print the plan file's JSON Schema")
        upload = sub.add_parser("upload", help="store a plan file as a new version")
        upload.add_argument("file")
        activate = sub.add_parser("activate", help="put a stored version in force")
        activate.add_argument("plan_id")
        activate.add_argument("version", type=int)
        activate.add_argument("--from", dest="active_from", help="date or date-time it starts (default: now)")
        activate.add_argument(
            "--acknowledge",
            default="",
            help="who accepts the plan's HIGH linter findings, and why (required when it has any)",
        )
        sub.add_parser("list", help="stored versions and which is in force")
        for name, (text, arguments, _run) in SUBCOMMANDS.items():
            arguments(sub.add_parser(name, help=text))

    def handle(self, *args, action: str, **options):
        if action in SUBCOMMANDS:
            return SUBCOMMANDS[action][2](self, **options)
        return getattr(self, f"_{action}")(**options)

    def _read(self, file: str) -> str:
        path = Path(file)
        if not path.is_file():
            raise CommandError(f"{file}: no such file")
        return path.read_text(encoding="utf-8")

    def _validate(self, file: str, format: str, **_):
        try:
            plan = load_plan(file, text=self._read(file))
        except PlanError as exc:
            if format == "json":
                self.stdout.write(
                    json.dumps(
                        {"file": file, "valid": False, "issues": [i.as_dict() for i in exc.issues]}, ensure_ascii=False
                    )
                )
            else:
                for issue in exc.issues:
                    self.stderr.write(str(issue))
            raise CommandError(f"{file}: {len(exc.issues)} problem(s)", returncode=1) from None
        summary = (
            f"{file}: {plan.id} v{plan.version} ({plan.kind}, jurisdiction {plan.jurisdiction}): "
            f"{len(plan.levels)} levels, {len(plan.rewards)} rewards, {len(plan.upgrades)} upgrades — valid"
        )
        if format == "json":
            self.stdout.write(
                json.dumps({"file": file, "valid": True, "plan": plan.id, "version": plan.version}, ensure_ascii=False)
            )
        else:
            self.stdout.write(self.style.SUCCESS(summary))

    def _load(self, file: str):
        try:
            return load_plan(file, text=self._read(file))
        except PlanError as exc:
            for issue in exc.issues:
                self.stderr.write(str(issue))
            raise CommandError(f"{file}: {len(exc.issues)} problem(s); fix them first", returncode=2) from None

    def _simulated(self, plan, scenario: str, **kw):
        from weishang.plans.simulate import run_simulation

        try:
            return run_simulation(plan, scenario, **kw)
        except PlanError as exc:  # the scenario file's problems, with file, line and column
            for issue in exc.issues:
                self.stderr.write(str(issue))
            raise CommandError(f"{scenario}: {len(exc.issues)} problem(s)", returncode=2) from None

    def _lint(self, file: str, jurisdiction: str | None, format: str, lang: str, simulate: str | None, **_):
        from weishang.plans.lint import lint_plan

        plan = self._load(file)
        figures = self._simulated(plan, simulate, lint=False).figures() if simulate else None
        report = lint_plan(plan, jurisdiction, figures=figures)
        self.stdout.write(report.to_json(indent=2) if format == "json" else report.as_text(lang))
        if report.blocking:
            raise SystemExit(report.exit_code)

    def _simulate(
        self,
        file: str,
        scenario: str,
        months: int | None,
        seed: int | None,
        out: str,
        lang: str,
        progress: bool,
        campaign: list[str],
        **_,
    ):
        from weishang.plans.campaign import parse_campaign

        plan = self._load(file)
        campaigns = []
        for path in campaign:
            try:
                campaigns.append(parse_campaign(self._read(path)))
            except ValueError as exc:
                raise CommandError(f"{path}: {exc}", returncode=2) from None
        try:
            result = self._simulated(
                plan,
                scenario,
                months=months,
                seed=seed,
                out_dir=out,
                progress=True if progress else None,
                campaigns=campaigns,
            )
        except ValueError as exc:  # a campaign that does not fit the plan
            raise CommandError(str(exc), returncode=2) from None
        self.stdout.write(result.summary_text(lang))
        if not result.report["conservation"]["all_balanced"]:
            raise CommandError("conservation check failed: see report.json (conservation)")

    def _schema(self, **_):
        self.stdout.write(json.dumps(plan_json_schema(), ensure_ascii=False, indent=2))

    def _upload(self, file: str, **_):
        from weishang.rewards.plan_versions import PlanInvalid, plan_upload

        try:
            version = plan_upload(text=self._read(file), filename=Path(file).name)
        except PlanInvalid as exc:
            for issue in exc.issues:
                self.stderr.write(str(issue))
            raise CommandError(f"{file}: {len(exc.issues)} problem(s)") from None
        except BusinessError as exc:
            raise CommandError(str(exc.message)) from None
        self.stdout.write(self.style.SUCCESS(f"stored {version} ({version.name})"))

    def _activate(self, plan_id: str, version: int, active_from: str | None, acknowledge: str, **_):
        from weishang.rewards.models import PlanVersion
        from weishang.rewards.plan_versions import plan_activate

        row = PlanVersion.objects.filter(plan_id=plan_id, version=version).first()
        if row is None:
            raise CommandError(f"no stored plan {plan_id} v{version}; upload it first")
        start = None
        if active_from:
            start = parse_datetime(active_from)
            day = parse_date(active_from) if start is None else None
            if start is None and day is None:
                raise CommandError(f"--from {active_from}: write a date (2026-12-01) or a date-time")
            start = start or datetime.combine(day, time.min)
            if timezone.is_naive(start):
                start = timezone.make_aware(start)
        try:
            row = plan_activate(version=row, active_from=start, acknowledgement=acknowledge)
        except BusinessError as exc:
            for finding in getattr(exc, "findings", []):
                self.stderr.write(
                    f"{finding.severity} {finding.rule} {finding.path} (line {finding.line}): {finding.message_en}"
                )
            raise CommandError(str(exc.message)) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"{row} activated from {timezone.localtime(row.active_from):%Y-%m-%d %H:%M}"
                + (" and synced to the catalog" if row.synced_at else "")
            )
        )

    def _list(self, **_):
        from weishang.rewards.models import PlanVersion
        from weishang.rewards.plan_versions import plan_in_force

        current = plan_in_force()
        for row in PlanVersion.objects.order_by("plan_id", "version"):
            state = f"active from {timezone.localtime(row.active_from):%Y-%m-%d %H:%M}" if row.is_activated else "draft"
            mark = "*" if current and row.pk == current.pk else " "
            self.stdout.write(f"{mark} {row.plan_id} v{row.version}  {row.kind:11}  {state}  {row.name}")
