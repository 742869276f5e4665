"""The three relations of an agent (supplier, referrer, introducer), the "supplier is of a higher
level" rule, supplier resolution, level and status changes, and the relationship log (代理轨迹)."""

from __future__ import annotations

import itertools

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import translation

from weishang.channel import selectors, services, tree
from weishang.channel.models import Agent, AgentStatus, AgentTrail, TrailKind
from weishang.channel.tree import Relation
from weishang.core.errors import BusinessError, Conflict

_phones = itertools.count(1)


def phone() -> str:
    return f"137{next(_phones):08d}"


@pytest.fixture
def agent(levels):
    """agent("city", referrer=a, supplier=b, name="C"): an active agent made by agent_create."""

    def make(level: str = "vip", *, referrer=None, supplier="auto", name: str | None = None, **kw) -> Agent:
        return services.agent_create(
            phone=phone(),
            real_name=name or f"代理{next(_phones)}",
            level=levels[level],
            referrer=referrer,
            supplier=supplier,
            entry_paid=kw.pop("entry_paid", True),
            **kw,
        )

    return make


@pytest.fixture
def staff(db):
    return get_user_model().objects.create_user(username="ops", password=None, is_staff=True)


def brand_text(message: str, **params: object) -> str:
    """What the system writes into the log: the brand's language, whoever caused the change."""
    with translation.override(settings.LANGUAGE_CODE):
        return translation.gettext(message) % {k: str(v) for k, v in params.items()}


def level_auto_reason(old: str, new: str, levels) -> str:
    return brand_text("automatic: level changed from %(old)s to %(new)s", old=levels[old].name, new=levels[new].name)


def reload(a: Agent) -> Agent:
    return Agent.objects.select_related("level", "supplier", "referrer", "introducer").get(pk=a.pk)


def snapshot() -> tuple:
    return (
        sorted(
            Agent.objects.values_list(
                "pk", "supplier_id", "referrer_id", "introducer_id", "level_id", "status", "entry_due"
            )
        ),
        sorted(tree.Relation.SUPPLIER.link_model.objects.values_list("ancestor_id", "descendant_id", "depth")),
        sorted(tree.Relation.REFERRER.link_model.objects.values_list("ancestor_id", "descendant_id", "depth")),
        sorted(AgentTrail.objects.values_list("pk", flat=True)),
        get_user_model().objects.count(),
    )


def trail(a: Agent, *kinds: str) -> list[AgentTrail]:
    """The agent's trail rows of the given kinds, oldest first."""
    qs = AgentTrail.objects.filter(agent=a).order_by("pk")
    if kinds:
        qs = qs.filter(kind__in=kinds)
    return list(qs)


def supply_chain(a: Agent) -> list[int]:
    return [x.pk for x in selectors.chain_above(agent=a, relation=Relation.SUPPLIER)]


def assert_trees_clean() -> None:
    assert tree.verify(Relation.SUPPLIER) == []
    assert tree.verify(Relation.REFERRER) == []


def assert_supplier_rule_holds() -> None:
    """Every agent's supplier is an active agent of a higher level (or the company)."""
    for a in Agent.objects.select_related("level", "supplier__level").exclude(supplier=None):
        assert a.supplier.level.is_higher_than(a.level), a
        assert a.supplier.status == AgentStatus.ACTIVE, a


# --- the supplier is of a higher level --------------------------------------------------------


@pytest.fixture
def net(agent):
    """Supply chain Z 联创 → G 总代 → P 省代 → C 市代 → V 特约 (each referred by the one above),
    plus P2 省代 (under G) and a free-standing C2 市代."""
    z = agent("partner", name="Z")
    g = agent("general", referrer=z, name="G")
    p = agent("province", referrer=g, name="P")
    c = agent("city", referrer=p, name="C")
    v = agent("vip", referrer=c, name="V")
    p2 = agent("province", referrer=g, name="P2")
    c2 = agent("city", name="C2")
    return {"Z": z, "G": g, "P": p, "C": c, "V": v, "P2": p2, "C2": c2}


def test_the_fixture_supply_chain(net):
    n = net
    assert supply_chain(n["V"]) == [n["C"].pk, n["P"].pk, n["G"].pk, n["Z"].pk]
    assert reload(n["P2"]).supplier == n["G"]
    assert reload(n["C2"]).supplier is None
    assert_supplier_rule_holds()


