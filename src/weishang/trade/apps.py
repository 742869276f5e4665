from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class TradeConfig(AppConfig):
    name = "weishang.trade"
    label = "trade"
    verbose_name = _("Trade")

    def ready(self) -> None:
        # The team-volume rollup: follows the order events after each commit (before the reward
        # engine, which reads it: trade's app comes first) and follows every referrer move.
        from weishang.channel import tree
        from weishang.core.outbox import outbox_subscribe
        from weishang.trade import volume

        outbox_subscribe(volume.volume_process_inline)
        tree.on_move(tree.Relation.REFERRER, volume.volume_shift)
