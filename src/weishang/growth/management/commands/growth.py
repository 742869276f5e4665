"""weishang growth report --period 2026-11 [--format json|text]: what the console's growth pages
show for a month — each channel and ad placement, meeting, launch phase, campaign and the work
plans — as JSON for a script or as lines to read."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand, CommandError

from weishang.core import clock
from weishang.core.replicas import replica_reads
from weishang.growth.selectors import growth_report


class Command(BaseCommand):
    help = "Print the growth report for a month: channels, placements, meetings, phases, campaigns, work plans."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        report = sub.add_parser("report", help="the growth report for a month")
        report.add_argument("--period", default=None, help="the month, YYYY-MM (default: this month)")
        report.add_argument("--format", choices=("json", "text"), default="text")

    def handle(self, *args, action, **options):
        period = options["period"] or f"{clock.today():%Y-%m}"
        try:
            with replica_reads():
                report = growth_report(period)
        except ValueError:
            raise CommandError(f"--period {period!r}: expected a month such as 2026-11") from None
        if options["format"] == "json":
            self.stdout.write(json.dumps(report, ensure_ascii=False, indent=2))
            return
        self.stdout.write(f"Growth report {period}")
        self.stdout.write("Channels: spend, leads, agents, cost per lead, cost per agent, cash")
        for row in report["channels"]:
            self.stdout.write(
                f"  {row['label']}: {row['spend']}, {row['leads']}, {row['converted']}, "
                f"{row['cost_per_lead'] or '-'}, {row['cost_per_agent'] or '-'}, {row['cash_collected']}"
            )
        self.stdout.write("Meetings: guests, agents made, upgrades, cash, cost, ROI")
        for row in report["meetings"]:
            self.stdout.write(
                f"  {row['meeting']}: {row['guests']}, {row['agents_made']}, {row['upgrades']}, "
                f"{row['cash_collected']}, {row['cost']}, {row['roi'] or '-'}"
            )
        for phase in report["phases"]:
            self.stdout.write(f"Phase {phase['phase']} ({phase['starts']} – {phase['ends']}):")
            for target in phase["targets"]:
                self.stdout.write(f"  {target['label']}: {target['actual']} / {target['target']} ({target['share']}%)")
        self.stdout.write(
            "Campaigns: orders, units, revenue, cost, budget (agents' campaigns: seats, recruits, upgrades)"
        )
        for row in report["campaigns"]:
            seats = f"; {row['seats_taken']}, {row['recruits']}, {row['upgrades']}" if row["kind"] == "campaign" else ""
            self.stdout.write(
                f"  {row['campaign']} ({row['kind']}): {row['orders']}, {row['units']}, {row['revenue']}, "
                f"{row['cost']}, {row['budget'] or '-'}{seats}"
            )
        plans = report["work_plans"]
        self.stdout.write(f"Work plans: {plans['plans']}, done {plans['done']}, average {plans['average_share']}%")