@pytest.mark.parametrize(
    ("who", "new_supplier"), [("P", "P2"), ("P", "C2"), ("C2", "C"), ("C2", "V"), ("P2", "P"), ("G", "V")]
)
def test_a_supplier_of_the_same_or_a_lower_level_is_refused(net, who, new_supplier):
    n = net
    before = snapshot()
    with translation.override("en"), pytest.raises(BusinessError) as exc:
        services.agent_move(agent=n[who], relation=Relation.SUPPLIER, new_parent=n[new_supplier])
    assert exc.value.field == "supplier"
    message = str(exc.value.message)
    if who == "G" and new_supplier == "V":
        # V is in G's own supply team: refused as a cycle first.
        assert exc.value.code == "cycle"
    else:
        assert "must be of a higher level" in message
        assert n[new_supplier].real_name in message
        assert n[who].level.name in message and n[new_supplier].level.name in message
    assert snapshot() == before


def test_a_higher_supplier_or_the_company_is_accepted(net, staff):
    n = net
    services.agent_move(agent=n["C2"], relation=Relation.SUPPLIER, new_parent=n["P2"], by=staff, reason="r")
    assert reload(n["C2"]).supplier == n["P2"]
    assert supply_chain(n["C2"]) == [n["P2"].pk, n["G"].pk, n["Z"].pk]
    services.agent_move(agent=n["C"], relation=Relation.SUPPLIER, new_parent=None, by=staff)
    assert reload(n["C"]).supplier is None
    assert supply_chain(n["V"]) == [n["C"].pk]  # V came along
    # The company supplies anyone, even the top level.
    services.agent_move(agent=n["G"], relation=Relation.SUPPLIER, new_parent=None)
    assert reload(n["G"]).supplier is None
    assert_supplier_rule_holds()
    assert_trees_clean()


def test_an_inactive_supplier_is_refused(net, agent):
    n = net
    services.agent_change_status(agent=n["P2"], action="suspend")
    applicant = agent("general", name="Appl", entry_paid=False, supplier=None)
    assert applicant.status == AgentStatus.APPLICANT
    for inactive in (n["P2"], applicant):
        before = snapshot()
        with pytest.raises(BusinessError) as exc:
            services.agent_move(agent=n["C2"], relation=Relation.SUPPLIER, new_parent=inactive)
        assert exc.value.field == "supplier"
        assert snapshot() == before


def test_agent_create_refuses_a_supplier_that_is_not_higher(net, levels):
    n = net
    before = snapshot()
    for sup in ("C", "V"):
        with pytest.raises(BusinessError) as exc:
            services.agent_create(
                phone=phone(), real_name="new", level=levels["city"], referrer=n["V"], supplier=n[sup], entry_paid=True
            )
        assert exc.value.field == "supplier"
    assert snapshot() == before  # no agent, no user, no link, no trail


# --- supplier resolution ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("referrer", "level", "expected"),
    [
        (None, "vip", None),  # brand's own link: the company
        ("C", "vip", "C"),  # the referrer is higher: the referrer supplies
        ("C", "city", "P"),  # same level: the referrer's supplier
        ("V", "city", "P"),  # lower: climb V → C (same) → P
        ("V", "province", "G"),
        ("V", "general", "Z"),
        ("V", "partner", None),  # nobody above is higher: the company
        ("C2", "vip", "C2"),
        ("C2", "city", None),  # C2 is supplied by the company
        ("Z", "partner", None),
    ],
)
def test_resolve_supplier(net, levels, referrer, level, expected):
    n = net
    got = selectors.resolve_supplier(referrer=n[referrer] if referrer else None, level=levels[level])
    assert got == (n[expected] if expected else None)


def test_resolution_walks_the_supply_chain_not_the_referrer_chain(net, agent, levels):
    n = net
    # W 特约 was recruited by Z (联创) but is supplied by C2 (市代) — Z is not in W's supply chain.
    w = agent("vip", referrer=n["Z"], supplier=n["C2"], name="W")
    assert selectors.resolve_supplier(referrer=w, level=levels["city"]) is None
    assert selectors.resolve_supplier(referrer=w, level=levels["vip"]) == n["C2"]
    newcomer = agent("city", referrer=w, name="new")
    assert reload(newcomer).supplier is None
    assert reload(newcomer).referrer == w


