"""Who may open what: the one table of the permission matrix (tests/security/test_permission_matrix.py).

Every console page, phone or public page and API route the project has is found by
``discover.py``; each must be classified here, or the matrix fails ("add it to the matrix"). A
rule is the set of subjects allowed; everyone else must be refused:

- subjects: ``anonymous``; each staff role of ``core.roles.ROLES`` (the demo's staff user in
  exactly that group: ``owner``, ``operations``, ``finance``, ``warehouse``, ``lecturer``) and a
  second lecturer (``lecturer_b``: the academy's records are another lecturer's to them);
  ``agent_a`` (the 市代 whose objects the URLs name: their orders, team member, lead, …) and
  ``agent_b`` (another 市代, in neither of A's lines); for the API also one brand key per scope
  (``key:orders:read``, …);
- the console's rules are written with ``perm()``: the roles ROLES grants a permission to, so the
  console is held to the roles table (an admin's own view that forgets its permission check lets a
  role in that ROLES does not name, and fails here);
- refused is 403, 404, 401 (the API), or a redirect to a login page (or, in the console, to its
  index: "no such object" for an object outside the user's list). The phone pages answer 404 to
  anyone who is not an agent and to an agent asking for another's record, and the API 404 to an
  agent asking for another agent's record (docs/api.md, "ids cannot be probed"); see
  docs/decisions.md, "Refused is 404 where a record is someone's".
"""

from __future__ import annotations

from dataclasses import dataclass, field

from weishang.api.scopes import SCOPES
from weishang.core.roles import ROLES

# --- subjects ---------------------------------------------------------------------------------

# A second lecturer (the role's group, lecturing none of the demo's courses): a lecturer sees only
# their own courses, so the academy's records are another's to this one.
OTHER_LECTURER = "lecturer_b"
STAFF = frozenset(ROLES) | {OTHER_LECTURER}
A, B = "agent_a", "agent_b"
AGENTS = frozenset({A, B})
SUBJECTS = ("anonymous", *ROLES, OTHER_LECTURER, A, B)
KEYS = tuple(f"key:{scope}" for scope in sorted(SCOPES))
EVERYONE = frozenset(SUBJECTS) | frozenset(KEYS)
NOBODY: frozenset[str] = frozenset()
SIGNED_IN = frozenset(SUBJECTS) - {"anonymous"}  # a session: staff and agents


def _granted(role: str) -> set[str]:
    _label, model_perms, extra = ROLES[role]
    out = set(extra)
    for dotted, actions in model_perms.items():
        app_label, model = dotted.split(".")
        out |= {f"{app_label}.{action}_{model}" for action in actions}
    return out


GRANTED = {role: _granted(role) for role in ROLES}


def _with_other_lecturer(roles: frozenset[str]) -> frozenset[str]:
    return roles | {OTHER_LECTURER} if "lecturer" in roles else roles


def perm(*perms: str) -> frozenset[str]:
    """The roles holding every one of ``perms`` (as ROLES grants them)."""
    return _with_other_lecturer(frozenset(role for role in ROLES if set(perms) <= GRANTED[role]))


def any_perm(*perms: str) -> frozenset[str]:
    """The roles holding at least one of ``perms``."""
    return _with_other_lecturer(frozenset(role for role in ROLES if set(perms) & GRANTED[role]))


def scope(name: str) -> frozenset[str]:
    return frozenset({f"key:{name}"})


# --- the console ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Console:
    """A registered model's pages. By default, as Django's admin grants them from the model's
    permissions: the list, change form and history (and a past version, simple_history's page) to
    view-or-change, the add form to add, the delete confirmation to delete. ``add``/``change``/
    ``delete`` etc. override one page; ``views`` are the admin's own pages, each with its rule;
    ``ok`` lists statuses that count as "let in" on a page besides 200 and a redirect elsewhere."""

    add: frozenset[str] | None = None
    change: frozenset[str] | None = None
    delete: frozenset[str] | None = None
    changelist: frozenset[str] | None = None
    history: frozenset[str] | None = None
    views: dict[str, frozenset[str]] = field(default_factory=dict)
    ok: dict[str, tuple[int, ...]] = field(default_factory=dict)
    # Subjects to whom the record the pages show is another's: every page of the record (all but
    # the list, the add form and the model's own list-level views) is "doesn't exist" to them.
    not_theirs: frozenset[str] = frozenset()
    list_views: frozenset[str] = frozenset()

    def rule(self, label: str, page: str) -> frozenset[str] | None:
        allowed = self._rule(label, page)
        if allowed is None or page in {"changelist", "add", *self.list_views}:
            return allowed
        return allowed - self.not_theirs

    def _rule(self, label: str, page: str) -> frozenset[str] | None:
        app_label, model = label.split(".")
        seen = any_perm(f"{app_label}.view_{model}", f"{app_label}.change_{model}")
        defaults = {
            "changelist": self.changelist if self.changelist is not None else seen,
            "change": self.change if self.change is not None else seen,
            "history": self.history if self.history is not None else seen,
            "simple_history": self.history if self.history is not None else seen,
            "add": self.add if self.add is not None else perm(f"{app_label}.add_{model}"),
            "delete": self.delete if self.delete is not None else perm(f"{app_label}.delete_{model}"),
        }
        if page in self.views:
            return self.views[page]
        return defaults.get(page)


