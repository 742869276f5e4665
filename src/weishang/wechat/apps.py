from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WechatConfig(AppConfig):
    """WeChat (M11): sign-in with the 公众号's web OAuth and the mini-program's code2Session, an
    identity bound once to the agent's phone account; a thin client of WeChat's HTTP API and its
    fake on loopback for tests and the demo."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "weishang.wechat"
    label = "wechat"
    verbose_name = _("WeChat (微信)")

    def ready(self) -> None:
        from weishang.wechat import checks  # noqa: F401 - registers the settings check