def test_resolution_skips_agents_who_do_not_supply(net, levels, agent):
    n = net
    services.agent_change_status(agent=n["P"], action="suspend")
    # C moved to G when P was suspended; a new 市代 under V is supplied by G, not by P.
    assert selectors.resolve_supplier(referrer=n["V"], level=levels["city"]) == n["G"]
    services.agent_change_status(agent=n["C"], action="exit")
    # V moved to G as well; a new 特约 under V (V is 特约) is supplied by G.
    assert reload(n["V"]).supplier == n["G"]
    assert selectors.resolve_supplier(referrer=n["V"], level=levels["vip"]) == n["G"]
    # The referrer themself does not supply if they are not active.
    assert selectors.resolve_supplier(referrer=reload(n["C"]), level=levels["vip"]) == n["G"]
    applicant = agent("province", referrer=n["G"], name="Appl", entry_paid=False)
    assert applicant.status == AgentStatus.APPLICANT
    assert selectors.resolve_supplier(referrer=applicant, level=levels["vip"]) == n["G"]
    new = agent("vip", referrer=n["V"], name="new")
    assert reload(new).supplier == n["G"]
    assert_supplier_rule_holds()


# --- the trees are independent ---------------------------------------------------------------


def test_a_referrer_move_leaves_the_supplier_tree_alone(net):
    n = net
    supplier_keys = dict(Agent.objects.values_list("pk", "supplier_id"))
    supplier_links = snapshot()[1]
    services.agent_move(agent=n["C"], relation=Relation.REFERRER, new_parent=n["C2"])
    assert reload(n["C"]).referrer == n["C2"]
    assert reload(n["C"]).supplier == n["P"]
    assert dict(Agent.objects.values_list("pk", "supplier_id")) == supplier_keys
    assert snapshot()[1] == supplier_links
    assert selectors.team_size(agent=n["C2"], relation=Relation.REFERRER) == 3
    assert selectors.team_size(agent=n["C2"], relation=Relation.SUPPLIER) == 1
    assert not trail(n["C"], TrailKind.SUPPLIER)
    assert_trees_clean()


def test_a_supplier_move_leaves_the_referrer_tree_alone(net):
    n = net
    referrer_keys = dict(Agent.objects.values_list("pk", "referrer_id"))
    referrer_links = snapshot()[2]
    services.agent_move(agent=n["C"], relation=Relation.SUPPLIER, new_parent=n["P2"])
    assert reload(n["C"]).supplier == n["P2"]
    assert reload(n["C"]).referrer == n["P"]
    assert dict(Agent.objects.values_list("pk", "referrer_id")) == referrer_keys
    assert snapshot()[2] == referrer_links
    assert selectors.team_size(agent=n["P"], relation=Relation.REFERRER) == 3
    assert selectors.team_size(agent=n["P"], relation=Relation.SUPPLIER) == 1
    assert not trail(n["C"], TrailKind.REFERRER)
    assert_trees_clean()


# --- the introducer --------------------------------------------------------------------------


def test_the_introducer_is_optional_and_recorded(net, agent, staff):
    n = net
    plain = agent("vip", referrer=n["C"], name="plain")
    assert reload(plain).introducer is None
    introduced = agent("vip", referrer=n["C"], introducer=n["P2"], name="intro")
    assert reload(introduced).introducer == n["P2"]
    # The introducer plays no part in either tree.
    assert selectors.team_size(agent=n["P2"], relation=Relation.REFERRER) == 1
    assert selectors.team_size(agent=n["P2"], relation=Relation.SUPPLIER) == 1

    services.agent_set_introducer(agent=plain, introducer=n["G"], by=staff, reason="told us")
    assert reload(plain).introducer == n["G"]
    (row,) = trail(plain, TrailKind.INTRODUCER)
    assert (row.old_ref, row.new_ref, row.old_value, row.new_value) == (None, n["G"].pk, "", str(n["G"]))
    assert (row.changed_by, row.reason) == (staff, "told us")

    services.agent_set_introducer(agent=plain, introducer=n["G"])  # same: nothing happens
    assert len(trail(plain, TrailKind.INTRODUCER)) == 1
    services.agent_set_introducer(agent=plain, introducer=None, by=staff)
    assert reload(plain).introducer is None
    rows = trail(plain, TrailKind.INTRODUCER)
    assert len(rows) == 2 and (rows[1].old_ref, rows[1].new_ref) == (n["G"].pk, None)