def in_app(app_label: str) -> frozenset[str]:
    """The roles holding any permission of an app: Django shows them its page."""
    return _with_other_lecturer(
        frozenset(role for role in ROLES if any(p.startswith(app_label + ".") for p in GRANTED[role]))
    )


READ_ONLY = {"add": NOBODY, "delete": NOBODY}  # ReadOnlyAdmin: records shown, never added or deleted there

# Every staff member reaches the console's own pages (the index shows each only what they may
# see; the audit history lists only the models they may view, see console/audit.py).
CONSOLE_SITE: dict[str, frozenset[str]] = {
    "index": STAFF,
    "password_change": STAFF,
    "password_change_done": STAFF,
    "search": STAFF,
    # the audit history opens for those who may view one of its kinds (console/audit.py TRACKED): not
    # the car finance desk's roles, who keep none of them
    "audit_history": any_perm(
        "catalog.view_levelprice",
        "channel.view_level",
        "catalog.view_sku",
        "rewards.view_planversion",
        "ledger.view_withdrawal",
        "core.view_brand",
    ),
}
CONSOLE_APPS: dict[str, frozenset[str]] = {
    label: in_app(label)
    for label in (
        "academy api auth autofinance axes b2b campaigns catalog certificates channel codes core faq growth inventory "
        "jobs leads ledger meetings monitor notifications promotions purchasing rewards sales selection service stores "
        "toolkit trade webhooks wechat"
    ).split()
}
ORDER_DECIDE = perm("trade.change_order", "trade.view_payment")  # trade/admin.py CONSOLE_PERMS["order_decide"]
ORDER_HANDLE = perm("trade.change_order")  # ["order_handle"]: fill, ship, scan what goes out
# The academy's records of a course the demo's lecturer lectures are "doesn't exist" to another
# lecturer (academy/admin.py); owner and operations manage every course.
LECTURED_BY_ANOTHER = frozenset({OTHER_LECTURER})
CONSOLE: dict[str, Console] = {
    # The academy: a lecturer sees only their own courses (the demo's lecturer is the courses' own).
    "academy.course": Console(
        delete=NOBODY,  # a course is unpublished, never deleted
        views={"report": perm("academy.view_academy_report"), "enrol_levels": perm("academy.add_enrolment")},
        list_views=frozenset({"report"}),
        not_theirs=LECTURED_BY_ANOTHER,
    ),
    "academy.coursecertificate": Console(not_theirs=LECTURED_BY_ANOTHER),
    "academy.enrolment": Console(not_theirs=LECTURED_BY_ANOTHER),
    "academy.liveclass": Console(not_theirs=LECTURED_BY_ANOTHER),
    "academy.question": Console(not_theirs=LECTURED_BY_ANOTHER),
    # a quiz someone has tried stays (its attempts are records)
    "academy.quiz": Console(delete=NOBODY, not_theirs=LECTURED_BY_ANOTHER),
    "academy.slidedeck": Console(),  # any lecturer may reuse (and so open) a deck; each edits their own
    "api.apikey": Console(views={"revoke_one": perm("api.change_apikey")}),
    "api.apitoken": Console(),
    "auth.group": Console(),
    "axes.accessattempt": Console(),
    "campaigns.campaign": Console(
        views={
            "schedule": perm("campaigns.change_campaign"),
            "cancel": perm("campaigns.change_campaign"),
            "add_cost": perm("campaigns.add_campaigncost"),
        }
    ),
    # Prices: the list is the price grid's door (a redirect for any staff; the grid checks).
    "catalog.levelprice": Console(
        changelist=STAFF, add=NOBODY, delete=NOBODY, views={"catalog_price_grid": perm("catalog.view_levelprice")}
    ),
    "catalog.product": Console(),
    # A new SKU sets a retail price: pricing, the owner's alone; SKUs are retired, never deleted.
    "catalog.sku": Console(add=perm("catalog.add_sku", "catalog.change_pricing"), delete=NOBODY),
    "certificates.certificate": Console(
        views={
            "png": perm("certificates.end_certificate"),
            "pdf": perm("certificates.end_certificate"),
            "reissue": perm("certificates.end_certificate"),
        }
    ),
    "certificates.certificatetemplate": Console(),
    # Agents join through applications, never added in the console.
    "channel.agent": Console(
        add=NOBODY,
        views={
            "relations": perm("channel.change_agent"),
            "change_relations": perm("channel.change_agent"),
            "sign_out_devices": perm("channel.change_agent"),
            "export": perm("channel.view_agent"),
        },
    ),
    "channel.agenttrail": Console(),
    "channel.application": Console(views={"export": perm("channel.view_application")}),
    "channel.level": Console(**READ_ONLY),  # levels come with the plan (catalog services)
    "codes.channelconflict": Console(views={"handle": perm("codes.handle_channelconflict")}),
    "codes.codebatch": Console(
        add=NOBODY,  # its own "new" page
        views={
            "new": perm("codes.add_codebatch"),
            "codes_scan": perm("codes.add_codebatch"),
            "csv": perm("codes.add_codebatch"),
            "pdf": perm("codes.add_codebatch"),
        },
    ),
    "codes.itemcode": Console(),
    "core.brand": Console(),
    "core.outboxevent": Console(),
    "core.user": Console(views={"auth_user_password_change": perm("core.change_user")}),
    "faq.faqcategory": Console(),
    "faq.faqentry": Console(views={"import": perm("faq.add_faqentry")}),
    "faq.faqsearch": Console(),
    "growth.launchphase": Console(views={"progress": perm("growth.view_launchphase")}),
    "growth.workplan": Console(),
    "leads.adplacement": Console(views={"spend": NOBODY}),  # a POST from the placement's page: GET refused
    "leads.adspend": Console(add=NOBODY),  # recorded on its placement's page
    "leads.lead": Console(
        views={
            "follow": NOBODY,  # a POST from the lead's page: GET refused
            "import": perm("leads.add_lead"),
            # takes a LeadImport's id (the lead's names none): 404 once past the permission check
            "import_preview": perm("leads.add_lead"),
            "leads_channel_report": perm("leads.view_adplacement"),
        },
        ok={"import_preview": (404,)},
    ),
    "ledger.account": Console(),
    "ledger.journalentry": Console(views={"verify_ledger": perm("ledger.view_journalentry")}),
    "ledger.withdrawal": Console(
        views={name: perm("ledger.change_withdrawal") for name in ("export", "approve", "reject", "mark_paid", "fail")}
    ),
    "meetings.meeting": Console(
        views={
            "qr": perm("meetings.view_meeting"),
            "sign": perm("meetings.view_meeting"),
            "print_sign": perm("meetings.view_meeting"),
            "add_cost": perm("meetings.add_meetingcost"),
        }
    ),
    # Background jobs (M13): the page of workers, schedule and tasks; "run now" is the owner's.
    "jobs.scheduledrun": Console(
        **READ_ONLY,
        views={"jobs_overview": perm("jobs.view_scheduledrun"), "jobs_run": perm("jobs.run_job")},
        list_views=frozenset({"jobs_overview", "jobs_run"}),
    ),
    # Inventory (M14): the valuation is read-only (its layers come from stock moves); setting a cost
    # needs inventory.set_cost; a reorder rule is switched off, never deleted.
    "inventory.skuvaluation": Console(
        **READ_ONLY, views={"set_cost": perm("inventory.set_cost", "inventory.view_skuvaluation")}
    ),
    "inventory.valuationlayer": Console(**READ_ONLY),
    "inventory.reorderrule": Console(delete=NOBODY),
    # A count is recorded on its sheet (change) and posted or cancelled by the owner or finance.
    "inventory.stockcount": Console(
        delete=NOBODY, views={"sheet": any_perm("inventory.change_stockcount", "inventory.post_stockcount")}
    ),
    # Product selection (M14): candidates are scored, photographed and marked by whoever may change
    # them; adopting one also needs the right to add a product and a SKU.
    "selection.candidate": Console(
        delete=NOBODY,
        views={
            "score": perm("selection.change_candidate"),
            "photo": perm("selection.change_candidate"),
            "status": perm("selection.change_candidate"),
            "adopt": perm("selection.change_candidate", "catalog.add_product", "catalog.add_sku"),
        },
    ),
    "selection.criterion": Console(delete=NOBODY),
    # Purchasing (M14): an order is written on its own page and moved by its steps; receiving, the
    # bill and paying need their own permissions.
    "purchasing.purchaseorder": Console(
        add=NOBODY,
        delete=NOBODY,
        views={
            "new": perm("purchasing.add_purchaseorder"),
            "from_reorder": perm("purchasing.add_purchaseorder"),
            "step": perm("purchasing.change_purchaseorder"),
            "receive": perm("purchasing.receive_purchaseorder"),
            "bill": perm("purchasing.add_supplierbill"),
            "pay": perm("purchasing.pay_supplierbill"),
            "photo": any_perm("purchasing.view_purchaseorder", "purchasing.change_purchaseorder"),
        },
        ok={"photo": (404,)},  # the walk names no receipt line: "no such photo" to those let in
        list_views=frozenset({"new", "from_reorder"}),
    ),
    # B2B (M14): the brand opens business accounts and their logins (switched off, never deleted);
    # the deals are the companies' own, read here.
    # Batches (M14): tracking is started, never stopped or deleted; batches are read-only.
    "inventory.batchtracking": Console(delete=NOBODY),
    "inventory.batch": Console(**READ_ONLY),
    "b2b.businessaccount": Console(delete=NOBODY),
    "b2b.businessmember": Console(delete=NOBODY),
    "b2b.listing": Console(**READ_ONLY),
    "b2b.inquiry": Console(**READ_ONLY),
    "b2b.order": Console(**READ_ONLY),
    "b2b.claim": Console(**READ_ONLY),
    "b2b.creditnote": Console(**READ_ONLY),
    # The car finance desk (M15): a consultant sees their own sales and applications only (the demo's
    # newest application is another consultant's: "no such object" to them); each step needs its
    # permission; a document is served to those who may see the application (the walk names none: they
    # are sent back to the application's page).
    "autofinance.lender": Console(delete=NOBODY),
    "autofinance.financeproduct": Console(delete=NOBODY),
    "autofinance.car": Console(delete=NOBODY),
    "autofinance.customer": Console(delete=NOBODY),
    "autofinance.stepsla": Console(delete=NOBODY),
    "autofinance.carsale": Console(
        delete=NOBODY,
        views={
            "quote": perm("autofinance.add_financequote"),
            "consent": perm("autofinance.add_consent"),
            "apply": perm("autofinance.add_loanapplication"),
            "deliver": perm("autofinance.deliver_car"),
        },
    ),
    "autofinance.loanapplication": Console(
        **READ_ONLY,
        views={
            "step": perm("autofinance.process_loanapplication"),
            "document": perm("autofinance.add_loandocument"),
            "file": perm("autofinance.view_loanapplication"),
            "commission": perm("autofinance.confirm_funds"),
            "queue": perm("autofinance.view_loanapplication"),
            "report": perm("autofinance.view_finance_report"),
        },
        list_views=frozenset({"queue", "report"}),
        not_theirs=frozenset({"sales_consultant"}),
    ),
    "autofinance.penetrationincentive": Console(delete=NOBODY, views={"receive": perm("autofinance.confirm_funds")}),
    "purchasing.supplier": Console(delete=NOBODY),
    "purchasing.supplierprice": Console(),
    "purchasing.supplierbill": Console(**READ_ONLY),
    # Sales (M14): the analysis page and the (read-only) sales lines.
    "sales.salesline": Console(
        **READ_ONLY,
        views={"sales_analysis": perm("sales.view_sales_report")},
        list_views=frozenset({"sales_analysis"}),
    ),
    "monitor.healthalert": Console(),
    "monitor.healthsnapshot": Console(
        add=NOBODY,  # saved from the health page
        views={
            "monitor_health": perm("monitor.view_healthsnapshot"),
            "monitor_health_save": perm("monitor.add_healthsnapshot"),
            "monitor_health_acknowledge": perm("monitor.change_healthalert"),
        },
    ),
    "notifications.delivery": Console(),
    "promotions.coupon": Console(),
    "promotions.couponoffer": Console(
        add=NOBODY,  # its own "new" page
        views={
            "new": perm("promotions.add_couponoffer"),
            "promotions_report": perm("promotions.view_couponoffer", "promotions.change_couponoffer"),
            "toggle": perm("promotions.change_couponoffer"),
            "give": perm("promotions.change_couponoffer"),
        },
    ),
    "promotions.flashsale": Console(
        add=NOBODY, views={"new": perm("promotions.add_flashsale"), "toggle": perm("promotions.change_flashsale")}
    ),
    "rewards.planversion": Console(
        add=NOBODY,  # uploaded as a file
        views={
            "upload_plan": perm("rewards.add_planversion"),
            "compare": perm("rewards.view_planversion"),
            "activate": perm("rewards.change_planversion"),
        },
    ),
    "rewards.rewardline": Console(
        views={"export": perm("rewards.change_rewardline"), "release_due": perm("rewards.change_rewardline")}
    ),
    "rewards.settlementrun": Console(add=NOBODY, views={"settle": perm("rewards.add_settlementrun")}),
    # Customer service (M14): the inbox is read-only in Django's terms; answering and assigning are
    # its own pages, for the holders of service.reply_conversation (owner and operations).
    "service.conversation": Console(
        **READ_ONLY,
        views={"reply": perm("service.reply_conversation"), "assign": perm("service.reply_conversation")},
    ),
    "service.quickreply": Console(),
    "service.autoreply": Console(),
    "stores.store": Console(),
    "toolkit.material": Console(),
    "toolkit.postertemplate": Console(),
    "toolkit.qualification": Console(
        views={"toolkit_documents": perm("toolkit.view_documents"), "toolkit_document": perm("toolkit.view_documents")}
    ),
    "trade.customer": Console(),
    "trade.location": Console(add=NOBODY),  # the company's locations are made with the brand; agents' on joining
    "trade.order": Console(
        views={
            "export": perm("trade.view_order"),
            **{
                name: ORDER_DECIDE
                for name in ("approve", "reject", "company_fill", "reassign", "stuck_refund", "refund_approve")
            },
            "refund_decline": ORDER_DECIDE,
            **{
                name: ORDER_HANDLE
                for name in ("fill", "ship_pickup", "pickup_delivered", "delivered", "scan_codes", "scan_pickup_codes")
            },
        }
    ),
    "trade.payment": Console(
        views={
            "screenshot": perm("trade.view_payment"),
            "export": perm("trade.view_payment"),
            "confirm_payment": perm("trade.change_payment"),
            "reject_payment": perm("trade.change_payment"),
        }
    ),
    "trade.receivingaccount": Console(),
    "trade.stocklevel": Console(
        views={
            "export": perm("trade.view_stocklevel"),
            "receive_stock": perm("trade.view_stockmove", "trade.view_location"),
            "verify_stock": perm("trade.view_stocklevel"),
        }
    ),
    # The stock moves' buttons lead to the stock levels' pages, which check (a redirect).
    "trade.stockmove": Console(
        views={
            "export": perm("trade.view_stockmove"),
            "receive_stock": perm("trade.view_stockmove", "trade.view_location"),
            "verify_stock": perm("trade.view_stocklevel"),
        }
    ),
    "webhooks.webhookdelivery": Console(views={"retry_one": perm("webhooks.change_webhookdelivery")}),
    "webhooks.webhookendpoint": Console(
        views={
            "rotate_secret": perm("webhooks.change_webhookendpoint"),
            "send_ping": perm("webhooks.change_webhookendpoint"),
        }
    ),
    "wechat.wechatbindingevent": Console(),
    "wechat.wechatidentity": Console(),
}

