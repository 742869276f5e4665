from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitorConfig(AppConfig):
    """Channel health measured live (M10): the simulator's figure rules computed each month on
    the live ledger, orders and stock, beside the plan's forecast; breaches reach the owner."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "weishang.monitor"
    label = "monitor"
    verbose_name = _("channel health (渠道健康)")

    def ready(self) -> None:
        from weishang.monitor import command
        from weishang.rewards.management.commands.plan import SUBCOMMANDS

        SUBCOMMANDS["monitor"] = (command.HELP, command.arguments, command.run)
