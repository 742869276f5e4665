"""Certificates on the faces (M9): the agent's page, picture and PDF (only their own), their WeChat
id; the public /verify/ page and API for certificates and product codes — masked, rate-limited,
hostile input refused on its field; the console's list, files and re-issue for the owner, refused
to other roles and to agents."""

from __future__ import annotations

import io
import re

import pytest
from django.test import Client
from PIL import Image
from pypdf import PdfReader

from weishang.api.services import token_create
from weishang.certificates.models import Certificate
from weishang.certificates.services import certificates_follow_events
from weishang.core import checkchars
from weishang.core.roles import roles_sync

from .test_certificates import agent, owner  # noqa: F401 - the fixture, reused

pytestmark = pytest.mark.django_db


@pytest.fixture
def certificate(agent):  # noqa: F811
    certificates_follow_events()
    return Certificate.objects.get(agent=agent, status="active")


def as_agent(agent) -> Client:  # noqa: F811
    client = Client()
    client.force_login(agent.user)
    return client


def test_the_agent_sees_downloads_and_shares_their_certificate(agent, certificate):  # noqa: F811
    client = as_agent(agent)
    page = client.get("/m/certificate/").content.decode()
    assert certificate.serial in page and "浙江省 杭州市" in page and "/verify/?q=" + certificate.serial in page
    png = client.get("/m/certificate.png?download=1")
    assert png["Content-Type"] == "image/png" and png["Content-Disposition"].startswith("attachment")
    assert Image.open(io.BytesIO(png.content)).size == (1600, 1131)
    pdf = client.get("/m/certificate.pdf")
    assert pdf["Content-Type"] == "application/pdf"
    text = PdfReader(io.BytesIO(pdf.content)).pages[0].extract_text().replace("\x00", "")
    assert certificate.serial in re.sub(r"\s", "", text)
    saved = client.post("/m/certificate/wechat/", {"wechat_id": "glow_wangxf"}, follow=True)
    assert "已保存" in saved.content.decode()
    agent.refresh_from_db()
    assert agent.wechat_id == "glow_wangxf"
    bad = client.post("/m/certificate/wechat/", {"wechat_id": "1bad"}, follow=True)
    assert "微信号为 6 到 20 位" in bad.content.decode()


def test_only_the_agent_gets_their_files(agent, certificate, make_agent):  # noqa: F811
    other = as_agent(make_agent("vip"))
    assert certificate.serial not in other.get("/m/certificate/").content.decode()
    for url in ("/m/certificate/", "/m/certificate.png", "/m/certificate.pdf"):
        response = Client().get(url)
        assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_public_page_checks_a_certificate_without_login(agent, certificate):  # noqa: F811
    public = Client()
    page = public.get("/verify/")
    assert (
        page.status_code == 200 and "查验代理授权" in page.content.decode() and "查验商品真伪" in page.content.decode()
    )
    # The QR code on the certificate opens /verify/?q=<number>; the form posts (a phone number
    # typed in stays out of the address bar and the server's logs).
    answer = public.get("/verify/", {"q": checkchars.grouped(certificate.serial)}).content.decode()
    assert 'method="post"' in answer
    assert 'data-testid="authorized">已授权' in answer and "王*芳" in answer and "浙江省 杭州市" in answer
    assert "王小芳" not in answer and agent.phone not in answer
    assert f"{certificate.valid_until:%Y-%m-%d}" in answer
    by_phone = public.post("/verify/", {"q": agent.phone}).content.decode()
    shown = re.search(r'data-testid="certificate-answer">(.*?)</dl>', by_phone, re.S).group(1)
    assert 'data-testid="authorized">已授权' in shown and agent.phone not in shown and "王*芳" in shown
    missing = public.post("/verify/", {"q": "nobody_at_all"}).content.decode()
    assert "查无此人" in missing


@pytest.mark.parametrize("q", ["", "x" * 65, "a\x00b"])
def test_hostile_lookups_are_refused_on_the_field(agent, q):  # noqa: F811
    response = Client().get("/verify/", {"q": q})
    assert response.status_code == 400


