"""Authorization certificates (M9): every active agent has one in force; an upgrade or a region
change replaces it (the old one kept, superseded), a suspension or exit revokes it, reinstatement
issues a new one; the page is a PNG and a PDF read back; the public lookup by number, phone or
WeChat id says authorized or not, level, region and valid until — the name masked, never the
phone."""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.auth import get_user_model
from PIL import Image
from pypdf import PdfReader

from weishang.catalog.models import SKU, LevelPrice, Product
from weishang.certificates import selectors
from weishang.certificates.models import Certificate, CertificateStatus
from weishang.certificates.services import (
    certificate_lookup,
    certificate_reconcile,
    certificate_reissue,
    certificates_follow_events,
    certificates_sync,
)
from weishang.channel import services as channel
from weishang.core import checkchars
from weishang.core.errors import BusinessError, Conflict, Forbidden
from weishang.core.fonts import cjk_font
from weishang.core.models import Brand

pytestmark = pytest.mark.django_db


def owner():
    User = get_user_model()
    return User.objects.filter(username="owner").first() or User.objects.create_superuser(
        username="owner", password="x", phone="13000000001"
    )


@pytest.fixture
def agent(make_agent, levels):
    Brand.objects.create(name="焕颜 GLOW")
    product = Product.objects.create(name="焕颜修护系列")
    sku = SKU.objects.create(product=product, code="GLOW-30", name="焕颜修护精华 30ml", retail_price=298)
    LevelPrice.objects.create(sku=sku, level=levels["city"], price=180)
    LevelPrice.objects.create(sku=sku, level=levels["province"], price=150)
    city = make_agent("city", real_name="王小芳", phone="13912345678")
    channel.agent_set_region(agent=city, region="330100", by=owner())
    return city


def in_force(agent) -> Certificate:
    """The agent's certificate in force, once the outbox's consumer has run (in production it runs
    right after the commit; a test's transaction never commits)."""
    certificates_follow_events()
    return Certificate.objects.get(agent=agent, status=CertificateStatus.ACTIVE)


def test_an_active_agent_has_one_certificate_for_their_level_region_and_products(agent):
    certificate = in_force(agent)
    assert (certificate.level_name, certificate.region_name, certificate.products) == (
        "市代",
        "浙江省 杭州市",
        "焕颜修护系列",
    )
    assert re.fullmatch(r"SQ\d{4}[0-9A-Z]{9}", certificate.serial) and checkchars.checked(certificate.serial)
    assert (certificate.valid_until - certificate.valid_from).days == 364
    assert certificate_reconcile(agent=agent) == certificate  # nothing changed: the same one


def test_an_upgrade_replaces_it_and_the_old_one_is_kept(agent, levels):
    first = in_force(agent)
    channel.agent_change_level(agent=agent, level=levels["province"], by=owner(), reason="升级")
    second = in_force(agent)
    first.refresh_from_db()
    assert second.pk != first.pk and second.level_name == "省代" and second.replaces == first
    assert first.status == CertificateStatus.SUPERSEDED and "省代" in first.end_reason and first.ended_at
    channel.agent_set_region(agent=agent, region="330000", by=owner())
    third = in_force(agent)
    assert third.region_name == "浙江省" and third.replaces == second
    assert list(selectors.history_of(agent)) == [third, second, first]


def test_suspension_and_exit_revoke_it_and_reinstatement_issues_a_new_one(agent):
    first = in_force(agent)
    channel.agent_change_status(agent=agent, action="suspend", by=owner(), reason="窜货")
    certificates_follow_events()
    first.refresh_from_db()
    assert first.status == CertificateStatus.REVOKED and first.end_reason == "代理已暂停"
    assert not Certificate.objects.filter(agent=agent, status=CertificateStatus.ACTIVE).exists()
    channel.agent_change_status(agent=agent, action="reinstate", by=owner())
    second = in_force(agent)
    assert second.replaces == first
    channel.agent_change_status(agent=agent, action="exit", by=owner())
    certificates_follow_events()
    second.refresh_from_db()
    assert second.status == CertificateStatus.REVOKED


@pytest.mark.django_db(transaction=True)
def test_the_outbox_runs_it_right_after_the_change_commits(agent, levels):
    """With real commits, as in production: no one calls the consumer by hand."""
    first = Certificate.objects.get(agent=agent, status="active")
    channel.agent_change_level(agent=agent, level=levels["province"], by=owner())
    assert Certificate.objects.get(agent=agent, status="active").replaces == first


def test_the_page_is_a_png_and_a_pdf_that_read_back(agent):
    assert cjk_font() is not None  # fonts-noto-cjk (scripts/ensure-chromium)
    certificate = in_force(agent)
    png = selectors.certificate_png(certificate, verify_url="https://brand.example/verify/?q=" + certificate.serial)
    picture = Image.open(io.BytesIO(png))
    assert picture.format == "PNG" and picture.size == (1600, 1131)
    # The title is drawn in Chinese: its area holds red ink of more than a box's shape.
    title = picture.convert("RGB").crop((560, 95, 1040, 215))
    red = sum(1 for r, g, b in title.getdata() if r > 150 and g < 80 and b < 80)
    assert red > 3000
    pdf = selectors.certificate_pdf(certificate, verify_url="https://brand.example/verify/")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1 and len(reader.pages[0].images) >= 1
    text = re.sub(r"\s", "", reader.pages[0].extract_text().replace("\x00", ""))
    for expected in (certificate.serial, "王小芳", "市代", "浙江省杭州市", f"{certificate.valid_until:%Y-%m-%d}"):
        assert expected in text, expected