def test_an_agent_cannot_introduce_themself(net):
    n = net
    services.agent_set_introducer(agent=n["V"], introducer=n["P2"])
    before = snapshot()
    with pytest.raises(BusinessError) as exc:
        services.agent_set_introducer(agent=n["V"], introducer=n["V"])
    assert exc.value.field == "introducer"
    assert snapshot() == before
    assert reload(n["V"]).introducer == n["P2"]


# --- level changes ---------------------------------------------------------------------------


def test_upgrading_to_the_suppliers_level_rehomes_the_supplier(net, levels, staff):
    n = net
    referrer_links = snapshot()[2]
    with translation.override("en"):
        services.agent_change_level(agent=n["C"], level=levels["province"], by=staff, reason="sales target met")
    c = reload(n["C"])
    assert c.level == levels["province"]
    assert c.supplier == n["G"]  # P is 省代 too now; the nearest higher upline is G
    assert supply_chain(n["V"]) == [n["C"].pk, n["G"].pk, n["Z"].pk]  # V stays with C
    assert selectors.team_size(agent=n["P"], relation=Relation.SUPPLIER) == 1
    level_row, supplier_row = trail(c, TrailKind.LEVEL, TrailKind.SUPPLIER)
    assert (level_row.kind, level_row.old_ref, level_row.new_ref) == (
        TrailKind.LEVEL,
        levels["city"].pk,
        levels["province"].pk,
    )
    assert level_row.reason == "sales target met" and level_row.changed_by == staff
    assert (supplier_row.kind, supplier_row.old_ref, supplier_row.new_ref) == (TrailKind.SUPPLIER, n["P"].pk, n["G"].pk)
    # Written in the brand's language although the staff member used English.
    assert supplier_row.reason == level_auto_reason("city", "province", levels)
    assert supplier_row.changed_by == staff
    assert snapshot()[2] == referrer_links  # who recruited whom does not change
    assert_supplier_rule_holds()
    assert_trees_clean()


def test_upgrading_above_every_upline_goes_to_the_company(net, levels):
    n = net
    services.agent_change_level(agent=n["P"], level=levels["partner"])
    assert reload(n["P"]).supplier is None
    assert supply_chain(n["V"]) == [n["C"].pk, n["P"].pk]
    assert [r.new_ref for r in trail(n["P"], TrailKind.SUPPLIER)] == [None]
    assert_supplier_rule_holds()
    assert_trees_clean()


def test_upgrading_past_several_uplines_and_a_demotion_that_keeps_the_supplier(net, levels):
    n = net
    services.agent_change_level(agent=n["V"], level=levels["province"])
    # V 特约 → 省代: C (市代) and P (省代) are no longer higher, G is.
    assert reload(n["V"]).supplier == n["G"]
    services.agent_change_level(agent=n["C2"], level=levels["province"])
    assert reload(n["C2"]).supplier is None
    before = len(trail(n["P2"]))
    services.agent_change_level(agent=n["P2"], level=levels["city"])  # demotion, G still higher
    assert reload(n["P2"]).supplier == n["G"]
    assert [r.kind for r in trail(n["P2"])[before:]] == [TrailKind.LEVEL]
    assert_supplier_rule_holds()


def test_the_same_level_changes_nothing(net, levels):
    n = net
    before = snapshot()
    services.agent_change_level(agent=n["C"], level=levels["city"])
    assert snapshot() == before


def test_demotion_rehomes_the_supplied_agents_that_are_no_longer_lower(net, agent, levels, staff):
    n = net
    # G 总代 supplies P 省代, P2 省代, and now also a 市代 and a 特约 directly.
    c3 = agent("city", referrer=n["G"], name="C3")
    v3 = agent("vip", referrer=n["G"], name="V3")
    assert reload(c3).supplier == n["G"] and reload(v3).supplier == n["G"]
    with translation.override("en"):
        services.agent_change_level(agent=n["G"], level=levels["city"], by=staff, reason="missed target")
    # 省代 and 市代 are not lower than a 市代: they go to G's supplier Z; the 特约 stays.
    for who in (n["P"], n["P2"], c3):
        assert reload(who).supplier == n["Z"], who
        (row,) = trail(who, TrailKind.SUPPLIER)
        assert (row.old_ref, row.new_ref) == (n["G"].pk, n["Z"].pk)
        assert row.reason == level_auto_reason("general", "city", levels) and row.changed_by == staff
    assert reload(v3).supplier == n["G"]
    assert not trail(v3, TrailKind.SUPPLIER)
    # P's own supply team came along.
    assert supply_chain(n["V"]) == [n["C"].pk, n["P"].pk, n["Z"].pk]
    assert selectors.team_size(agent=n["G"], relation=Relation.SUPPLIER) == 2
    # The referrer tree keeps its shape: P, P2, C3, V3 are still G's referrals.
    assert selectors.team_size(agent=n["G"], relation=Relation.REFERRER) == 7
    assert_supplier_rule_holds()
    assert_trees_clean()