def test_the_public_page_and_api_are_rate_limited(agent, settings):  # noqa: F811
    settings.WEISHANG_API_RATES = {"public": "3/m"}
    public = Client(REMOTE_ADDR="10.8.8.8")
    answers = [public.get("/verify/", {"q": "13900000000"}).status_code for _ in range(4)]
    assert answers == [200, 200, 200, 429]
    assert "查询过于频繁" in public.get("/verify/", {"q": "x1"}).content.decode()
    assert Client(REMOTE_ADDR="10.8.8.9").get("/verify/", {"q": "13900000000"}).status_code == 200


def test_the_api_answers_the_same_masked(agent, certificate):  # noqa: F811
    public = Client()
    body = public.get("/api/v1/public/verify/certificate", {"q": agent.phone}).json()
    assert body["authorized"] and body["serial"] == certificate.serial and body["name_masked"] == "王*芳"
    assert agent.phone not in str(body) and "王小芳" not in str(body)
    assert public.get("/api/v1/public/verify/certificate", {"q": ""}).status_code == 422
    token = token_create(user=agent.user)[1]
    mine = public.get("/api/v1/certificate", headers={"Authorization": f"Bearer {token}"}).json()
    assert mine["serial"] == certificate.serial and mine["png_url"].endswith("/api/v1/certificate/png")
    png = public.get("/api/v1/certificate/png", headers={"Authorization": f"Bearer {token}"})
    assert png["Content-Type"] == "image/png" and png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert public.get("/api/v1/certificate").status_code == 401


@pytest.fixture
def staff(db, django_user_model):
    groups = roles_sync()

    def make(role: str) -> Client:
        user = django_user_model.objects.create_user(username=f"{role}-u", password="x", is_staff=True)
        user.groups.add(groups[role])
        client = Client()
        client.force_login(user)
        return client

    return make


def test_the_owner_lists_downloads_and_reissues(agent, certificate, staff):  # noqa: F811
    console = staff("owner")
    listed = console.get("/console/certificates/certificate/", {"q": checkchars.grouped(certificate.serial)})
    assert certificate.serial in listed.content.decode()
    png = console.get(f"/console/certificates/certificate/{certificate.pk}/certificate.png")
    assert png["Content-Type"] == "image/png"
    url = f"/console/certificates/certificate/{certificate.pk}/reissue/"
    assert console.post(url, {"reason": ""}).status_code == 400
    assert console.post(url, {"reason": "纸质授权书丢失"}).status_code == 302
    certificate.refresh_from_db()
    assert certificate.status == "superseded"
    assert Certificate.objects.get(agent=agent, status="active").replaces == certificate


@pytest.mark.parametrize("role", ["finance", "warehouse", "lecturer"])
def test_other_roles_are_refused(certificate, staff, role):
    console = staff(role)
    for url in (
        "/console/certificates/certificate/",
        f"/console/certificates/certificate/{certificate.pk}/certificate.pdf",
        f"/console/certificates/certificate/{certificate.pk}/reissue/",
        "/console/certificates/certificatetemplate/",
    ):
        assert console.get(url).status_code == 403, url


def test_agents_never_reach_the_console(agent, certificate):  # noqa: F811
    response = as_agent(agent).get(f"/console/certificates/certificate/{certificate.pk}/certificate.png")
    assert response.status_code == 302 and "/login/" in response["Location"]


def test_the_command_line_syncs_and_checks(agent, certificate, capsys):  # noqa: F811
    from django.core.management import call_command

    Certificate.objects.all().delete()
    call_command("certificates", "sync")
    assert "1 agent(s)" in capsys.readouterr().out
    serial = Certificate.objects.get(agent=agent, status="active").serial
    call_command("certificates", "check", agent.phone)
    out = capsys.readouterr().out
    assert f'"serial": "{serial}"' in out and '"name": "王*芳"' in out and agent.phone not in out


def test_the_template_refuses_unknown_placeholders(staff):
    console = staff("owner")
    bad = console.post(
        "/console/certificates/certificatetemplate/add/", {"title": "授权书", "statement": "兹授权 {phone}"}
    )
    assert bad.status_code == 200 and "花括号中只能使用" in bad.content.decode()
    good = console.post(
        "/console/certificates/certificatetemplate/add/", {"title": "授权证书", "statement": "兹授权 {name} 为 {level}"}
    )
    assert good.status_code == 302