@pytest.mark.parametrize("how", ["serial", "grouped", "phone", "wechat"])
def test_the_public_lookup_answers_masked(agent, how):
    channel.agent_set_wechat_id(agent=agent, wechat_id="glow_wangxf", by=agent.user)
    certificate = in_force(agent)
    query = {
        "serial": certificate.serial,
        "grouped": checkchars.grouped(certificate.serial).lower(),
        "phone": "139 1234 5678",
        "wechat": "GLOW_WANGXF",
    }[how]
    answer = certificate_lookup(query)
    assert answer.found and answer.authorized
    assert (answer.name_masked, answer.level, answer.region, answer.valid_until) == (
        "王*芳",
        "市代",
        "浙江省 杭州市",
        certificate.valid_until,
    )
    assert "王小芳" not in repr(answer) and "13912345678" not in repr(answer)


def test_a_replaced_or_revoked_number_says_so(agent, levels):
    old = in_force(agent)
    channel.agent_change_level(agent=agent, level=levels["province"], by=owner())
    answer = certificate_lookup(old.serial)
    assert answer.found and not answer.authorized and answer.status == "superseded"
    channel.agent_change_status(agent=agent, action="exit", by=owner())
    by_phone = certificate_lookup(agent.phone)
    assert by_phone.found and not by_phone.authorized and by_phone.status == "revoked" and by_phone.ended_at


@pytest.mark.parametrize("query", ["SQ2026ABCDEFGHJ", "13800000000", "nobody_here", "'; DROP TABLE x;--", "１３９"])
def test_an_unknown_query_is_not_found(agent, query):
    assert not certificate_lookup(query).found


def test_an_empty_query_is_a_field_error(agent):
    with pytest.raises(BusinessError) as caught:
        certificate_lookup("   ")
    assert caught.value.field == "q"


def test_a_wechat_id_follows_wechats_rule_and_is_one_agents(agent, make_agent):
    for bad in ("abc", "1abcdef", "has space", "x" * 21):
        with pytest.raises(BusinessError):
            channel.agent_set_wechat_id(agent=agent, wechat_id=bad, by=agent.user)
    channel.agent_set_wechat_id(agent=agent, wechat_id="glow_wangxf", by=agent.user)
    other = make_agent("vip")
    with pytest.raises(Conflict):
        channel.agent_set_wechat_id(agent=other, wechat_id="GLOW_wangxf", by=other.user)
    with pytest.raises(Forbidden):
        channel.agent_set_wechat_id(agent=agent, wechat_id="stolen_id", by=other.user)


def test_staff_reissue_with_a_reason(agent):
    old = in_force(agent)
    with pytest.raises(BusinessError):
        certificate_reissue(certificate=old, by=owner(), reason=" ")
    with pytest.raises(Forbidden):
        certificate_reissue(certificate=old, by=agent.user, reason="丢失")
    new = certificate_reissue(certificate=old, by=owner(), reason="纸质授权书丢失")
    old.refresh_from_db()
    assert new.replaces == old and old.status == "superseded" and old.end_reason == "纸质授权书丢失"
    assert not certificate_lookup(old.serial).authorized and certificate_lookup(new.serial).authorized


def test_sync_issues_for_everyone_in_bulk_and_fixes_what_changed(agent, make_agent):
    Certificate.objects.all().delete()
    others = [make_agent("vip") for _ in range(5)]
    Certificate.objects.all().delete()  # as before the certificates existed
    assert certificates_sync() == 6
    assert Certificate.objects.filter(status="active").count() == 6
    assert certificates_sync() == 0
    channel.agent_change_status(agent=others[0], action="suspend", by=owner())
    Certificate.objects.filter(agent=others[0]).update(status="active", ended_at=None)  # an event missed
    assert certificates_sync() == 1
    assert not Certificate.objects.filter(agent=others[0], status="active").exists()


def test_the_agent_is_told_each_new_certificate_is_ready(agent, levels):
    from weishang.notifications.models import Notification
    from weishang.notifications.selectors import notification_text
    from weishang.notifications.services import notifications_follow_events

    first = in_force(agent)
    channel.agent_change_level(agent=agent, level=levels["province"], by=owner(), reason="升级")
    second = in_force(agent)
    notifications_follow_events()
    told = Notification.objects.filter(recipient=agent.user, kind="certificate_issued").order_by("pk")
    assert [(notification_text(n), n.url) for n in told] == [
        (f"你的授权书 {first.serial}（市代）已生成。", "/m/certificate/"),
        (f"你的授权书 {second.serial}（省代）已生成。", "/m/certificate/"),
    ]
