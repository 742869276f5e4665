from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "weishang.api"
    label = "api"
    verbose_name = _("API")

    def ready(self) -> None:
        from weishang.api.services import tokens_revoke_all
        from weishang.core.passwords import PASSWORD_CHANGED_HOOKS

        if tokens_revoke_all not in PASSWORD_CHANGED_HOOKS:
            PASSWORD_CHANGED_HOOKS.append(tokens_revoke_all)
