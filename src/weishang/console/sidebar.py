"""The console's sidebar: its sections and entries, and who sees each entry.

django-unfold calls :func:`navigation` with each request (``UNFOLD["SIDEBAR"]["navigation"]`` names
it). An entry names the permission its page needs (``perm``), and a staff member sees the entries
whose permission they hold, so that no entry leads to a page that refuses them; which role holds
which permission is said once, in ``weishang.core.roles``. ``perm=None`` (the dashboard only):
every staff member sees the entry.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Entry:
    title: object
    icon: str
    url_name: str
    # The permission the entry's page needs; a tuple: any one of them (None: any staff member).
    perm: str | tuple[str, ...] | None = None
    query: str = ""  # appended to the link, e.g. "kind__exact=pickup"
    # When the entry is highlighted (default: django-unfold's, the link's path is in the request's).
    active: Callable | None = None

    def visible_to(self, user) -> bool:
        if self.perm is None:
            return True
        perms = (self.perm,) if isinstance(self.perm, str) else self.perm
        return any(user.has_perm(p) for p in perms)

    def as_item(self) -> dict:
        link = reverse(self.url_name) + (f"?{self.query}" if self.query else "")
        item = {"title": self.title, "icon": self.icon, "link": link}
        if self.active is not None:
            item["active"] = self.active
        return item


def _on(path_part: str, param: str, value: str, *, equal: bool) -> Callable:
    """Active on pages under ``path_part`` whose ``param`` is (``equal``) or is not ``value``."""
    return lambda request: path_part in request.path and (request.GET.get(param) == value) is equal


def _audit_perms() -> tuple[str, ...]:
    from weishang.console.audit import TRACKED  # the audit page shows a kind to those who may view it

    return tuple(t.perm for t in TRACKED)


def sections() -> list[tuple[object, list[Entry]]]:
    return [
        (
            _("Overview"),
            [
                Entry(_("Dashboard"), "dashboard", "admin:index"),
                Entry(_("Audit history"), "manage_history", "admin:audit_history", _audit_perms()),
                Entry(_("Background jobs"), "schedule", "admin:jobs_overview", "jobs.view_scheduledrun"),
            ],
        ),
        (
            _("Channel"),
            [
                Entry(_("Agents"), "groups", "admin:channel_agent_changelist", "channel.view_agent"),
                Entry(
                    _("Applications"), "how_to_reg", "admin:channel_application_changelist", "channel.view_application"
                ),
                Entry(_("Levels"), "military_tech", "admin:channel_level_changelist", "channel.view_level"),
                Entry(
                    _("Relationship log"), "history", "admin:channel_agenttrail_changelist", "channel.view_agenttrail"
                ),
            ],
        ),
        (
            _("Catalog"),
            [
                Entry(_("Products"), "inventory_2", "admin:catalog_product_changelist", "catalog.view_product"),
                Entry(_("SKUs"), "qr_code", "admin:catalog_sku_changelist", "catalog.view_sku"),
                Entry(_("Price grid"), "grid_on", "admin:catalog_price_grid", "catalog.view_levelprice"),
                Entry(
                    _("Product selection"),
                    "lightbulb",
                    "admin:selection_candidate_changelist",
                    "selection.view_candidate",
                ),
                Entry(
                    _("Selection criteria"), "rule", "admin:selection_criterion_changelist", "selection.view_criterion"
                ),
            ],
        ),
        (
            _("Launch toolkit"),
            [
                Entry(_("Materials"), "photo_library", "admin:toolkit_material_changelist", "toolkit.view_material"),
                Entry(_("FAQ"), "quiz", "admin:faq_faqentry_changelist", "faq.view_faqentry"),
                Entry(
                    _("Poster templates"),
                    "wallpaper",
                    "admin:toolkit_postertemplate_changelist",
                    "toolkit.view_postertemplate",
                ),
                Entry(
                    _("Qualifications"),
                    "verified",
                    "admin:toolkit_qualification_changelist",
                    "toolkit.view_qualification",
                ),
                Entry(
                    _("Authorization certificates"),
                    "workspace_premium",
                    "admin:certificates_certificate_changelist",
                    "certificates.view_certificate",
                ),
                Entry(
                    _("Certificate template"),
                    "design_services",
                    "admin:certificates_certificatetemplate_changelist",
                    "certificates.view_certificatetemplate",
                ),
                Entry(_("Launch documents"), "description", "admin:toolkit_documents", "toolkit.view_documents"),
            ],
        ),
        (
            _("Growth"),
            [
                Entry(_("Leads"), "person_search", "admin:leads_lead_changelist", "leads.view_lead"),
                Entry(_("Ad placements"), "campaign", "admin:leads_adplacement_changelist", "leads.view_adplacement"),
                Entry(_("Channels by month"), "leaderboard", "admin:leads_channel_report", "leads.view_adspend"),
                Entry(_("Local stores"), "store", "admin:stores_store_changelist", "stores.view_store"),
                Entry(_("Meetings"), "event", "admin:meetings_meeting_changelist", "meetings.view_meeting"),
                Entry(
                    _("Live campaigns"), "celebration", "admin:campaigns_campaign_changelist", "campaigns.view_campaign"
                ),
                Entry(_("Launch phases"), "flag", "admin:growth_launchphase_changelist", "growth.view_launchphase"),
                Entry(_("Work plans"), "checklist", "admin:growth_workplan_changelist", "growth.view_workplan"),
                Entry(
                    _("Channel health (渠道健康)"),
                    "monitor_heart",
                    "admin:monitor_health",
                    "monitor.view_healthsnapshot",
                ),
            ],
        ),
        (
            _("Customer service (客服)"),
            [
                Entry(
                    _("Customer inbox"), "forum", "admin:service_conversation_changelist", "service.view_conversation"
                ),
                Entry(
                    _("Quick replies"), "quickreply", "admin:service_quickreply_changelist", "service.view_quickreply"
                ),
                Entry(_("Auto replies"), "smart_toy", "admin:service_autoreply_changelist", "service.view_autoreply"),
            ],
        ),
        (
            _("Academy"),
            [
                Entry(_("Courses"), "school", "admin:academy_course_changelist", "academy.view_course"),
                Entry(_("Slide decks"), "slideshow", "admin:academy_slidedeck_changelist", "academy.view_slidedeck"),
                Entry(_("Live classes"), "live_tv", "admin:academy_liveclass_changelist", "academy.view_liveclass"),
                Entry(_("Enrolments"), "how_to_reg", "admin:academy_enrolment_changelist", "academy.view_enrolment"),
                Entry(
                    _("Course certificates"),
                    "card_membership",
                    "admin:academy_coursecertificate_changelist",
                    "academy.view_coursecertificate",
                ),
                Entry(_("Academy report"), "insights", "admin:academy_course_report", "academy.view_academy_report"),
            ],
        ),
        (
            _("Security codes"),
            [
                Entry(_("Code batches"), "qr_code_2", "admin:codes_codebatch_changelist", "codes.view_codebatch"),
                Entry(_("Item codes"), "qr_code_scanner", "admin:codes_itemcode_changelist", "codes.view_itemcode"),
                Entry(
                    _("Channel conflict (窜货)"),
                    "report",
                    "admin:codes_channelconflict_changelist",
                    "codes.view_channelconflict",
                ),
            ],
        ),
        (
            _("Trade"),
            [
                Entry(
                    _("Orders"),
                    "receipt_long",
                    "admin:trade_order_changelist",
                    "trade.view_order",
                    active=_on("/trade/order/", "kind__exact", "pickup", equal=False),
                ),
                Entry(_("Payments"), "payments", "admin:trade_payment_changelist", "trade.view_payment"),
                Entry(
                    _("Receiving accounts"),
                    "qr_code_2",
                    "admin:trade_receivingaccount_changelist",
                    "trade.view_receivingaccount",
                ),
                Entry(
                    _("Pick-ups"),
                    "local_shipping",
                    "admin:trade_order_changelist",
                    "trade.view_order",
                    query="kind__exact=pickup",
                    active=_on("/trade/order/", "kind__exact", "pickup", equal=True),
                ),
                Entry(_("Stock on hand"), "inventory", "admin:trade_stocklevel_changelist", "trade.view_stocklevel"),
                Entry(_("Stock moves"), "swap_horiz", "admin:trade_stockmove_changelist", "trade.view_stockmove"),
                Entry(_("Stock locations"), "warehouse", "admin:trade_location_changelist", "trade.view_location"),
                Entry(
                    _("Wallets"),
                    "account_balance_wallet",
                    "admin:ledger_account_changelist",
                    "ledger.view_account",
                    query="purpose__exact=agent_wallet",
                    active=_on("/ledger/account/", "purpose__exact", "agent_wallet", equal=True),
                ),
                Entry(_("Customers"), "person", "admin:trade_customer_changelist", "trade.view_customer"),
                Entry(_("Outbox"), "outbox", "admin:core_outboxevent_changelist", "core.view_outboxevent"),
                Entry(_("Sales analysis"), "bar_chart", "admin:sales_analysis", "sales.view_sales_report"),
            ],
        ),
        (
            _("Purchasing"),
            [
                Entry(
                    _("Purchase orders"),
                    "shopping_cart",
                    "admin:purchasing_purchaseorder_changelist",
                    "purchasing.view_purchaseorder",
                ),
                Entry(_("Suppliers"), "factory", "admin:purchasing_supplier_changelist", "purchasing.view_supplier"),
                Entry(
                    _("Supplier prices"),
                    "sell",
                    "admin:purchasing_supplierprice_changelist",
                    "purchasing.view_supplierprice",
                ),
                Entry(
                    _("Supplier bills"),
                    "receipt",
                    "admin:purchasing_supplierbill_changelist",
                    "purchasing.view_supplierbill",
                ),
            ],
        ),
        (
            _("B2B trade"),
            [
                Entry(_("B2B orders"), "handshake", "admin:b2b_order_changelist", "b2b.view_order"),
                Entry(_("Inquiries"), "request_quote", "admin:b2b_inquiry_changelist", "b2b.view_inquiry"),
                Entry(_("Listings"), "storefront", "admin:b2b_listing_changelist", "b2b.view_listing"),
                Entry(_("Claims"), "assignment_return", "admin:b2b_claim_changelist", "b2b.view_claim"),
                Entry(_("Credit notes"), "receipt_long", "admin:b2b_creditnote_changelist", "b2b.view_creditnote"),
                Entry(
                    _("Business accounts"),
                    "corporate_fare",
                    "admin:b2b_businessaccount_changelist",
                    "b2b.view_businessaccount",
                ),
                Entry(
                    _("Business members"),
                    "badge",
                    "admin:b2b_businessmember_changelist",
                    "b2b.view_businessmember",
                ),
            ],
        ),
        (
            _("Car finance"),
            [
                Entry(
                    _("Loan applications"),
                    "request_quote",
                    "admin:autofinance_loanapplication_changelist",
                    "autofinance.view_loanapplication",
                ),
                Entry(
                    _("Overdue loan steps"),
                    "alarm",
                    "admin:autofinance_loanapplication_queue",
                    "autofinance.view_loanapplication",
                ),
                Entry(
                    _("Car sales"), "directions_car", "admin:autofinance_carsale_changelist", "autofinance.view_carsale"
                ),
                Entry(
                    _("Finance products"),
                    "account_balance",
                    "admin:autofinance_financeproduct_changelist",
                    "autofinance.view_financeproduct",
                ),
                Entry(
                    _("Lenders"),
                    "account_balance_wallet",
                    "admin:autofinance_lender_changelist",
                    "autofinance.view_lender",
                ),
                Entry(_("Cars"), "garage", "admin:autofinance_car_changelist", "autofinance.view_car"),
                Entry(
                    _("Finance customers"),
                    "person",
                    "admin:autofinance_customer_changelist",
                    "autofinance.view_customer",
                ),
                Entry(
                    _("Penetration incentives"),
                    "emoji_events",
                    "admin:autofinance_penetrationincentive_changelist",
                    "autofinance.view_penetrationincentive",
                ),
                Entry(_("Step SLAs"), "timer", "admin:autofinance_stepsla_changelist", "autofinance.view_stepsla"),
                Entry(
                    _("Finance desk reports"),
                    "monitoring",
                    "admin:autofinance_loanapplication_report",
                    "autofinance.view_finance_report",
                ),
            ],
        ),
        (
            _("Inventory"),
            [
                Entry(
                    _("Stock valuation"),
                    "price_check",
                    "admin:inventory_skuvaluation_changelist",
                    "inventory.view_skuvaluation",
                ),
                Entry(
                    _("Valuation layers"),
                    "stacks",
                    "admin:inventory_valuationlayer_changelist",
                    "inventory.view_valuationlayer",
                ),
                Entry(
                    _("Reorder rules"),
                    "production_quantity_limits",
                    "admin:inventory_reorderrule_changelist",
                    "inventory.view_reorderrule",
                ),
                Entry(
                    _("Stock counts"),
                    "fact_check",
                    "admin:inventory_stockcount_changelist",
                    "inventory.view_stockcount",
                ),
                Entry(_("Batches and expiry"), "event", "admin:inventory_batch_changelist", "inventory.view_batch"),
                Entry(
                    _("SKUs kept by batch"),
                    "qr_code_2",
                    "admin:inventory_batchtracking_changelist",
                    "inventory.view_batchtracking",
                ),
            ],
        ),
        (
            _("Ledger"),
            [
                Entry(
                    _("Withdrawals"), "request_quote", "admin:ledger_withdrawal_changelist", "ledger.view_withdrawal"
                ),
                Entry(
                    _("Accounts"),
                    "account_balance",
                    "admin:ledger_account_changelist",
                    "ledger.view_account",
                    active=_on("/ledger/account/", "purpose__exact", "agent_wallet", equal=False),
                ),
                Entry(
                    _("Journal entries"),
                    "menu_book",
                    "admin:ledger_journalentry_changelist",
                    "ledger.view_journalentry",
                ),
                Entry(
                    _("Ledger verify"),
                    "fact_check",
                    "admin:ledger_journalentry_verify_ledger",
                    "ledger.view_journalentry",
                ),
            ],
        ),
        (
            _("Plans & rewards"),
            [
                Entry(_("Plans"), "description", "admin:rewards_planversion_changelist", "rewards.view_planversion"),
                Entry(_("Reward lines"), "redeem", "admin:rewards_rewardline_changelist", "rewards.view_rewardline"),
                Entry(
                    _("Settlement runs"),
                    "event_available",
                    "admin:rewards_settlementrun_changelist",
                    "rewards.view_settlementrun",
                ),
            ],
        ),
        (
            _("Shop promotions"),
            [
                Entry(
                    _("Coupon offers"),
                    "confirmation_number",
                    "admin:promotions_couponoffer_changelist",
                    "promotions.view_couponoffer",
                ),
                Entry(_("Flash sales"), "bolt", "admin:promotions_flashsale_changelist", "promotions.view_flashsale"),
                Entry(
                    _("Promotions report"),
                    "query_stats",
                    "admin:promotions_report",
                    ("promotions.view_couponoffer", "promotions.view_flashsale"),
                ),
            ],
        ),
        (
            _("Integrations"),
            [
                Entry(_("API keys"), "key", "admin:api_apikey_changelist", "api.view_apikey"),
                Entry(_("Device tokens"), "smartphone", "admin:api_apitoken_changelist", "api.view_apitoken"),
                Entry(
                    _("Webhook endpoints"),
                    "webhook",
                    "admin:webhooks_webhookendpoint_changelist",
                    "webhooks.view_webhookendpoint",
                ),
                Entry(
                    _("Webhook deliveries"),
                    "send",
                    "admin:webhooks_webhookdelivery_changelist",
                    "webhooks.view_webhookdelivery",
                ),
                Entry(
                    _("WeChat bindings"), "link", "admin:wechat_wechatidentity_changelist", "wechat.view_wechatidentity"
                ),
                Entry(
                    _("WeChat binding changes"),
                    "history",
                    "admin:wechat_wechatbindingevent_changelist",
                    "wechat.view_wechatbindingevent",
                ),
                Entry(
                    _("Messages sent"),
                    "mark_chat_read",
                    "admin:notifications_delivery_changelist",
                    "notifications.view_delivery",
                ),
            ],
        ),
        (
            _("Brand"),
            [
                Entry(_("Brand settings"), "storefront", "admin:core_brand_changelist", "core.view_brand"),
                Entry(_("Staff"), "badge", "admin:core_user_changelist", "core.view_user"),
                Entry(_("Roles"), "shield_person", "admin:auth_group_changelist", "auth.view_group"),
                Entry(
                    _("Login lockouts"), "lock_person", "admin:axes_accessattempt_changelist", "axes.view_accessattempt"
                ),
            ],
        ),
    ]


def navigation(request) -> list[dict]:
    """The sidebar's sections for this request's user: the entries they may see, in order."""
    return [
        {"title": title, "items": [entry.as_item() for entry in entries if entry.visible_to(request.user)]}
        for title, entries in sections()
    ]
