"""What a brand integration's API key may do. A key holds a list of these; an endpoint names the
one it needs. Agents' device tokens have no scopes: they reach their own records and team only."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

SCOPES = {
    "agents:read": _("Read agents, their levels and uplines"),
    "orders:read": _("Read orders and their lines"),
    "payments:read": _("Read payments"),
    "shipments:write": _("Ship orders and update tracking"),
    "settlements:read": _("Read settlement runs and their reports"),
}
