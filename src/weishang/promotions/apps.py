from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PromotionsConfig(AppConfig):
    """Consumer promotions (M10): coupons and flash sales on retail orders in the shop."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "weishang.promotions"
    label = "promotions"
    verbose_name = _("promotions (优惠券与秒杀)")