def test_demotion_without_a_supplier_hands_the_agents_to_the_company(net, levels):
    n = net
    services.agent_change_level(agent=n["Z"], level=levels["vip"])
    assert reload(n["G"]).supplier is None
    assert selectors.team_size(agent=n["Z"], relation=Relation.SUPPLIER) == 1
    assert_supplier_rule_holds()
    assert_trees_clean()


# --- status changes --------------------------------------------------------------------------


@pytest.mark.parametrize("action", ["suspend", "exit"])
def test_a_suspended_or_exited_supplier_hands_over_their_agents(net, agent, staff, action):
    n = net
    v2 = agent("vip", referrer=n["P"], name="V2")  # P supplies C and V2 directly
    assert reload(v2).supplier == n["P"]
    referrer_links = snapshot()[2]
    with translation.override("en"):
        services.agent_change_status(agent=n["P"], action=action, by=staff, reason="policy")
    p = reload(n["P"])
    assert p.status == (AgentStatus.SUSPENDED if action == "suspend" else AgentStatus.EXITED)
    assert reload(n["C"]).supplier == n["G"]
    assert reload(v2).supplier == n["G"]
    assert supply_chain(n["V"]) == [n["C"].pk, n["G"].pk, n["Z"].pk]
    assert selectors.team_size(agent=n["P"], relation=Relation.SUPPLIER) == 1
    (status_row,) = trail(p, TrailKind.STATUS)
    assert status_row.reason == "policy" and status_row.changed_by == staff
    assert (status_row.old_value, status_row.new_value) == (AgentStatus.ACTIVE, p.status)
    for who in (n["C"], v2):
        (row,) = trail(who, TrailKind.SUPPLIER)
        assert (row.old_ref, row.new_ref) == (n["P"].pk, n["G"].pk)
        assert row.reason == brand_text(
            "automatic: supplier %(name)s is %(status)s", name="P", status=AgentStatus(p.status).label
        )
    assert snapshot()[2] == referrer_links  # P keeps their referrer team
    assert selectors.team_size(agent=n["P"], relation=Relation.REFERRER) == 4
    assert_supplier_rule_holds()
    assert_trees_clean()


def test_reinstating_moves_nobody_back(net):
    n = net
    services.agent_change_status(agent=n["G"], action="suspend")
    assert reload(n["P"]).supplier == n["Z"] and reload(n["P2"]).supplier == n["Z"]
    services.agent_change_status(agent=n["G"], action="reinstate")
    assert reload(n["G"]).status == AgentStatus.ACTIVE
    assert reload(n["P"]).supplier == n["Z"]  # nobody moves back by themselves
    assert selectors.team_size(agent=n["G"], relation=Relation.SUPPLIER) == 1
    # … but G can supply again.
    services.agent_move(agent=n["P"], relation=Relation.SUPPLIER, new_parent=n["G"])
    assert supply_chain(n["V"]) == [n["C"].pk, n["P"].pk, n["G"].pk, n["Z"].pk]
    assert_supplier_rule_holds()
    assert_trees_clean()


def test_an_exited_agent_cannot_take_anyone(net):
    n = net
    services.agent_change_status(agent=n["P2"], action="exit")
    for relation in Relation:
        before = snapshot()
        with pytest.raises(BusinessError):
            services.agent_move(agent=n["C2"], relation=relation, new_parent=n["P2"])
        assert snapshot() == before


@pytest.mark.parametrize(
    ("setup", "action"),
    [
        ([], "reinstate"),  # active → reinstate
        ([], "activate"),  # already active
        (["suspend"], "suspend"),
        (["suspend"], "activate"),
        (["exit"], "exit"),
        (["exit"], "reinstate"),
        (["exit"], "suspend"),
        (["exit"], "activate"),
    ],
)
def test_an_invalid_status_change_is_a_conflict_and_changes_nothing(net, setup, action):
    n = net
    for step in setup:
        services.agent_change_status(agent=n["P"], action=step)
    before = snapshot()
    with pytest.raises(Conflict) as exc:
        services.agent_change_status(agent=n["P"], action=action)
    assert exc.value.status == 409 and exc.value.field == "status"
    assert snapshot() == before


