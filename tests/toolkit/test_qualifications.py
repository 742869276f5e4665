"""The brand's qualifications (资质, launch toolkit): the owner uploads licences, filings, reports and
trademarks with their numbers and validity in the console; anyone reads them on the brand's public
page and through the public API, each scan opening as the file it is, an expired one flagged.
Bad uploads are refused with a clear message and change nothing; roles without the permission are
refused; a private one stays private."""

from __future__ import annotations

import io
from datetime import date, timedelta

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from weishang.core.errors import BusinessError
from weishang.core.models import Brand
from weishang.core.roles import role_group_name, roles_sync
from weishang.toolkit import selectors, services
from weishang.toolkit.models import Qualification

ADD_URL = "/console/toolkit/qualification/add/"


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


@pytest.fixture
def brand(db):
    return Brand.objects.create(name="焕颜 GLOW")


def png(name: str = "licence.png") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 180, 120)).save(buffer, "PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def pdf(name: str = "report.pdf") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 80), (255, 255, 255)).save(buffer, "PDF")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="application/pdf")


def add(**kwargs) -> Qualification:
    fields = {"kind": "business_licence", "title": "营业执照", "number": "91330106MA2H7Q3K5X", "document": png()}
    return services.qualification_save(**{**fields, **kwargs})


def staff_in(role: str | None) -> Client:
    roles_sync()
    user = get_user_model().objects.create_user(username=f"{role}-user", password="staff-pass-123", is_staff=True)
    if role:
        user.groups.add(Group.objects.get(name=role_group_name(role)))
    client = Client()
    client.force_login(user)
    return client


# --- the service ----------------------------------------------------------------------------


def test_a_picture_and_a_pdf_are_kept_under_names_of_our_making(brand):
    licence = add(document=png("../../etc/passwd.png"))
    report = add(kind="inspection", title="检测报告", document=pdf("报告.pdf"))
    assert licence.document.name.startswith("qualifications/") and licence.document.name.endswith(".png")
    assert "passwd" not in licence.document.name
    assert report.document.name.endswith(".pdf")
    with report.document.open("rb") as handle:
        assert handle.read(5) == b"%PDF-"


@pytest.mark.parametrize(
    ("upload", "field", "message"),
    [
        (None, "document", "请上传扫描件"),
        (
            SimpleUploadedFile("scan.pdf", b"this is not a pdf", content_type="application/pdf"),
            "document",
            "扫描件须为图片",
        ),
        (
            SimpleUploadedFile("cut.pdf", b"%PDF-1.4\n1 0 obj\n<<>>\n", content_type="application/pdf"),
            "document",
            "PDF 文件损坏",
        ),
        (
            SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024), content_type="application/pdf"),
            "document",
            "超过 10 MB",
        ),
    ],
)
def test_a_bad_scan_is_refused_and_nothing_is_saved(brand, upload, field, message):
    with pytest.raises(BusinessError) as refused:
        add(document=upload)
    assert refused.value.field == field and message in str(refused.value.message)
    assert not Qualification.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"kind": "diploma"}, "kind"),
        ({"title": "   "}, "title"),
        ({"title": "执照\x00"}, "title"),
        ({"number": "9" * 65}, "number"),
        ({"valid_from": date(2026, 5, 1), "valid_until": date(2026, 4, 30)}, "valid_until"),
    ],
)
def test_bad_fields_are_refused_on_their_field(brand, kwargs, field):
    with pytest.raises(BusinessError) as refused:
        add(**kwargs)
    assert refused.value.field == field
    assert not Qualification.objects.exists()


def test_validity_reads_the_dates_against_today(brand, clock):
    clock.freeze(date(2026, 12, 4))
    today = date(2026, 12, 4)
    cases = {
        "valid": add(valid_until=None),
        "expired": add(valid_until=today - timedelta(days=1)),
        "expires_soon": add(valid_until=today + timedelta(days=30)),
        "not_yet": add(valid_from=today + timedelta(days=1), valid_until=today + timedelta(days=400)),
    }
    assert {code: selectors.qualification_validity(q).code for code, q in cases.items()} == {
        "valid": "valid",
        "expired": "expired",
        "expires_soon": "expires_soon",
        "not_yet": "not_yet",
    }
    assert selectors.qualification_validity(add(valid_until=today + timedelta(days=31))).code == "valid"


# --- the public page and API ----------------------------------------------------------------


