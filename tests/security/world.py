"""The world the permission matrix runs in: the demo brand, its staff (one user in each role
group), agent A — the owner of every object the matrix's URLs name — and agent B, another agent of
the same level outside A's lines (neither is the other's upline, in either tree), and brand API
keys, one per scope.

``World.ids`` names the objects of A that the URLs are filled with (``matrix.py`` says which id
each URL takes); what the demo does not give A is made here, through the services where there is
one."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.contrib.auth import get_user_model

from weishang.core.roles import ROLES

LOGIN_RANK = 4  # the demo's 市代 login: a team, orders bought and sold, leads, a store, a withdrawal


@dataclass
class World:
    users: dict[str, object]  # subject -> user (None: anonymous)
    agent_a: object
    agent_b: object
    ids: dict[str, object]
    keys: dict[str, str] = field(default_factory=dict)  # subject -> API key (brand integrations)
    tokens: dict[str, str] = field(default_factory=dict)  # subject -> device token (agents)
    secrets: list[str] = field(default_factory=list)  # A's data no stranger may be shown
    console_objects: dict[str, object] = field(default_factory=dict)  # model label -> pk its pages show


def _other_agent(a):
    """An active agent of A's level outside both of A's lines (not above, not below A)."""
    from weishang.channel.models import Agent, ReferrerLink, SupplierLink

    related = set()
    for link in (ReferrerLink, SupplierLink):
        related |= set(link.objects.filter(descendant=a).values_list("ancestor_id", flat=True))
        related |= set(link.objects.filter(ancestor=a).values_list("descendant_id", flat=True))
    return (
        Agent.objects.filter(level=a.level, status="active")
        .exclude(pk__in=related)
        .exclude(user__phone__startswith="1380000000")
        .order_by("pk")
        .first()
    )


def _media_lesson(lessons):
    """A lesson of A's courses with a file (the demo's have none: the slide deck's PDF, uploaded as
    a lecturer would)."""
    from django.core.files.base import ContentFile

    from weishang.academy.models import SlideDeck

    lesson = lessons.exclude(media="").first()
    if lesson is None:
        lesson = lessons.first()
        with SlideDeck.objects.order_by("pk").first().file.open("rb") as deck:
            lesson.media.save("lesson.pdf", ContentFile(deck.read()), save=True)
    return lesson


def _b2b_ids() -> dict[str, int]:
    from weishang.b2b.models import (
        BusinessAccount,
        ClaimPhoto,
        CreditNote,
        Listing,
        ListingImage,
        Offer,
        Order,
        Shipment,
    )

    def first(model) -> int:
        return model.objects.order_by("pk").values_list("pk", flat=True).first() or 1

    return {
        "listing_id": first(Listing),
        "b2b_image": first(ListingImage),
        "seller_id": BusinessAccount.objects.filter(is_brand=True).values_list("pk", flat=True).first() or 1,
        "inquiry_id": first(Order.inquiry.field.related_model),
        "offer_id": first(Offer),
        "order_id": first(Order),
        "shipment_id": first(Shipment),
        "note_id": first(CreditNote),
        "b2b_photo": first(ClaimPhoto),
    }


def world_build() -> World:
    from test_chinese_everywhere import _fill_what_the_demo_lacks

    from weishang.academy.models import CourseCertificate, Enrolment, Lesson, LiveClass, Quiz
    from weishang.api.models import ApiToken
    from weishang.api.scopes import SCOPES
    from weishang.api.services import api_key_create, token_create
    from weishang.autofinance.models import FinanceQuote
    from weishang.catalog.models import Product, ProductImage
    from weishang.channel.models import Agent, Application, ApplicationStatus
    from weishang.demo import services as demo
    from weishang.leads.models import Lead
    from weishang.meetings.models import Invitation, Meeting
    from weishang.meetings.services import meeting_invite
    from weishang.notifications.models import Notification
    from weishang.promotions.models import CouponOffer
    from weishang.service.models import Conversation
    from weishang.stores.models import StorePhoto
    from weishang.toolkit.models import Material, MaterialFile, PosterTemplate, Qualification
    from weishang.trade.models import OrderKind, OrderNotice, Payment, ReceivingAccount
    from weishang.trade.models.orders import Order

    demo.demo_load(agents=60)
    _fill_what_the_demo_lacks(demo)
    User = get_user_model()
    a = Agent.objects.select_related("user", "level").get(user__phone=demo.LOGIN_PHONE.format(rank=LOGIN_RANK))
    b = _other_agent(a)
    assert b is not None, "the demo has no second agent of the login's level outside its lines"
    users: dict[str, object] = {"anonymous": None}
    for code in ROLES:  # the demo's staff: one user in exactly each role group
        users[code] = User.objects.get(username=code, is_superuser=False, is_staff=True)
        assert [g.name for g in users[code].groups.all()] == [f"role:{code}"]
    other = User.objects.create_user(username="lecturer-b", password="pass-word-1", is_staff=True)
    other.groups.add(users["lecturer"].groups.get())
    users["lecturer_b"] = other
    users["agent_a"], users["agent_b"] = a.user, b.user

    # What the demo does not give A: a notice on an order, a course certificate, an invitation.
    bought = Order.objects.filter(buyer=a, total__gt=0).exclude(kind=OrderKind.RETAIL).order_by("-pk").first()
    sold = Order.objects.filter(seller=a).exclude(kind=OrderKind.RETAIL).order_by("-pk").first()
    notice = OrderNotice.objects.create(order=bought, agent=a, kind="cancelled", text="订单已取消")
    enrolment = Enrolment.objects.filter(agent=a).order_by("pk").first()
    certificate = CourseCertificate.objects.filter(enrolment__agent=a).first() or CourseCertificate.objects.create(
        serial="GC-PERM-0001", enrolment=enrolment, agent_name=a.real_name, course_title=enrolment.course.title
    )
    meeting = Meeting.objects.order_by("-starts_at").first()
    invitation = Invitation.objects.filter(invited_by=a).first() or meeting_invite(
        meeting=meeting, by_agent=a, name="张三", phone="13912340001"
    )
    application = (
        Application.objects.filter(approver=a, status=ApplicationStatus.PENDING).order_by("pk").first()
        or Application.objects.filter(approver=a).order_by("pk").first()
    )
    # A transfer A sent for an order A bought, with its screenshot (the demo's payments have none).
    a_payment = Payment.objects.create(
        order=bought,
        method="transfer",
        amount=bought.total,
        receiver=bought.seller,
        screenshot=demo._picture((200, 200, 200), "transfer"),
        created_by=a.user,
    )
    sold_payment = Payment.objects.filter(order=sold).order_by("pk").first()
    account = ReceivingAccount.objects.filter(agent=a).order_by("pk").first()
    account.qr_image = demo._picture((220, 220, 220), "qr")  # A's receiving QR code, as A uploads it
    account.save(update_fields=["qr_image"])
    material = Material.objects.filter(files__isnull=False).order_by("pk").first()
    shop_order = Order.objects.filter(kind=OrderKind.RETAIL).select_related("seller").order_by("-pk").first()
    course = enrolment.course
    lessons = Lesson.objects.filter(course__enrolments__agent=a).order_by("pk")
    tokens = {name: token_create(user=users[name], device=f"matrix {name}")[1] for name in ("agent_a", "agent_b")}
    ids = {
        "product_id": Product.objects.order_by("pk").first().pk,
        "image_id": ProductImage.objects.order_by("pk").first().pk,
        "size": "thumb",
        "qualification": Qualification.objects.order_by("pk").first().pk,
        "token_id": ApiToken.objects.filter(user=a.user).order_by("pk").first().pk,
        "agent_id": Agent.objects.filter(referrer=a).order_by("pk").first().pk,
        "template_id": PosterTemplate.objects.order_by("pk").first().pk,
        "material_id": material.pk,
        "file_id": MaterialFile.objects.filter(material=material).order_by("pk").first().pk,
        "meeting_id": meeting.pk,
        "invitation_token": invitation.token,
        "checkin_token": meeting.checkin_token,
        "course_id": course.pk,
        "lesson_id": Lesson.objects.filter(course=course).order_by("pk").first().pk,
        # A lesson with a file and one with slides, in courses A is enrolled in (the lesson if none)
        "media_lesson": _media_lesson(lessons).pk,
        "slides_lesson": (lessons.filter(slides__isnull=False).values_list("pk", flat=True).first() or 0),
        "quiz_id": Quiz.objects.filter(course=course).values_list("pk", flat=True).first(),
        "certificate_id": certificate.pk,
        "certificate_serial": certificate.serial,
        "live_id": LiveClass.objects.filter(course=course).values_list("pk", flat=True).first()
        or LiveClass.objects.order_by("pk").first().pk,
        "open_token": type(course).objects.filter(kind="open", published=True).order_by("pk").first().public_token,
        "lead_id": Lead.objects.filter(owner_agent=a).order_by("pk").first().pk,
        "conversation_id": Conversation.objects.filter(agent=a).order_by("pk").first().pk,
        "conversation_token": Conversation.objects.filter(agent=a).order_by("pk").first().token,
        "finance_token": FinanceQuote.objects.order_by("pk").first().token,
        "application_id": application.pk,
        "code": a.invite_code,
        "bought_order": bought.number,
        "sold_order": sold.number,
        "sold_payment": sold_payment.pk,
        "payment_id": a_payment.pk,
        "shop_code": shop_order.seller.invite_code,
        "shop_order": shop_order.number,
        "account_id": account.pk,
        "notice_id": notice.pk,
        "notification_id": Notification.objects.filter(recipient=a.user).order_by("pk").first().pk,
        "photo_id": StorePhoto.objects.order_by("pk").first().pk,
        "offer": CouponOffer.objects.order_by("pk").first().pk,
        "withdrawal_id": a.withdrawals.order_by("pk").first().pk,
        "pickup": Order.objects.filter(buyer=a, kind="pickup").values_list("number", flat=True).first() or "",
        "period": "2026-11",
        "provider": "fake",
        "brand_order": Order.objects.filter(seller__isnull=True)
        .exclude(kind=OrderKind.RETAIL)
        .order_by("-pk")
        .first()
        .number,
        # B2B (M14): the demo's deal; no subject of the matrix acts for a business account, so
        # every /b2b/ page refuses them all (tests/b2b/test_pages.py checks the companies' own sides)
        **_b2b_ids(),
        "buyer_step": "receive",
        "seller_step": "approve",
        "payment_step": "confirm",
    }
    keys = {f"key:{scope}": api_key_create(name=f"matrix {scope}", scopes=[scope])[1] for scope in sorted(SCOPES)}
    # What only A and the brand may see: A's phone and the numbers of the orders A bought.
    secrets = [a.user.phone, *Order.objects.filter(buyer=a).values_list("number", flat=True)]
    # The console's pages of a payment show one with a transfer screenshot (its picture page).
    console_objects = {"trade.payment": a_payment.pk}
    return World(
        users=users,
        agent_a=a,
        agent_b=b,
        ids=ids,
        keys=keys,
        tokens=tokens,
        secrets=secrets,
        console_objects=console_objects,
    )
