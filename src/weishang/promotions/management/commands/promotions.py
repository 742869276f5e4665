"""weishang promotions sync · weishang promotions report: consumer promotions from the command line
(a periodic ``sync`` heals an order event the outbox consumer read out of order: coupons of
cancelled orders go back, the brand's share of paid orders is posted, refunds take it back)."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from weishang.core.replicas import replica_reads
from weishang.promotions import selectors, services
from weishang.promotions.models import CouponOffer, FlashSale


class Command(BaseCommand):
    help = "Bring coupons and flash sales in line with their orders, or print what each promotion brought."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("sync", help="settle every promotion whose order was paid, cancelled or refunded")
        sub.add_parser("report", help="orders, units, revenue, discount given, budget left, new customers (JSON)")

    def handle(self, *args, action, **options):
        if action == "sync":
            self.stdout.write(f"{services.redemptions_sync()} promotion use(s) settled.")
            return
        with replica_reads():
            rows = [
                {"kind": "coupon", "id": offer.pk, "name": offer.name, **selectors.offer_report(offer=offer)}
                for offer in CouponOffer.objects.order_by("pk")
            ] + [
                {"kind": "flash_sale", "id": sale.pk, "name": sale.name, **selectors.flash_report(sale=sale)}
                for sale in FlashSale.objects.order_by("pk")
            ]
        self.stdout.write(json.dumps(rows, ensure_ascii=False, default=str, indent=2))
