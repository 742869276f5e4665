from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ApiConfig(AppConfig):
    name = "weishang.api"
    label = "api"
    verbose_name = _("API")

    def ready(self) -> None:
        from weishang.api.services import token_revoke, tokens_live, tokens_revoke_all
        from weishang.core import devices
        from weishang.core.passwords import PASSWORD_CHANGED_HOOKS

        if tokens_revoke_all not in PASSWORD_CHANGED_HOOKS:
            PASSWORD_CHANGED_HOOKS.append(tokens_revoke_all)
        # The account pages and the console see and sign out devices through core.devices.
        devices.register(devices.DeviceStore(live=tokens_live, revoke=token_revoke, revoke_all=tokens_revoke_all))
