from django.contrib import admin
from unfold.admin import ModelAdmin

from weishang.trade.models import Order


@admin.register(Order)
class OrderAdmin(ModelAdmin):
    list_display = ("number", "kind", "buyer", "seller", "status", "total", "completed_at")
    list_filter = ("kind", "status")
    search_fields = ("number", "buyer__real_name", "buyer__user__phone")
    list_select_related = ("buyer__level", "seller__level")
    readonly_fields = [f.name for f in Order._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
