"""The permission matrix (M13): every subject — anonymous, each staff role, agent A (whose objects
the URLs name), agent B (a stranger to A), a brand key of each scope — against every console page,
phone or public page and API route, each answer held to the one table in ``matrix.py``.

The targets are found (``discover.py``), not listed: a page or route that the table does not
classify fails here. Nobody is ever answered with a 5xx, and nothing of A's (A's phone, the numbers
of the orders A bought) is shown to B or to an anonymous visitor, whatever the status. One test per
subject and face, so that pytest-xdist spreads them; the demo brand is loaded once per module."""

from __future__ import annotations

import json
import os
import re

import pytest
from django.test import Client

from security import matrix
from security.discover import api_routes, console_targets, web_routes

LOGIN_PAGES = ("/m/login/", "/console/login/")
DUMP = os.environ.get("PERM_MATRIX_DUMP")  # a directory: write what each subject was answered (to draft the table)


def client_for(world, subject: str) -> Client:
    client = Client(raise_request_exception=False)
    user = world.users.get(subject)
    if user is not None:
        client.force_login(user)
    return client


def refused(response, *, console: bool = False) -> bool:
    """401, 403, 404, or a redirect to a login page; in the console also to its index ("no such
    object": one outside the user's list); on the phone pages also to the console (staff at /m/)."""
    if response.status_code in (401, 403, 404):
        return True
    if response.status_code == 302:
        location = response["Location"]
        if console:
            return location.startswith(LOGIN_PAGES) or location.rstrip("/") == "/console"
        return location.startswith((*LOGIN_PAGES, "/console/"))
    return False


def _placeholder(name: str) -> str:
    """``<converter:name>`` (a Django route) or ``{name}`` (an OpenAPI path)."""
    return r"<(?:[^>:]+:)?" + name + r">|\{" + name + r"\}"


def fill(route: str, params: list[str], ids: dict[str, str], world) -> str:
    for name in params:
        key = ids.get(name, name)
        if DUMP and key not in world.ids:
            route = re.sub(_placeholder(name), "0", route)
            continue
        assert key in world.ids, f"{route}: no id {key!r} for <{name}> in world.py"
        route = re.sub(_placeholder(name), str(world.ids[key]), route)
    return route


class Ledger:
    """What each target answered, against the table."""

    def __init__(self, world, subject: str, face: str):
        self.world, self.subject, self.face = world, subject, face
        self.unclassified: list[str] = []
        self.wrong: list[str] = []
        self.seen: dict[str, list] = {}
        self.shown_to_a: set[str] = set()

    def check(self, key, allowed, method, url, response, *, console=False, ok=(), refused_also=()):
        if response is not None:
            self.seen[key] = [method, url, response.status_code, response.get("Location", "")]
        if allowed is None:
            self.unclassified.append(key)
            return
        status = response.status_code
        body = response.content.decode(errors="replace") if not response.streaming else ""
        if status >= 500:
            self.wrong.append(f"{key}: {method} {url} answered {status}")
            return
        let_in = (not refused(response, console=console) or status in ok) and status not in refused_also
        expected = self.subject in allowed
        if let_in != expected:
            self.wrong.append(
                f"{key}: {method} {url} answered {status} {response.get('Location', '')}"
                f" — {'let in' if let_in else 'refused'}, the matrix says {'allowed' if expected else 'refused'}"
            )
        if self.subject == matrix.A:
            self.shown_to_a.update(secret for secret in self.world.secrets if secret in body)
        if self.subject in ("anonymous", matrix.B):
            leaked = [secret for secret in self.world.secrets if secret in body]
            if leaked:
                self.wrong.append(f"{key}: {method} {url} shows A's {leaked} to {self.subject}")

    def finish(self) -> None:
        if DUMP:
            os.makedirs(DUMP, exist_ok=True)
            with open(os.path.join(DUMP, f"{self.face}-{self.subject}.json"), "w") as out:
                json.dump(self.seen, out, ensure_ascii=False, indent=0)
        assert not self.unclassified, "add these to tests/security/matrix.py:\n" + "\n".join(self.unclassified)
        assert not self.wrong, f"{self.subject} on the {self.face}:\n" + "\n".join(self.wrong)
        if self.subject == matrix.A and self.face != "console":
            # The leak check looks for something real: A's own pages and routes do show it.
            assert self.shown_to_a, f"none of A's {self.world.secrets} on A's own {self.face}"


