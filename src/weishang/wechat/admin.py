"""WeChat in the console (M11): who has bound which WeChat, and every bind and unbind (read-only;
an agent binds and unbinds from their phone). The owner's: core.roles."""

from __future__ import annotations

from django.contrib import admin

from weishang.console import kit
from weishang.wechat.models import WechatBindingEvent, WechatIdentity


@admin.register(WechatIdentity)
class WechatIdentityAdmin(kit.ReadOnlyAdmin):
    list_display = ("user", "kind", "nickname", "bound_at", "last_sign_in_at")
    list_filter = ("kind",)
    search_fields = ("user__phone", "user__username", "nickname", "openid")
    list_select_related = ("user",)
    ordering = ("-bound_at",)


@admin.register(WechatBindingEvent)
class WechatBindingEventAdmin(kit.ReadOnlyAdmin):
    list_display = ("at", "user", "kind", "action", "how", "by")
    list_filter = ("action", "kind")
    search_fields = ("user__phone", "user__username", "openid")
    list_select_related = ("user", "by")
