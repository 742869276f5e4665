"""weishang campaigns sync · weishang campaigns report: live campaigns from the command line (a
periodic ``sync`` heals an order event the outbox consumer read out of order: seats of cancelled
orders go back, an upline shipping a paid order's gift is paid for it)."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from weishang.campaigns import selectors, services
from weishang.campaigns.models import Campaign
from weishang.core.replicas import replica_reads


class Command(BaseCommand):
    help = "Bring campaign seats in line with their orders, or print what each campaign brought."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("sync", help="settle every seat whose order was paid, cancelled, rejected or refunded")
        sub.add_parser("report", help="seats, orders, cash, recruits, upgrades, gifts, prizes, cost, budget (JSON)")

    def handle(self, *args, action, **options):
        if action == "sync":
            self.stdout.write(f"{services.seats_sync()} campaign seat(s) settled.")
            return
        with replica_reads():
            rows = [selectors.campaign_report(c).as_dict() for c in Campaign.objects.order_by("starts", "pk")]
        self.stdout.write(json.dumps(rows, ensure_ascii=False, indent=2))
