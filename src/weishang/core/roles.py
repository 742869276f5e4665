"""Brand staff roles: Django groups with explicit permissions.

The table below is the single source of what each role may do in the console. It is applied
after every migration (so new models' permissions join their roles) and by ``weishang demo``.
Agents have no role and are never staff: they cannot reach the console.
"""

from __future__ import annotations

from django.contrib.auth.models import Group, Permission
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

VIEW, ADD, CHANGE, DELETE = "view", "add", "change", "delete"
ALL = (VIEW, ADD, CHANGE, DELETE)

# role code -> (display name, {"app_label.model": actions, ...}, extra "app_label.codename" perms)
ROLES: dict[str, tuple] = {
    "owner": (
        _("Owner"),
        {
            "core.brand": (VIEW, CHANGE),
            "core.user": ALL,
            "auth.group": (VIEW,),
            "channel.level": ALL,
            "channel.agent": (VIEW, ADD, CHANGE),
            "channel.application": (VIEW, CHANGE),
            "channel.agenttrail": (VIEW,),
            "catalog.product": ALL,
            "catalog.productimage": ALL,
            "catalog.sku": ALL,
            "catalog.levelprice": ALL,
            "trade.order": (VIEW, CHANGE),
            "trade.payment": (VIEW, CHANGE),
            "trade.stockmove": (VIEW,),
            "trade.stocklevel": (VIEW,),
            "trade.location": (VIEW, ADD, CHANGE),
            "trade.customer": (VIEW,),
            "trade.receivingaccount": ALL,
            "core.outboxevent": (VIEW,),
            "ledger.account": (VIEW,),
            "ledger.journalentry": (VIEW,),
            "ledger.journalline": (VIEW,),
            "ledger.withdrawal": (VIEW, CHANGE),
            "ledger.withdrawaltransition": (VIEW,),
            "rewards.planversion": (VIEW, ADD, CHANGE),
            "rewards.rewardline": (VIEW, CHANGE),
            "rewards.settlementrun": (VIEW, ADD),
            "api.apikey": (VIEW, ADD, CHANGE),
            "api.apitoken": (VIEW, CHANGE),
            "webhooks.webhookendpoint": ALL,
            "webhooks.webhookdelivery": (VIEW, CHANGE),
            "toolkit.qualification": ALL,
            "toolkit.material": ALL,
            "toolkit.materialfile": ALL,
            "toolkit.postertemplate": ALL,
            "faq.faqcategory": ALL,
            "faq.faqentry": ALL,
            "faq.faqsearch": (VIEW,),
            "codes.codebatch": (VIEW, ADD),
            "codes.itemcode": (VIEW,),
            "codes.channelconflict": (VIEW,),
            "certificates.certificate": (VIEW,),
            "certificates.certificatetemplate": ALL,
            # Channel health (M10): the owner saves a month and acknowledges the breaches told to them.
            "monitor.healthsnapshot": (VIEW, ADD),
            "monitor.healthalert": (VIEW, CHANGE),
            # Background jobs (M13): the owner sees the workers and runs a periodic job now.
            "jobs.scheduledrun": (VIEW,),
            # Inventory (M14): the stock's value at moving average cost, and the reorder rules.
            "inventory.skuvaluation": (VIEW,),
            "inventory.valuationlayer": (VIEW,),
            "inventory.reorderrule": (VIEW, ADD, CHANGE),
            "inventory.stockcount": (VIEW, ADD, CHANGE),
            # Batches and expiry dates (FEFO): which SKUs are kept by batch, and what expires first.
            "inventory.batchtracking": (VIEW, ADD, CHANGE),
            "inventory.batch": (VIEW,),
            # Product selection (M14): candidates scored against the brand's weighted criteria.
            "selection.criterion": (VIEW, CHANGE),
            "selection.candidate": (VIEW, ADD, CHANGE),
            "selection.candidatephoto": (VIEW,),
            # Sales (M14): the analysis and the lines behind it.
            "sales.salesline": (VIEW,),
            # Purchasing (M14): suppliers, orders, receipts, bills and payments.
            # B2B trade (M14): the brand opens business accounts and their logins; the deals are the
            # companies' own (their pages under /b2b/), read here.
            "b2b.businessaccount": (VIEW, ADD, CHANGE),
            "b2b.businessmember": (VIEW, ADD, CHANGE),
            "b2b.listing": (VIEW,),
            "b2b.inquiry": (VIEW,),
            "b2b.order": (VIEW,),
            "b2b.claim": (VIEW,),
            "b2b.creditnote": (VIEW,),
            "purchasing.supplier": (VIEW, ADD, CHANGE),
            "purchasing.supplierprice": ALL,
            "purchasing.purchaseorder": (VIEW, ADD, CHANGE),
            "purchasing.supplierbill": (VIEW, ADD),
            "leads.lead": (VIEW, ADD, CHANGE),
            "leads.leadnote": (VIEW,),
            "leads.leadimport": (VIEW, ADD),
            "leads.adplacement": (VIEW, ADD, CHANGE),
            "leads.adspend": (VIEW, ADD),
            "stores.store": (VIEW, ADD, CHANGE),
            "stores.storephoto": (VIEW,),
            # Meetings (M10): scheduled, costed and read by the owner and operations.
            "meetings.meeting": (VIEW, ADD, CHANGE),
            "meetings.meetingcost": (VIEW, ADD),
            "meetings.invitation": (VIEW,),
            "growth.launchphase": (VIEW, ADD, CHANGE),
            "growth.phasetarget": ALL,
            "growth.workplan": (VIEW, ADD, CHANGE),
            # WeChat bindings and their audit, and the notifications' messages (M11): the owner reads them.
            "wechat.wechatidentity": (VIEW,),
            "wechat.wechatbindingevent": (VIEW,),
            "notifications.delivery": (VIEW,),
            # Live campaigns (M10): written, scheduled, cancelled and costed; never deleted.
            "campaigns.campaign": (VIEW, ADD, CHANGE),
            "campaigns.campaigncost": (VIEW, ADD),
            "campaigns.campaignseat": (VIEW,),
            # Consumer promotions (M10): coupons and flash sales, created and paused, never deleted.
            "promotions.couponoffer": (VIEW, ADD, CHANGE),
            "promotions.flashsale": (VIEW, ADD, CHANGE),
            "promotions.coupon": (VIEW,),
            # The academy (M12): courses with lessons and quizzes, slides, live classes, enrolments by hand.
            "academy.course": (VIEW, ADD, CHANGE),
            "academy.lesson": ALL,
            "academy.quiz": ALL,
            "academy.question": ALL,
            "academy.choice": ALL,
            "academy.slidedeck": (VIEW, ADD, CHANGE),
            "academy.liveclass": (VIEW, ADD, CHANGE),
            "academy.liveattendance": (VIEW,),
            "academy.enrolment": (VIEW, ADD),
            "academy.coursecertificate": (VIEW,),
            # Login lockouts (django-axes): the owner sees the failed logins per account and address
            # and clears a lockout by deleting its access attempt (M7).
            "axes.accessattempt": (VIEW, DELETE),
            # Customer service (客服, M14): the shared inbox (answered and assigned with
            # service.reply_conversation), quick replies and keyword auto-replies.
            "service.conversation": (VIEW,),
            "service.message": (VIEW,),
            "service.quickreply": ALL,
            "service.autoreply": ALL,
            # The car finance desk (汽车金融, M15): the owner sees and does everything.
            "autofinance.lender": (VIEW, ADD, CHANGE),
            "autofinance.financeproduct": (VIEW, ADD, CHANGE),
            "autofinance.stepsla": (VIEW, CHANGE),
            "autofinance.car": (VIEW, ADD, CHANGE),
            "autofinance.customer": (VIEW, ADD, CHANGE),
            "autofinance.carsale": (VIEW, ADD, CHANGE),
            "autofinance.financequote": (VIEW, ADD),
            "autofinance.consent": (VIEW, ADD),
            "autofinance.loanapplication": (VIEW, ADD, CHANGE),
            "autofinance.applicationstep": (VIEW,),
            "autofinance.loandocument": (VIEW, ADD),
            "autofinance.penetrationincentive": (VIEW, ADD),
        },
        # Pricing (retail prices, level discounts and entry conditions, the price grid) is the
        # owner's alone: it sets what every agent pays; so is the jurisdiction, the rulebook a
        # plan is checked against (M7).
        (
            "service.reply_conversation",
            "channel.move_agent",
            "channel.decide_application",
            "catalog.change_pricing",
            "core.change_jurisdiction",
            "codes.handle_channelconflict",
            "toolkit.view_documents",
            "certificates.end_certificate",
            "academy.manage_all_courses",
            "academy.view_academy_report",
            "jobs.run_job",
            "inventory.set_cost",
            "inventory.post_stockcount",
            "sales.view_sales_report",
            "purchasing.receive_purchaseorder",
            "purchasing.pay_supplierbill",
            "autofinance.process_loanapplication",
            "autofinance.confirm_funds",
            "autofinance.deliver_car",
            "autofinance.view_finance_report",
        ),
    ),
    "operations": (
        _("Operations"),
        {
            "channel.level": (VIEW,),
            "channel.agent": (VIEW, CHANGE),
            "channel.application": (VIEW, CHANGE),
            "channel.agenttrail": (VIEW,),
            "catalog.product": (VIEW, ADD, CHANGE),
            "catalog.productimage": ALL,
            "catalog.sku": (VIEW, ADD, CHANGE),
            "catalog.levelprice": (VIEW,),
            "trade.order": (VIEW, CHANGE),
            "trade.payment": (VIEW,),
            "trade.stocklevel": (VIEW,),
            "trade.customer": (VIEW,),
            "toolkit.qualification": (VIEW, ADD, CHANGE),
            "toolkit.material": ALL,
            "toolkit.materialfile": ALL,
            "toolkit.postertemplate": ALL,
            "faq.faqcategory": ALL,
            "faq.faqentry": ALL,
            "faq.faqsearch": (VIEW,),
            "codes.codebatch": (VIEW, ADD),
            "codes.itemcode": (VIEW,),
            "codes.channelconflict": (VIEW,),
            "certificates.certificate": (VIEW,),
            "certificates.certificatetemplate": ALL,
            "monitor.healthsnapshot": (VIEW,),
            "monitor.healthalert": (VIEW,),
            "jobs.scheduledrun": (VIEW,),  # whether the periodic jobs ran
            "inventory.reorderrule": (VIEW,),
            "inventory.batch": (VIEW,),
            "selection.criterion": (VIEW,),
            "selection.candidate": (VIEW, ADD, CHANGE),
            "selection.candidatephoto": (VIEW,),
            "sales.salesline": (VIEW,),
            "b2b.businessaccount": (VIEW, ADD, CHANGE),
            "b2b.businessmember": (VIEW, ADD, CHANGE),
            "b2b.listing": (VIEW,),
            "b2b.inquiry": (VIEW,),
            "b2b.order": (VIEW,),
            "b2b.claim": (VIEW,),
            "b2b.creditnote": (VIEW,),
            "purchasing.supplier": (VIEW, ADD, CHANGE),
            "purchasing.supplierprice": (VIEW, ADD, CHANGE),
            "purchasing.purchaseorder": (VIEW, ADD, CHANGE),
            "leads.lead": (VIEW, ADD, CHANGE),
            "leads.leadnote": (VIEW,),
            "leads.leadimport": (VIEW, ADD),
            "leads.adplacement": (VIEW, ADD, CHANGE),
            "leads.adspend": (VIEW, ADD),
            "stores.store": (VIEW, ADD, CHANGE),
            "stores.storephoto": (VIEW,),
            "meetings.meeting": (VIEW, ADD, CHANGE),
            "meetings.meetingcost": (VIEW, ADD),
            "meetings.invitation": (VIEW,),
            "growth.launchphase": (VIEW, ADD, CHANGE),
            "growth.phasetarget": ALL,
            "growth.workplan": (VIEW, ADD, CHANGE),
            "campaigns.campaign": (VIEW, ADD, CHANGE),
            "campaigns.campaigncost": (VIEW, ADD),
            "campaigns.campaignseat": (VIEW,),
            "promotions.couponoffer": (VIEW, ADD, CHANGE),
            "promotions.flashsale": (VIEW, ADD, CHANGE),
            "promotions.coupon": (VIEW,),
            # The academy (M12): courses with lessons and quizzes, slides, live classes, enrolments by hand.
            "academy.course": (VIEW, ADD, CHANGE),
            "academy.lesson": ALL,
            "academy.quiz": ALL,
            "academy.question": ALL,
            "academy.choice": ALL,
            "academy.slidedeck": (VIEW, ADD, CHANGE),
            "academy.liveclass": (VIEW, ADD, CHANGE),
            "academy.liveattendance": (VIEW,),
            "academy.enrolment": (VIEW, ADD),
            "academy.coursecertificate": (VIEW,),
            # Customer service (客服, M14): the shared inbox (answered and assigned with
            # service.reply_conversation), quick replies and keyword auto-replies.
            "service.conversation": (VIEW,),
            "service.message": (VIEW,),
            "service.quickreply": ALL,
            "service.autoreply": ALL,
        },
        # Operations follow up channel conflict (窜货) with the agents.
        (
            "service.reply_conversation",
            "channel.move_agent",
            "channel.decide_application",
            "codes.handle_channelconflict",
            "toolkit.view_documents",
            "certificates.end_certificate",
            "academy.manage_all_courses",
            "academy.view_academy_report",
            "sales.view_sales_report",
        ),
    ),
    "finance": (
        _("Finance"),
        {
            "channel.level": (VIEW,),
            "channel.agent": (VIEW,),
            "channel.application": (VIEW,),
            "catalog.product": (VIEW,),
            "catalog.sku": (VIEW,),
            "catalog.levelprice": (VIEW,),
            "trade.order": (VIEW,),
            "trade.payment": (VIEW, CHANGE),
            "trade.receivingaccount": ALL,
            "core.outboxevent": (VIEW,),
            "ledger.account": (VIEW,),
            "ledger.journalentry": (VIEW,),
            "ledger.journalline": (VIEW,),
            "ledger.withdrawal": (VIEW, CHANGE),
            "ledger.withdrawaltransition": (VIEW,),
            "rewards.planversion": (VIEW,),
            "rewards.rewardline": (VIEW, CHANGE),
            "rewards.settlementrun": (VIEW, ADD),
            "monitor.healthsnapshot": (VIEW,),
            "monitor.healthalert": (VIEW,),
            # Finance sees whether settlement and reward release ran (background jobs).
            "jobs.scheduledrun": (VIEW,),
            # Finance reads the stock's value and sets the cost of stock found without one.
            "inventory.skuvaluation": (VIEW,),
            "inventory.valuationlayer": (VIEW,),
            "inventory.stockcount": (VIEW,),
            "sales.salesline": (VIEW,),
            "purchasing.supplier": (VIEW,),
            "purchasing.supplierprice": (VIEW,),
            "purchasing.purchaseorder": (VIEW,),
            "purchasing.supplierbill": (VIEW, ADD),
            # Finance reads the B2B orders and credit notes (the brand's receivables).
            "b2b.businessaccount": (VIEW,),
            "b2b.order": (VIEW,),
            "b2b.creditnote": (VIEW,),
            # Finance reads what recruiting costs: the ad spend and each channel's month.
            "leads.adplacement": (VIEW,),
            "leads.adspend": (VIEW,),
            # Finance reads a meeting's costs and ROI (not its guests).
            "meetings.meeting": (VIEW,),
            "meetings.meetingcost": (VIEW,),
            # Finance reads a campaign's report and records its real costs (a trip's invoice).
            "campaigns.campaign": (VIEW,),
            "campaigns.campaigncost": (VIEW, ADD),
            "campaigns.campaignseat": (VIEW,),
            "growth.launchphase": (VIEW,),
            "growth.phasetarget": (VIEW,),
            "growth.workplan": (VIEW,),
            # The dealer's finance confirms a lender's money arrived (funds, commission, incentive).
            "autofinance.lender": (VIEW,),
            "autofinance.financeproduct": (VIEW,),
            "autofinance.carsale": (VIEW,),
            "autofinance.loanapplication": (VIEW,),
            "autofinance.applicationstep": (VIEW,),
            "autofinance.penetrationincentive": (VIEW,),
        },
        (
            "inventory.set_cost",
            "inventory.post_stockcount",
            "sales.view_sales_report",
            "purchasing.pay_supplierbill",
            "autofinance.confirm_funds",
            "autofinance.view_finance_report",
        ),
    ),
    "warehouse": (
        _("Warehouse"),
        {
            "channel.agent": (VIEW,),
            "catalog.product": (VIEW,),
            "catalog.sku": (VIEW, CHANGE),
            "trade.order": (VIEW, CHANGE),
            "trade.stockmove": (VIEW,),
            "trade.stocklevel": (VIEW,),
            "trade.location": (VIEW,),
            # The warehouse prints code batches and scans what it ships.
            "codes.codebatch": (VIEW, ADD),
            "codes.itemcode": (VIEW,),
            # The warehouse keeps the reorder rules (not the costs).
            "inventory.reorderrule": (VIEW, ADD, CHANGE),
            # The warehouse counts its stock; the owner or finance post the count (it moves money).
            "inventory.stockcount": (VIEW, ADD, CHANGE),
            # The warehouse keeps SKUs by batch and sees what expires first.
            "inventory.batchtracking": (VIEW, ADD, CHANGE),
            "inventory.batch": (VIEW,),
            "purchasing.supplier": (VIEW,),
            "purchasing.purchaseorder": (VIEW,),
        },
        ("purchasing.receive_purchaseorder",),
    ),
    "lecturer": (
        _("Lecturer"),
        {
            "channel.level": (VIEW,),
            "catalog.product": (VIEW,),
            # The academy (M12): a lecturer manages the courses they lecture (their own, not others':
            # academy/admin.py scopes every page to them), their live classes, and enrols agents.
            "academy.course": (VIEW, ADD, CHANGE),
            "academy.lesson": ALL,
            "academy.quiz": ALL,
            "academy.question": ALL,
            "academy.choice": ALL,
            "academy.slidedeck": (VIEW, ADD, CHANGE),
            "academy.liveclass": (VIEW, ADD, CHANGE),
            "academy.liveattendance": (VIEW,),
            "academy.enrolment": (VIEW, ADD),
            "academy.coursecertificate": (VIEW,),
        },
        (),
    ),
    # The car finance desk (汽车金融, M15). A sales consultant sells cars, quotes loans, records the
    # customer's consent and documents, drafts the application and hands the car over; the finance
    # manager runs the lender's side of the flow (submit, decisions, contract, disbursement,
    # registration and lien, closing), keeps lenders and products and reads the reports.
    "sales_consultant": (
        _("Sales consultant (销售顾问)"),
        {
            "autofinance.lender": (VIEW,),
            "autofinance.financeproduct": (VIEW,),
            "autofinance.car": (VIEW,),
            "autofinance.customer": (VIEW, ADD, CHANGE),
            "autofinance.carsale": (VIEW, ADD),
            "autofinance.financequote": (VIEW, ADD),
            "autofinance.consent": (VIEW, ADD),
            "autofinance.loanapplication": (VIEW, ADD),
            "autofinance.applicationstep": (VIEW,),
            "autofinance.loandocument": (VIEW, ADD),
        },
        ("autofinance.deliver_car",),
    ),
    "finance_manager": (
        _("Finance manager (金融经理)"),
        {
            "autofinance.lender": (VIEW, ADD, CHANGE),
            "autofinance.financeproduct": (VIEW, ADD, CHANGE),
            "autofinance.stepsla": (VIEW, CHANGE),
            "autofinance.car": (VIEW, ADD, CHANGE),
            "autofinance.customer": (VIEW, ADD, CHANGE),
            "autofinance.carsale": (VIEW, ADD, CHANGE),
            "autofinance.financequote": (VIEW, ADD),
            "autofinance.consent": (VIEW, ADD),
            "autofinance.loanapplication": (VIEW, ADD, CHANGE),
            "autofinance.applicationstep": (VIEW,),
            "autofinance.loandocument": (VIEW, ADD),
            "autofinance.penetrationincentive": (VIEW, ADD),
        },
        ("autofinance.process_loanapplication", "autofinance.deliver_car", "autofinance.view_finance_report"),
    ),
}


def role_group_name(code: str) -> str:
    return f"role:{code}"


def roles_sync() -> dict[str, Group]:
    """Create the role groups and set their permissions exactly as ROLES says."""
    groups = {}
    for code, (_label, model_perms, extra) in ROLES.items():
        group, _created = Group.objects.get_or_create(name=role_group_name(code))
        query = Q(pk__in=[])
        for dotted, actions in model_perms.items():
            app_label, model = dotted.split(".")
            query |= Q(
                content_type__app_label=app_label,
                content_type__model=model,
                codename__in=[f"{a}_{model}" for a in actions],
            )
        for dotted in extra:
            app_label, codename = dotted.split(".")
            query |= Q(content_type__app_label=app_label, codename=codename)
        group.permissions.set(Permission.objects.filter(query))
        groups[code] = group
    return groups


def roles_sync_after_migrate(sender, app_config=None, using="default", **kwargs) -> None:
    # post_migrate is sent once per app; act on the last one, when every permission exists.
    from django.apps import apps

    # Django sends it only for apps that have models.
    with_models = [config for config in apps.get_app_configs() if config.models_module is not None]
    if app_config is None or app_config is not with_models[-1]:
        return
    roles_sync()