# --- the phone and public pages ---------------------------------------------------------------


@dataclass(frozen=True)
class Web:
    """A page: who may open it, how (GET, or POST for an action with an empty form), and which of
    A's ids fill its parameters (``ids`` maps a parameter to a key of ``World.ids``; a parameter
    not named there is looked up under its own name)."""

    allowed: frozenset[str]
    method: str = "GET"
    ids: dict[str, str] = field(default_factory=dict)
    last: bool = False  # signs the session out: sent after every other request


PUBLIC = frozenset(SUBJECTS)
AGENT_PAGE = AGENTS  # an agent's own page (no id): each agent sees their own
ACCOUNT = SIGNED_IN  # one's own account (password, devices, notifications): staff have one too
MINE = frozenset({A})  # a record of A's: B is told it does not exist (404)


def web(allowed, **ids):
    return Web(allowed, ids=ids)


def post(allowed, *, last: bool = False, **ids):
    """An action taken with a POST (a GET is 405 for everyone): sent with an empty form."""
    return Web(allowed, method="POST", ids=ids, last=last)


WEB: dict[str, Web] = {
    "web /": web(PUBLIC),  # to /m/
    "web healthz": web(PUBLIC),
    "web readyz": web(PUBLIC),
    "web payment_notify": post(NOBODY),  # the provider's signed call: an unsigned POST is 401 to anyone
    "web set_language": post(PUBLIC),
    "web home": web(AGENT_PAGE),
    "web product": web(PUBLIC),
    "web product_image": web(PUBLIC),
    "web brand": web(PUBLIC),
    "web verify": web(PUBLIC),
    "web my_certificate": web(AGENT_PAGE),
    "web my_certificate_png": web(AGENT_PAGE),
    "web my_certificate_pdf": web(AGENT_PAGE),
    "web my_wechat_id": post(AGENT_PAGE),
    "web qualification_scan": web(PUBLIC, pk="qualification"),
    "web login": web(PUBLIC),  # the signed-in are sent on to their home
    "web logout": post(NOBODY, last=True),  # every answer is the login page (signed out, or never in)
    "web wechat_start": web(PUBLIC),
    "web wechat_callback": web(PUBLIC),  # no code from WeChat: 400 for everyone
    "web wechat_bind": web(NOBODY),  # only after WeChat's callback put the identity in the session
    "web wechat_jssdk": web(PUBLIC),
    "web wechat_unbind": post(ACCOUNT),
    "web me": web(AGENT_PAGE),
    "web password_forgot": web(PUBLIC),
    "web password_reset": web(PUBLIC),
    "web password_change": web(ACCOUNT),
    "web devices": web(ACCOUNT),
    "web device_sign_out": post(MINE),
    "web devices_sign_out_all": post(NOBODY, last=True),  # likewise: signs this session out too
    "web invite_qr": web(AGENT_PAGE),
    "web team": web(AGENT_PAGE),
    "web team_of": web(MINE),
    "web upgrade_progress": web(AGENT_PAGE),
    "web invite": web(AGENT_PAGE),
    "web poster": web(AGENT_PAGE),
    "web posters": web(AGENT_PAGE),
    "web template_poster": web(AGENT_PAGE),  # the brand's templates, for every agent
    "web poster_background": web(AGENT_PAGE),
    "web customers": web(AGENT_PAGE),
    "web faq": web(AGENT_PAGE),
    "web materials": web(AGENT_PAGE),
    "web material_copied": post(AGENT_PAGE),
    "web material_zip": web(AGENT_PAGE),  # the brand's materials, by level: both are 市代
    "web material_file": web(AGENT_PAGE),
    "web my_meetings": web(AGENT_PAGE),
    "web meeting_invite": post(AGENT_PAGE),  # any agent invites to an open meeting
    "web meeting_invitation": web(PUBLIC, token="invitation_token"),  # the guest's link: the token is the key
    "web meeting_checkin": web(PUBLIC, token="checkin_token"),  # the door's QR code
    # B2B (M14): only people acting for a business account (none of the subjects here): the
    # anonymous are sent to sign in, agents and staff find nothing (404)
    "web b2b_home": web(NOBODY),
    "web b2b_market": web(NOBODY),
    "web b2b_listings": web(NOBODY),
    "web b2b_listing": web(NOBODY),
    "web b2b_listing_image": web(NOBODY, image_id="b2b_image"),
    "web b2b_ask": web(NOBODY),
    "web b2b_inquiries": web(NOBODY),
    "web b2b_inquiry": web(NOBODY),
    "web b2b_offer_pdf": web(NOBODY),
    "web b2b_orders": web(NOBODY),
    "web b2b_order": web(NOBODY),
    "web b2b_order_pdf": web(NOBODY),
    "web b2b_shipment_pdf": web(NOBODY),
    "web b2b_credit_note_pdf": web(NOBODY),
    "web b2b_claim_photo": web(NOBODY, photo_id="b2b_photo"),
    "web academy": web(AGENT_PAGE),
    "web academy_course": web(AGENT_PAGE),  # a published course of their level: its page, to enrol
    "web academy_enrol": post(AGENT_PAGE),
    "web academy_quiz": web(MINE),  # A is enrolled; B is not: 403 "not enrolled"
    "web academy_lesson": web(MINE),
    # B may enrol in a course of their level: the enrol POST (sent just before) enrols B, and then
    # B's progress is B's own.
    "web academy_progress": post(AGENT_PAGE),
    "web academy_media": web(MINE, lesson_id="media_lesson"),  # a lesson's file: enrolled only
    "web academy_slides": web(MINE, lesson_id="slides_lesson"),
    "web academy_certificates": web(AGENT_PAGE),
    "web academy_certificate_png": web(MINE),
    "web academy_certificate_pdf": web(MINE),
    "web academy_team": web(AGENT_PAGE),
    "web academy_member": web(MINE),
    "web academy_live": web(AGENT_PAGE),  # a live class of A's level: open to every agent of it
    "web academy_open": web(PUBLIC, token="open_token"),  # the open class's public page
    "web verify_course": web(PUBLIC),
    "web shop_qr": web(AGENT_PAGE),
    "web leads": web(AGENT_PAGE),
    "web my_store": web(AGENT_PAGE),
    "web stores": web(PUBLIC),
    "web store_photo": web(PUBLIC),
    "web plan": web(AGENT_PAGE),
    "web lead": web(MINE),
    "web applications": web(AGENT_PAGE),
    # Every signed-in POST is sent back to the list: who may decide is the service's check, an error
    # message and nothing decided for anyone else (tests/test_permissions.py).
    "web application_decide": post(SIGNED_IN),
    "web join_brand": web(PUBLIC),
    "web join": web(PUBLIC),
    "web order_new": web(AGENT_PAGE),
    "web upgrade_new": web(AGENT_PAGE),
    "web my_orders": web(AGENT_PAGE),
    "web my_order": web(MINE, number="bought_order"),
    "web my_order_pay_online": post(MINE, number="bought_order"),
    "web my_order_action": post(MINE, number="bought_order", action="buyer_step"),
    "web fill": web(AGENT_PAGE),
    "web fill_order": web(MINE, number="sold_order"),
    "web fill_payment_action": post(MINE, number="sold_order", payment_id="sold_payment", action="payment_step"),
    "web fill_order_action": post(MINE, number="sold_order", action="seller_step"),
    "web my_order_cancel": web(MINE, number="bought_order"),
    "web stock": web(AGENT_PAGE),
    "web payment_methods": web(AGENT_PAGE),
    "web payment_method_edit": web(MINE),
    "web payment_method_delete": post(MINE),
    "web notice": web(MINE),
    "web notifications": web(ACCOUNT),  # a person's notifications: staff receive theirs too
    "web notifications_read_all": post(ACCOUNT),
    "web notification_settings": web(ACCOUNT),
    "web notification_open": web(MINE),
    "web receiving_qr": web(MINE),  # A's receiving QR: for A and A's buyers (B buys nothing of A)
    "web payment_screenshot": web(MINE | perm("trade.view_payment")),  # payer, receiver, brand finance
    "web wallet": web(AGENT_PAGE),
    "web rewards": web(AGENT_PAGE),
    "web withdraw": web(AGENT_PAGE),
    "web shop": web(PUBLIC),
    # The consumer's order: without the phone it was placed with (?phone=) there is no such order.
    "web shop_order": web(NOBODY, code="shop_code", number="shop_order"),
    # Customer service (M14): the consumer writes to a shop, and reads their thread by its secret link.
    "web shop_messages": web(PUBLIC),
    "web shop_thread": web(PUBLIC),
    "web finance_quote": web(PUBLIC, token="finance_token"),  # the car buyer's quote: the token is the key
    "web my_messages": web(AGENT_PAGE),
    "web my_conversation": web(MINE),  # a conversation of A's shop: B is told it does not exist
    "web shared_post": web(PUBLIC),
    "web shared_post_file": web(PUBLIC),
    "web shop_coupon_claim": post(PUBLIC),
    "web shop_order_pay_online": post(NOBODY, code="shop_code", number="shop_order"),
    "web fake_cashier": web(MINE, number="bought_order"),  # the fake provider's cashier (development)
}
FAKE_WECHAT = {  # development and tests only (settings.WEISHANG_WECHAT FAKE): WeChat's own API, played
    f"web /_fake/wechat/{path}": web(PUBLIC)
    for path in (
        "connect/oauth2/authorize",
        "sns/oauth2/access_token",
        "sns/userinfo",
        "sns/jscode2session",
        "cgi-bin/token",
        "cgi-bin/ticket/getticket",
        "cgi-bin/message/template/send",
    )
}
WEB.update(FAKE_WECHAT)