def test_the_brand_page_shows_public_qualifications_and_flags_an_expired_one(brand, client, clock):
    clock.freeze(date(2026, 12, 4))
    add(title="营业执照", number="91330106MA2H7Q3K5X", issuer="杭州市西湖区市场监督管理局")
    add(kind="production_licence", title="化妆品生产许可证", number="浙妆 20210055", valid_until=date(2026, 5, 31))
    add(kind="other", title="内部审计报告", number="INT-1", public=False)
    page = client.get("/brand/", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 200
    text = page.content.decode()
    assert "焕颜 GLOW · 品牌资质" in text
    assert "91330106MA2H7Q3K5X" in text and "杭州市西湖区市场监督管理局" in text
    assert 'data-validity="expired"' in text and "已过期" in text
    assert "内部审计报告" not in text and "INT-1" not in text


def test_a_scan_opens_as_the_file_it_is_and_a_private_one_only_for_staff(brand, client):
    licence = add(document=png())
    report = add(kind="inspection", title="检测报告", document=pdf())
    private = add(kind="other", title="内部", public=False)
    image = client.get(f"/brand/qualifications/{licence.pk}/scan/")
    assert image.status_code == 200 and image["Content-Type"] == "image/png"
    assert "sandbox" in image["Content-Security-Policy"] and image["X-Content-Type-Options"] == "nosniff"
    document = client.get(f"/brand/qualifications/{report.pk}/scan/")
    assert document.status_code == 200 and document["Content-Type"] == "application/pdf"
    assert b"".join(document.streaming_content).startswith(b"%PDF-")
    for url in (
        f"/brand/qualifications/{private.pk}/scan/",
        "/brand/qualifications/999999/scan/",
        "/brand/qualifications/99999999999999999999/scan/",
        "/brand/qualifications/abc/scan/",
    ):
        assert client.get(url).status_code == 404, url
    assert staff_in("owner").get(f"/brand/qualifications/{private.pk}/scan/").status_code == 200
    assert staff_in(None).get(f"/brand/qualifications/{private.pk}/scan/").status_code == 404


def test_the_public_api_lists_the_same_qualifications(brand, client, clock):
    clock.freeze(date(2026, 12, 4))
    add(title="营业执照", number="91330106MA2H7Q3K5X")
    add(kind="inspection", title="检测报告", number="CTI-1", valid_until=date(2026, 12, 20), document=pdf())
    add(kind="other", title="内部", public=False)
    answer = client.get("/api/v1/public/brand", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert answer.status_code == 200
    body = answer.json()
    assert body["name"] == "焕颜 GLOW"
    assert [(q["title"], q["number"], q["validity"], q["validity_display"]) for q in body["qualifications"]] == [
        ("营业执照", "91330106MA2H7Q3K5X", "valid", "有效"),
        ("检测报告", "CTI-1", "expires_soon", "即将到期"),
    ]
    scan = body["qualifications"][1]["scan_url"]
    assert client.get(scan.removeprefix("http://testserver")).status_code == 200


# --- the console ----------------------------------------------------------------------------


def form(upload, **fields) -> dict:
    return {
        "kind": "trademark",
        "title": "“焕颜”商标注册证",
        "number": "第58812345号",
        "issuer": "国家知识产权局",
        "valid_from": "2022-01-07",
        "valid_until": "2032-01-06",
        "public": "on",
        "position": "0",
        "document": upload,
        **fields,
    }


def test_the_owner_adds_a_qualification_with_its_scan(brand):
    owner = staff_in("owner")
    response = owner.post(ADD_URL, form(pdf()))
    assert response.status_code == 302
    saved = Qualification.objects.get()
    assert (saved.title, saved.number, saved.valid_until) == ("“焕颜”商标注册证", "第58812345号", date(2032, 1, 6))
    assert saved.document.name.endswith(".pdf")
    listing = owner.get("/console/toolkit/qualification/").content.decode()
    assert "“焕颜”商标注册证" in listing and "有效" in listing


@pytest.mark.parametrize(
    ("upload", "fields", "message"),
    [
        (
            SimpleUploadedFile("x.pdf", b"<script>alert(1)</script>", content_type="application/pdf"),
            {},
            "扫描件须为图片",
        ),
        (None, {}, "请上传扫描件"),
        ("png", {"valid_until": "2020-01-01"}, "到期日不能早于生效日"),
        ("png", {"valid_from": "2026-13-45"}, ""),
        ("png", {"kind": "diploma"}, ""),
    ],
)
def test_a_bad_console_form_says_why_and_saves_nothing(brand, upload, fields, message):
    owner = staff_in("owner")
    data = form(png() if upload == "png" else upload, **fields)
    if data["document"] is None:
        del data["document"]
    response = owner.post(ADD_URL, data, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Qualification.objects.exists()


@pytest.mark.parametrize(
    ("role", "can_add"),
    [("owner", True), ("operations", True), ("finance", False), ("warehouse", False), (None, False)],
)
def test_who_may_manage_qualifications(brand, role, can_add):
    client = staff_in(role)
    assert (client.get(ADD_URL).status_code == 200) == can_add
    response = client.post(ADD_URL, form(png()))
    assert (response.status_code == 302) == can_add
    assert Qualification.objects.exists() == can_add


def test_an_agent_finds_the_brand_page_from_their_me_page(brand, make_agent):
    agent = make_agent("city", real_name="市代王芳")
    client = Client()
    client.force_login(agent.user)
    page = client.get("/m/me/", HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert '<a href="/brand/">品牌资质</a>' in page
