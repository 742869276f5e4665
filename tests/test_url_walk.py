"""Every URL of the project, with hostile ids and stray query parameters, answers without a 5xx —
as an anonymous visitor, as an agent and as the brand's owner.

The walk enumerates the URL resolver (the console, the phone pages, the public pages, the API —
whose paths are the ones its OpenAPI lists, checked below), fills each path converter with values
an attacker would send (2**63, 20 digits, 0, -1, text where a number is expected, Chinese, a very
long value) and adds stray query parameters (``format=xlsx``, ``page=-1``, ``o=``, a NUL in
``q``, …). Redirects are not followed: a redirect is an answer.
"""

from __future__ import annotations

import re
from itertools import islice
from urllib.parse import quote

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import RegexPattern, RoutePattern

from weishang.api.scopes import SCOPES
from weishang.api.services import api_key_create, token_create
from weishang.core.roles import role_group_name, roles_sync

HOSTILE = {
    "int": ["9223372036854775808", "99999999999999999999", "0", "-1", "abc"],
    "str": ["9223372036854775808", "abc", "中文-ü", "x" * 300, "%00"],
    "slug": ["9223372036854775808", "abc", "x" * 300],
    "path": ["9223372036854775808", "99999999999999999999", "-1", "abc", "中文/../1"],
    "uuid": ["00000000-0000-0000-0000-000000000000"],
}
# Stray parameters, in groups (each group on every page that takes no id, and on one id).
STRAY = [
    {"format": "xlsx"},
    {"format": "nonsense", "page": "-1", "o": "", "q": "\x00"},
    {"page": "999999999", "p": "-1", "o": "99", "e": "1", "all": "", "cursor": "%%%", "page_size": "-5"},
    {
        "page": "abc",
        "p": "99999999999999999999",
        "id__exact": "99999999999999999999",
        "status__exact": "nonsense",
        "q": "x" * 2000,
        "level__id__exact": "9223372036854775808",
    },
    {
        "cursor": "9223372036854775808",
        "page_size": "99999999999999999999",
        "since": "not-a-date",
        "_changelist_filters": "%00",
        "_to_field": "password",
        "_popup": "1",
    },
]
PLACEHOLDER = re.compile(r"<(?:(?P<converter>[^>:]+):)?(?P<name>[^>]+)>")


def _regex_to_route(regex: str) -> str | None:
    """A console regex route (``^(?P<app_label>channel|trade)/$``) with each group's first choice."""
    text = regex.lstrip("^").rstrip("$").replace("\\Z", "")
    text = re.sub(r"\(\?P<\w+>([^|)]+)[^)]*\)", lambda m: m.group(1), text)
    return None if re.search(r"[()\[\]*+?\\{}|]", text) else text


def url_patterns() -> list[tuple[str, dict[str, str]]]:
    """(route with <converter:name> placeholders, {name: converter}) for every URL of the project."""
    found = []

    def walk(patterns, prefix: str) -> None:
        for entry in patterns:
            pattern = entry.pattern
            if isinstance(pattern, RoutePattern):
                route = str(pattern._route)
            elif isinstance(pattern, RegexPattern):
                route = _regex_to_route(pattern._regex)
                if route is None:
                    continue
            else:  # pragma: no cover - Django has only these two
                continue
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + route)
            elif isinstance(entry, URLPattern):
                found.append(prefix + route)

    walk(get_resolver().url_patterns, "/")
    out = []
    for route in dict.fromkeys(found):
        converters = {m["name"]: (m["converter"] or "str") for m in PLACEHOLDER.finditer(route)}
        out.append((route, converters))
    return out


def fill(route: str, values: dict[str, str]) -> str:
    return PLACEHOLDER.sub(lambda m: quote(values[m["name"]], safe="/%"), route)