@pytest.mark.parametrize("subject", matrix.SUBJECTS)
def test_console(world, db, subject):
    client = client_for(world, subject)
    ledger = Ledger(world, subject, "console")
    for target in console_targets(world.console_objects, user=world.users["owner"]):
        _console, kind, name, *rest = target.key.split(" ")
        if kind == "site":
            allowed = matrix.CONSOLE_SITE.get(name)
            ok: tuple = ()
        elif kind == "app":
            allowed = matrix.CONSOLE_APPS.get(name)
            ok = ()
        else:
            entry = matrix.CONSOLE.get(kind) or (matrix.Console() if DUMP else None)
            allowed = entry.rule(kind, name) if entry else None
            ok = entry.ok.get(name, ()) if entry else ()
        ledger.check(target.key, allowed, "GET", target.url, client.get(target.url), console=True, ok=ok)
    ledger.finish()


@pytest.mark.parametrize("subject", matrix.SUBJECTS)
def test_web(world, db, subject):
    """Pages with a GET first, then the actions (POSTs, which may delete what a page shows), then
    the ones that sign the session out."""
    client = client_for(world, subject)
    ledger = Ledger(world, subject, "web")
    requests = []
    for key, route, params in web_routes():
        entry = matrix.WEB.get(key)
        if entry is None:
            ledger.check(key, None, "GET", route, None)
            continue
        requests.append((entry.last, entry.method != "GET", key, entry, fill(route, params, entry.ids, world)))
    for _last, _post, key, entry, url in sorted(requests, key=lambda r: (r[0], r[1])):
        response = client.get(url) if entry.method == "GET" else client.post(url, {})
        ledger.check(key, entry.allowed, entry.method, url, response)
    ledger.finish()


@pytest.mark.parametrize("subject", matrix.SUBJECTS + matrix.KEYS)
def test_api(world, db, subject):
    client = client_for(world, subject) if subject not in world.tokens else Client(raise_request_exception=False)
    headers = {}
    if subject in world.tokens:
        headers["Authorization"] = f"Bearer {world.tokens[subject]}"
    if subject in world.keys:
        headers["X-Api-Key"] = world.keys[subject]
    ledger = Ledger(world, subject, "api")
    calls = []
    for key, method, path, params in api_routes(Client()):
        entry = matrix.API.get(key)
        if entry is None:
            ledger.check(key, None, method, path, None)
            continue
        calls.append((entry.last, method != "GET", key, method, fill(path, params, entry.ids, world), entry))
    for _last, _write, *call in sorted(calls, key=lambda c: (c[0], c[1])):  # reads, writes, then sign-outs
        _api_call(client, headers, ledger, *call)
    ledger.finish()


def _api_call(client, headers, ledger, key, method, url, entry) -> None:
    if method == "GET":
        response = client.get(url, headers=headers)
    else:
        body = json.dumps(entry.body if entry.body is not None else {})
        response = client.generic(method, url, body, content_type="application/json", headers=headers)
    refused_also = (415, 422) if entry.input_first and ledger.subject not in entry.allowed else ()
    ledger.check(key, entry.allowed, method, url, response, refused_also=refused_also)


def test_the_table_names_only_what_there_is(world, db):
    """An entry whose page or route is gone (renamed, removed) is an error too: the table stays
    the list of what there is."""
    found = {target.key for target in console_targets(world.console_objects, user=world.users["owner"])}
    models = {key.split(" ")[1] for key in found if key.split(" ")[1] not in ("site", "app")}
    assert set(matrix.CONSOLE) - models == set()
    for label, entry in matrix.CONSOLE.items():
        pages = {key.split(" ")[2] for key in found if key.split(" ")[1] == label}
        assert set(entry.views) - pages == set(), label
        assert set(entry.ok) - pages == set(), label
    assert set(matrix.CONSOLE_SITE) - {key.split(" ")[2] for key in found if " site " in key} == set()
    assert set(matrix.CONSOLE_APPS) - {key.split(" ")[2] for key in found if " app " in key} == set()
    assert set(matrix.WEB) - {key for key, _route, _params in web_routes()} == set()
    assert set(matrix.API) - {key for key, *_rest in api_routes(Client())} == set()
    # Every subject the rules name is a subject of the matrix.
    named = set().union(*(e.allowed for e in [*matrix.WEB.values(), *matrix.API.values()]))
    assert named <= matrix.EVERYONE