def test_an_unknown_status_change_is_refused(net):
    before = snapshot()
    with pytest.raises(BusinessError) as exc:
        services.agent_change_status(agent=net["P"], action="promote")
    assert not isinstance(exc.value, Conflict)
    assert snapshot() == before


def test_an_applicant_is_activated_and_their_entry_is_cleared(agent, levels):
    a = agent("city", entry_paid=False, supplier=None)
    assert (a.status, a.entry_due) == (AgentStatus.APPLICANT, levels["city"].entry_amount)
    services.agent_change_status(agent=a, action="activate")
    a = reload(a)
    assert (a.status, a.entry_due) == (AgentStatus.ACTIVE, 0)
    assert [r.kind for r in trail(a)] == [TrailKind.JOINED, TrailKind.STATUS]


# --- the relationship log --------------------------------------------------------------------


def test_every_change_is_in_the_trail(net, agent, levels, staff):
    """A day of changes; the log tells each one, in order, with who did it."""
    n = net
    x = agent("city", referrer=n["C2"], name="X")  # supplied by the company (C2 is a 市代 too)
    assert [(r.kind, r.new_ref) for r in trail(x)] == [(TrailKind.JOINED, levels["city"].pk)]
    start = AgentTrail.objects.order_by("-pk").values_list("pk", flat=True).first()

    services.agent_move(agent=x, relation=Relation.SUPPLIER, new_parent=n["P2"], by=staff)
    services.agent_move(agent=x, relation=Relation.REFERRER, new_parent=n["V"], by=staff)
    services.agent_set_introducer(agent=x, introducer=n["C"], by=staff)
    services.agent_change_level(agent=x, level=levels["province"], by=staff)  # P2 is 省代: → G
    services.agent_change_status(agent=x, action="suspend", by=staff)
    services.agent_change_status(agent=x, action="reinstate", by=staff)
    services.agent_change_level(agent=x, level=levels["province"], by=staff)  # no change, no row
    services.agent_move(agent=x, relation=Relation.REFERRER, new_parent=n["V"], by=staff)  # no change

    rows = list(AgentTrail.objects.filter(pk__gt=start).order_by("pk"))
    assert [(r.agent_id, r.kind, r.old_ref, r.new_ref) for r in rows] == [
        (x.pk, TrailKind.SUPPLIER, None, n["P2"].pk),
        (x.pk, TrailKind.REFERRER, n["C2"].pk, n["V"].pk),
        (x.pk, TrailKind.INTRODUCER, None, n["C"].pk),
        (x.pk, TrailKind.LEVEL, levels["city"].pk, levels["province"].pk),
        (x.pk, TrailKind.SUPPLIER, n["P2"].pk, n["G"].pk),
        (x.pk, TrailKind.STATUS, None, None),
        (x.pk, TrailKind.STATUS, None, None),
    ]
    assert all(r.changed_by == staff for r in rows)
    # Status rows read "active → suspended", then back.
    assert [(r.old_value, r.new_value) for r in rows[5:]] == [
        (AgentStatus.ACTIVE, AgentStatus.SUSPENDED),
        (AgentStatus.SUSPENDED, AgentStatus.ACTIVE),
    ]
    x = reload(x)
    assert (x.supplier, x.referrer, x.introducer, x.level, x.status) == (
        n["G"],
        n["V"],
        n["C"],
        levels["province"],
        AgentStatus.ACTIVE,
    )
    assert_trees_clean()


@pytest.mark.parametrize("how", ["explicit", "auto"])
def test_agent_create_checks_the_supplier_as_it_is_now(agent, levels, how):
    upline = agent("province", name="U")
    seen_by_caller = Agent.objects.select_related("level").get(pk=upline.pk)  # read by a request …
    services.agent_change_level(agent=upline, level=levels["vip"])  # … then demoted by another one
    supplier = seen_by_caller if how == "explicit" else "auto"
    try:
        new = services.agent_create(
            phone=phone(),
            real_name="N",
            level=levels["city"],
            referrer=seen_by_caller,
            supplier=supplier,
            entry_paid=True,
        )
    except BusinessError:
        return  # refusing the explicit, now-lower supplier is right too
    # A 市代 must not be supplied by a 特约.
    assert reload(new).supplier is None
    assert_supplier_rule_holds()