def requests_for(patterns) -> list[tuple[str, dict]]:
    """Each URL with each hostile value of its converters (all at once), and the stray parameters
    on URLs with no converter and on one hostile filling of the others."""
    out = []
    for route, converters in patterns:
        if not converters:
            out.append((route, {}))
            out += [(route, params) for params in STRAY]
            continue
        width = max(len(HOSTILE.get(c, ["abc"])) for c in converters.values())
        for i in range(width):
            values = {name: HOSTILE.get(c, ["abc"])[i % len(HOSTILE.get(c, ["abc"]))] for name, c in converters.items()}
            out.append((fill(route, values), {}))
        first = {name: HOSTILE.get(c, ["abc"])[0] for name, c in converters.items()}
        out += [(fill(route, first), params) for params in islice(STRAY, 2)]
    return out


@pytest.fixture
def world(db, make_agent, settings):
    """A small brand, as the console tests make it: levels, agents in a team, the owner."""
    settings.WEISHANG_API_RATES = {"caller": "100000/m", "login": "100000/m", "public": "100000/m"}
    roles_sync()
    owner = get_user_model().objects.create_user(
        username="owner", password="staff-pass-123", is_staff=True, is_superuser=False
    )
    owner.groups.add(Group.objects.get(name=role_group_name("owner")))
    upline = make_agent("city", real_name="王芳")
    agent = make_agent("vip", real_name="王静", referrer=upline)
    return {"owner": owner, "agent": agent, "upline": upline}


def client_as(role: str, world) -> tuple[Client, dict]:
    client = Client(raise_request_exception=False)
    headers: dict[str, str] = {}
    if role == "agent":
        client.force_login(world["agent"].user)
        headers["Authorization"] = f"Bearer {token_create(user=world['agent'].user, device='walk')[1]}"
    elif role == "owner":
        client.force_login(world["owner"])
        headers["X-Api-Key"] = api_key_create(name="walk", scopes=list(SCOPES))[1]
    return client, headers


def test_the_walk_covers_every_part_of_the_project(db):
    routes = [route for route, _converters in url_patterns()]
    for prefix in (
        "/console/channel/agent/",
        "/console/ledger/withdrawal/",
        "/m/team/",
        "/s/",
        "/join/",
        "/api/v1/",
        "/pay/notify/",
    ):
        assert any(route.startswith(prefix) for route in routes), prefix
    assert "/m/team/<id:agent_id>/" in routes


def test_the_walk_covers_every_api_path_of_the_openapi(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    routes = {re.sub(r"<(?:[^>:]+:)?([^>]+)>", r"{\1}", route) for route, _c in url_patterns()}
    missing = [path for path in schema["paths"] if path not in routes and "/api/v1" + path not in routes]
    assert missing == []


@pytest.mark.parametrize("role", ["anonymous", "agent", "owner"])
def test_no_url_answers_5xx_to_hostile_ids_and_stray_parameters(world, role):
    client, headers = client_as(role, world)
    failures = []
    for url, params in requests_for(url_patterns()):
        response = client.get(url, params, headers=headers)
        if response.status_code >= 500:
            failures.append(f"{response.status_code} GET {url} {params}")
    assert failures == [], "\n".join(failures)


# --- the two 500s the issue names, as a user meets them -----------------------------------------


def test_a_team_page_past_the_integer_range_is_not_found(client, world):
    client.force_login(world["agent"].user)
    for agent_id in ("9223372036854775808", "99999999999999999999", "9223372036854775807"):
        assert client.get(f"/m/team/{agent_id}/").status_code == 404
    assert client.get(f"/m/team/{world['agent'].pk}/").status_code == 200


def test_an_export_link_with_unknown_parameters_goes_back_to_the_list_with_a_message(client, world):
    client.force_login(world["owner"])
    response = client.get("/console/channel/agent/export/?format=xlsx", follow=True)
    assert response.redirect_chain == [("/console/channel/agent/", 302)]
    assert "导出链接" in response.content.decode()
    # The list's own filters still reach the export form.
    assert client.get("/console/channel/agent/export/?q=王").status_code == 200


def test_a_history_page_of_no_object_is_not_found(client, world):
    client.force_login(world["owner"])
    for object_id in ("abc", "-1", "9223372036854775808"):
        assert client.get(f"/console/channel/level/{object_id}/history/").status_code == 404
