from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PromotionsConfig(AppConfig):
    """Consumer promotions (M10): coupons and flash sales on retail orders in the shop."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "weishang.promotions"
    label = "promotions"
    verbose_name = _("promotions (优惠券与秒杀)")

    def ready(self) -> None:
        # A shop order's coupon and flash units follow the order: paid, cancelled, refunded.
        from weishang.core.outbox import outbox_subscribe
        from weishang.promotions.services import promotions_follow_events

        outbox_subscribe(promotions_follow_events)
