"""My account on the phone (M7 item 5): change my password (other sessions and devices end, this one
stays), see my logged-in devices and sign them out; the console signs an agent's devices out."""

from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from weishang.api.models import ApiToken
from weishang.api.services import token_check, token_create
from weishang.core.roles import role_group_name, roles_sync

PASSWORD = "pass-word-1"
NEW = "brand-new-secret-7"


@pytest.fixture
def agent(make_agent):
    return make_agent("vip", password=PASSWORD)


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_the_pages_are_named_and_linked_from_home(agent):
    assert reverse("web:devices") == "/m/devices/" and reverse("web:password_change") == "/m/password/change/"
    home = client_of(agent.user).get("/m/").content.decode()
    assert 'href="/m/devices/"' in home and 'href="/m/password/change/"' in home


@pytest.mark.parametrize("url", ["/m/devices/", "/m/password/change/"])
def test_a_visitor_is_sent_to_log_in(db, url):
    response = Client().get(url)
    assert response.status_code == 302 and response["Location"].startswith("/m/login/")


def test_changing_my_password_keeps_this_phone_and_ends_every_other_login(agent):
    here, elsewhere = client_of(agent.user), client_of(agent.user)
    _token, secret = token_create(user=agent.user, device="小程序")
    page = here.get("/m/password/change/")
    assert page.status_code == 200 and "旧密码" in page.content.decode()
    done = here.post("/m/password/change/", {"old_password": PASSWORD, "new_password1": NEW, "new_password2": NEW})
    assert done.status_code == 302 and done["Location"] == "/m/devices/"
    assert "其他设备已退出登录" in here.get(done["Location"]).content.decode()
    assert here.get("/m/").status_code == 200  # this phone stays logged in
    assert elsewhere.get("/m/")["Location"].startswith("/m/login/")  # the other session ended
    assert token_check(secret) is None  # the mini-program's token too
    agent.user.refresh_from_db()
    assert agent.user.check_password(NEW)


@pytest.mark.parametrize(
    "old, new1, new2, field, chinese",
    [
        ("wrong-old-pass", NEW, NEW, "old_password", "旧密码不正确"),
        (PASSWORD, "12345678", "12345678", "new_password1", "密码只包含数字"),
        (PASSWORD, "abc", "abc", "new_password1", "太短"),
        (PASSWORD, NEW, NEW + "x", "new_password2", "不一致"),
    ],
)
def test_a_refused_change_says_why_in_chinese_and_changes_nothing(agent, old, new1, new2, field, chinese):
    here = client_of(agent.user)
    _token, secret = token_create(user=agent.user, device="小程序")
    response = here.post("/m/password/change/", {"old_password": old, "new_password1": new1, "new_password2": new2})
    assert response.status_code == 400
    assert field in response.context["form"].errors
    assert chinese in response.content.decode(), response.content.decode()
    assert token_check(secret) is not None
    agent.user.refresh_from_db()
    assert agent.user.check_password(PASSWORD)


def test_my_devices_list_names_and_dates_never_the_secret_and_only_mine(agent, make_agent):
    mine, secret = token_create(user=agent.user, device="iPhone 15")
    someone_else, _ = token_create(user=make_agent("vip").user, device="别人的手机")
    page = client_of(agent.user).get("/m/devices/").content.decode()
    assert "iPhone 15" in page and secret not in page and mine.key_hash not in page
    assert "别人的手机" not in page


def test_i_sign_one_device_out_or_all_but_never_someone_elses(agent, make_agent):
    here = client_of(agent.user)
    phone, phone_secret = token_create(user=agent.user, device="手机")
    pad, pad_secret = token_create(user=agent.user, device="平板")
    _app, app_secret = token_create(user=agent.user, device="小程序")
    theirs, their_secret = token_create(user=make_agent("vip").user, device="别人的手机")

    assert here.post(f"/m/devices/{theirs.pk}/logout/").status_code == 404
    assert token_check(their_secret) is not None
    assert here.get(f"/m/devices/{phone.pk}/logout/").status_code == 405  # a link cannot sign out

    done = here.post(f"/m/devices/{phone.pk}/logout/")
    assert done.status_code == 302 and token_check(phone_secret) is None and token_check(pad_secret) is not None
    here.post("/m/devices/logout-all/")
    assert token_check(pad_secret) is None and token_check(app_secret) is None
    assert token_check(their_secret) is not None
    assert here.get("/m/").status_code == 200  # the phone page itself stays logged in


# --- the console -------------------------------------------------------------------------------


def staff_in(role: str):
    roles_sync()
    user = get_user_model().objects.create_user(username=f"{role}-x", password="staff-pass-123", is_staff=True)
    from django.contrib.auth.models import Group

    user.groups.add(Group.objects.get(name=role_group_name(role)))
    return user


@pytest.mark.parametrize("role", ["owner", "operations"])
def test_owner_and_operations_sign_all_of_an_agents_devices_out_and_it_is_recorded(agent, role):
    _t1, s1 = token_create(user=agent.user, device="手机")
    _t2, s2 = token_create(user=agent.user, device="平板")
    console = client_of(staff_in(role))
    url = f"/console/channel/agent/{agent.pk}/sign-out-devices/"
    confirm = console.get(url)
    assert confirm.status_code == 200 and "退出" in confirm.content.decode()
    assert token_check(s1) is not None  # looking changes nothing
    done = console.post(url)
    assert done.status_code == 302
    assert token_check(s1) is None and token_check(s2) is None
    entry = LogEntry.objects.get(object_id=str(agent.pk))
    assert entry.user.username == f"{role}-x" and "2" in entry.get_change_message()


@pytest.mark.parametrize("role", ["finance", "warehouse", "lecturer"])
def test_other_roles_cannot_sign_an_agents_devices_out(agent, role):
    _t, secret = token_create(user=agent.user, device="手机")
    console = client_of(staff_in(role))
    response = console.post(f"/console/channel/agent/{agent.pk}/sign-out-devices/")
    assert response.status_code in (302, 403)
    assert token_check(secret) is not None
    assert not LogEntry.objects.exists()


def test_an_agent_cannot_use_the_console_action(agent, make_agent):
    victim = make_agent("vip")
    _t, secret = token_create(user=victim.user, device="手机")
    response = client_of(agent.user).post(f"/console/channel/agent/{victim.pk}/sign-out-devices/")
    assert response.status_code == 302 and "/console/login/" in response["Location"]
    assert token_check(secret) is not None


def test_setting_a_staff_password_in_the_console_logs_their_devices_out(db):
    owner = staff_in("owner")
    owner.is_superuser = True
    owner.save()
    clerk = staff_in("warehouse")
    _t, secret = token_create(user=clerk, device="扫码枪")
    response = client_of(owner).post(
        f"/console/core/user/{clerk.pk}/password/", {"password1": NEW, "password2": NEW, "usable_password": "true"}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert token_check(secret) is None
    assert ApiToken.objects.get().revoked_at is not None
