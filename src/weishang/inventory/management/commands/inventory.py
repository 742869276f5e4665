"""``weishang inventory``: the brand's warehouse stock at moving average cost.

- ``verify``: the valuation against its layers, the warehouses' units and the ledger, and each batch-tracked
  SKU's batches against their moves and the warehouses (exit 1 on a difference);
- ``value``: each SKU's units, value and average cost;
- ``open [--cost CODE=12.50 …]``: value warehouse units that have no cost yet (stock from before valuation);
- ``reorder``: the reorder rules' proposals; ``alerts``: tell the warehouse of SKUs below their minimum.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from weishang.catalog.models import SKU
from weishang.core.errors import BusinessError
from weishang.inventory import batches, selectors, services


class Command(BaseCommand):
    help = "Inventory valuation at moving average cost: verify, value, open, reorder, alerts."

    def add_arguments(self, parser):
        parser.add_argument("action", choices=["verify", "value", "open", "reorder", "alerts"])
        parser.add_argument(
            "--cost", action="append", default=[], metavar="CODE=YUAN", help="open: a SKU's unit cost (repeat)"
        )

    def handle(self, *args, action: str, cost: list[str], **options):
        getattr(self, f"do_{action}")(cost)

    def do_verify(self, _cost):
        problems = services.valuation_verify() + batches.batches_verify()
        for problem in problems:
            self.stderr.write(problem)
        if problems:
            raise CommandError(f"{len(problems)} valuation differences")
        self.stdout.write(
            self.style.SUCCESS(
                "the valuation matches its layers, the warehouses and the ledger; the batches match their moves"
            )
        )

    def do_value(self, _cost):
        for val in selectors.valuations():
            average = val.average_cost
            self.stdout.write(
                f"{val.sku.code:<16} {val.quantity:>8} units  ¥{val.value:>12}  "
                f"average ¥{average if average is not None else '—'}"
            )
        self.stdout.write(f"total ¥{selectors.valuation_total()}")

    def do_open(self, cost):
        costs = {}
        for item in cost:
            code, sep, value = item.partition("=")
            sku = SKU.objects.filter(code=code.strip()).first()
            if not sep or sku is None:
                raise CommandError(f"--cost {item!r}: give CODE=YUAN with a SKU code that exists")
            costs[sku.pk] = value
        try:
            layers = services.valuation_open(costs=costs)
        except BusinessError as exc:
            raise CommandError(str(exc)) from None
        for layer in layers:
            self.stdout.write(f"opened {layer.quantity} units of SKU {layer.sku_id} at ¥{layer.value}")
        self.stdout.write(self.style.SUCCESS(f"{len(layers)} SKU(s) opened"))

    def do_reorder(self, _cost):
        for p in selectors.reorder_proposals(include_covered=True):
            self.stdout.write(
                f"{p.rule.sku.code:<16} on hand {p.on_hand:>6}  on order {p.incoming:>6}  "
                f"min {p.rule.minimum:>6}  max {p.rule.maximum:>6}  → order {p.quantity}"
            )

    def do_alerts(self, _cost):
        self.stdout.write(f"{services.low_stock_alerts()} rule(s) told")