# --- the API ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Api:
    allowed: frozenset[str]
    ids: dict[str, str] = field(default_factory=dict)
    body: dict | None = None  # a minimal body that passes the input checks (else ``{}``)
    last: bool = False
    # The input is checked before whose record it is (docs/api.md: the order of checks): a 415 or
    # 422 to an empty body tells nothing, and counts as refused for a subject the rule leaves out.
    input_first: bool = False


API: dict[str, Api] = {}

PUBLIC_API = EVERYONE  # no credential needed (a wrong or missing input is 4xx to anyone alike)
AGENT_API = AGENTS  # an agent's own data: each agent their own (staff sessions 403, keys 401)
MINE_API = frozenset({A})  # a record of A's: 404 to B, as one that does not exist
ACCOUNT_API = SIGNED_IN  # one's own account: any session or token, not a brand key


def api(allowed, *, body=None, last=False, input_first=False, **ids):
    return Api(allowed, ids=ids, body=body, last=last, input_first=input_first)


# Staff sessions reach the agent routes' inputs before their handler refuses them (403 no agent):
# ``input_first`` routes answer them 422 to an empty body.
DECIDE = perm("channel.decide_application")  # brand staff with it decide any application (channel.services)

API = {
    "api POST /auth/login": api(PUBLIC_API),
    "api POST /auth/logout": api(AGENTS, last=True),  # a device token's own call (revokes it: sent last)
    "api GET /auth/devices": api(ACCOUNT_API),
    "api POST /auth/password": api(ACCOUNT_API),
    "api DELETE /auth/devices/{device_id}": api(MINE_API, device_id="token_id"),
    "api POST /auth/wechat": api(PUBLIC_API),
    "api POST /auth/wechat/bind": api(PUBLIC_API),
    "api POST /auth/wechat/sms-code": api(PUBLIC_API),
    "api POST /applications": api(PUBLIC_API),  # the join form
    "api GET /applications": api(AGENTS | DECIDE),
    "api POST /applications/{application_id}/approve": api(MINE_API | DECIDE),
    "api POST /applications/{application_id}/reject": api(MINE_API | DECIDE),
    "api GET /me": api(AGENT_API),
    "api GET /me/team": api(AGENT_API),
    "api GET /catalog": api(AGENT_API),
    "api POST /orders": api(AGENT_API, input_first=True),
    "api GET /orders": api(AGENT_API),
    # payer, receiver and brand staff who see payments (trade.selectors.may_see_payment_screenshot)
    "api GET /payments/{payment_id}/screenshot": api(MINE_API | perm("trade.view_payment")),
    "api GET /receiving-accounts/{account_id}/qr": api(MINE_API),
    "api GET /orders/{number}": api(MINE_API, number="bought_order"),
    # a file upload (multipart): an empty JSON body is 415 to anyone past the credential
    "api POST /orders/{number}/transfer": api(MINE_API, number="bought_order", input_first=True),
    "api POST /orders/{number}/cancel": api(MINE_API, number="bought_order"),
    "api POST /orders/{number}/pay": api(MINE_API, number="bought_order", body={"method": "wallet"}),
    "api POST /orders/{number}/receive": api(MINE_API, number="bought_order"),
    "api POST /orders/{number}/refund": api(MINE_API, number="bought_order"),
    "api POST /orders/{number}/steps/{step}": api(MINE_API, number="bought_order", step="buyer_step"),
    "api GET /fills": api(AGENT_API),
    "api GET /fills/{number}": api(MINE_API, number="sold_order"),
    "api POST /fills/{number}/approve": api(MINE_API, number="sold_order"),
    "api POST /fills/{number}/reject": api(MINE_API, number="sold_order"),
    "api POST /fills/{number}/fill": api(MINE_API, number="sold_order"),
    "api POST /fills/{number}/delivered": api(MINE_API, number="sold_order"),
    "api POST /fills/{number}/refund-approve": api(MINE_API, number="sold_order"),
    "api POST /fills/{number}/refund-decline": api(MINE_API, number="sold_order"),
    "api POST /fills/{number}/steps/{step}": api(MINE_API, number="sold_order", step="seller_step"),
    "api POST /fills/{number}/codes": api(MINE_API, number="sold_order", body={"codes": "GC-NONE"}, input_first=True),
    "api POST /fills/{number}/payments/{payment_id}/confirm": api(
        MINE_API, number="sold_order", payment_id="sold_payment"
    ),
    "api POST /fills/{number}/payments/{payment_id}/reject": api(
        MINE_API, number="sold_order", payment_id="sold_payment"
    ),
    "api GET /stock": api(AGENT_API),
    "api POST /pickups": api(AGENT_API, input_first=True),
    "api GET /pickups": api(AGENT_API),
    "api GET /pickups/{number}": api(MINE_API, number="pickup"),
    "api GET /team": api(AGENT_API),
    "api GET /team/{agent_id}": api(MINE_API),
    "api GET /rewards": api(AGENT_API),
    "api GET /rewards/lines": api(AGENT_API),
    "api GET /withdrawals": api(AGENT_API),
    "api POST /withdrawals": api(AGENT_API, input_first=True),
    "api GET /withdrawals/{withdrawal_id}": api(MINE_API),
    "api GET /progress": api(AGENT_API),
    "api GET /public/shops/{invite_code}": api(PUBLIC_API, invite_code="code"),
    "api POST /public/shops/{invite_code}/orders": api(PUBLIC_API, invite_code="code"),
    # the consumer's order, by its shop and number (the number is the key)
    "api GET /public/shops/{invite_code}/orders/{number}": api(
        PUBLIC_API, invite_code="shop_code", number="shop_order"
    ),
    "api GET /public/brand": api(PUBLIC_API),
    "api GET /public/faq": api(PUBLIC_API),
    "api GET /public/regions": api(PUBLIC_API),
    "api GET /public/shops/{invite_code}/promotions": api(PUBLIC_API, invite_code="code"),
    "api POST /public/shops/{invite_code}/coupons": api(PUBLIC_API, invite_code="code"),
    "api GET /public/verify/code": api(PUBLIC_API),
    "api GET /public/verify/certificate": api(PUBLIC_API),
    "api GET /certificate": api(AGENT_API),
    "api GET /certificate/png": api(AGENT_API),
    "api GET /certificate/pdf": api(AGENT_API),
    "api GET /public/stores": api(PUBLIC_API),
    "api GET /leads": api(AGENT_API),
    "api POST /leads": api(AGENT_API, input_first=True),
    "api GET /leads/{lead_id}": api(MINE_API),
    "api POST /leads/{lead_id}/follow-ups": api(MINE_API, body={"text": "回访"}),
    "api GET /campaigns": api(AGENT_API),
    "api GET /notifications": api(AGENT_API),
    "api GET /notifications/unread": api(AGENT_API),
    "api POST /notifications/{notification_id}/read": api(MINE_API),
    "api POST /notifications/read-all": api(AGENT_API),
    "api GET /academy/courses": api(AGENT_API),
    "api GET /academy/courses/{course_id}": api(AGENT_API),  # a published course of their level
    "api POST /academy/lessons/{lesson_id}/progress": api(MINE_API),  # enrolled only (403 to B)
    "api POST /academy/quizzes/{quiz_id}/attempts": api(MINE_API, body={"answers": []}, input_first=True),
    "api GET /brand/agents": api(scope("agents:read")),
    "api GET /brand/agents/{agent_id}": api(scope("agents:read")),
    "api GET /brand/orders": api(scope("orders:read")),
    "api GET /brand/orders/{number}": api(scope("orders:read"), number="brand_order"),
    "api GET /brand/payments": api(scope("payments:read")),
    "api POST /brand/shipments": api(scope("shipments:write")),
    "api POST /brand/shipments/{number}/tracking": api(scope("shipments:write"), number="brand_order"),
    "api GET /brand/settlements": api(scope("settlements:read")),
    "api GET /brand/settlements/{period}/reports": api(scope("settlements:read")),
}
