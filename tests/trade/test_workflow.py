"""trade/workflow.py is the one statement of an order's life.

First, the statement holds together: each step makes a move the order allows from the statuses
it is offered in, every step has a form on each face that offers it, and the real workflow's
waits give the answers the pages gave before it (the rest of the suite walks them end to end).

Then the point of it: a test-only workflow adds a step ("withdraw the return", for the buyer and
for brand staff) and a wait ("returns to review", on the seller and the brand), and with nothing
else changed the step appears on the buyer's phone page and works from there, in the API's
``next_actions``, among the console's steps; the wait appears on the seller's home page, in the
console's queues and dashboard and in "waiting for the brand".
"""

from __future__ import annotations

import re
from dataclasses import replace
from decimal import Decimal
from io import BytesIO

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from PIL import Image

from weishang.api.services import token_create
from weishang.catalog.models import SKU, Product
from weishang.console import dashboard
from weishang.core.errors import Conflict, Forbidden
from weishang.core.models import Brand, SupplyMode
from weishang.trade import admin as trade_admin
from weishang.trade import selectors, services, workflow
from weishang.trade.models import Order, OrderKind, OrderStatus, OrderTransition
from weishang.trade.stock import Move, location_for_agent, location_singleton, stock_move
from weishang.trade.workflow import ORDER_WORKFLOW, Actor, Step, Wait, When
from weishang.web import trade_views

S = OrderStatus
PASSWORD = "pass-word-1"


# --- the real workflow holds together ---------------------------------------------------------


def test_every_step_makes_a_move_the_order_allows_from_where_it_is_offered():
    moves = {move.name: move for move in ORDER_WORKFLOW.moves}
    for step in ORDER_WORKFLOW.steps:
        if not step.move:
            continue  # a step that hands over to a service making several moves (reassign)
        move = moves[step.move]
        assert set(step.statuses) <= set(move.source), step.name


def test_names_are_unique_and_every_face_has_a_form_for_its_steps():
    installed = workflow.current()  # trade's own steps and those other apps installed (codes)
    names = [step.name for step in installed.steps]
    assert len(names) == len(set(names))
    assert len({w.name for w in installed.waits}) == len(installed.waits)
    for step in installed.console_steps():
        assert step.input in trade_admin.STEP_FORMS, step.name
    for actor in (Actor.BUYER, Actor.SELLER):
        for step in installed.steps_by(actor):
            if step.run is not None:
                assert step.input in trade_views.STEP_FORMS, step.name


def test_the_console_has_a_page_for_each_brand_step():
    assert set(trade_admin.OrderAdmin.steps) == {
        "approve",
        "reject",
        "fill",
        "company_fill",
        "reassign",
        "stuck_refund",
        "ship_pickup",
        "pickup_delivered",
        "delivered",
        "refund_approve",
        "refund_decline",
        # installed by the codes app: scanning security codes as goods go out
        "scan_codes",
        "scan_pickup_codes",
    }


def test_a_condition_reads_the_same_on_one_order_and_in_a_query(world):
    """Every wait's ``holds`` agrees with its ``q()`` on orders in every status the world has."""
    order = submitted(world)
    orders = [order]
    paid = submitted(world)
    services.order_approve(order=paid, by=world["city"].user)
    services.order_pay_from_wallet(order=paid, by=world["vip"].user)
    orders.append(paid)
    pickup = services.pickup_request(
        agent=world["city"],
        lines=[(world["sku"], 1)],
        by=world["city"].user,
        name="王芳",
        phone="13800000000",
        address="上海",
    )
    orders.append(pickup)
    for wait in ORDER_WORKFLOW.waits:
        in_query = set(Order.objects.filter(wait.q()).values_list("pk", flat=True))
        for one in orders:
            one = Order.objects.get(pk=one.pk)
            assert wait.holds(one) == (one.pk in in_query), (wait.name, one.status, one.kind)


# --- a world ------------------------------------------------------------------------------------


@pytest.fixture(autouse=True)
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def world(make_agent):
    """A cloud-stock brand, one SKU at ¥100, a 市代 with 50 units supplying a 特约 with ¥1,000 in
    their wallet."""
    Brand.objects.create(name="测试品牌", supply_mode=SupplyMode.CLOUD)
    product = Product.objects.create(name="焕颜精华")
    sku = SKU.objects.create(product=product, code="GLOW-30", name="焕颜精华 30ml", retail_price=Decimal("100"))
    city = make_agent("city", real_name="市代王芳")
    vip = make_agent("vip", referrer=city, real_name="特约李娜")
    stock_move(
        moves=[Move(location_singleton("supplier"), location_for_agent(city, "cloud"), sku, 50)], reason="receipt"
    )
    stock_move(moves=[Move(location_singleton("supplier"), location_for_agent(vip, "cloud"), sku, 5)], reason="receipt")
    buffer = BytesIO()
    Image.new("RGB", (12, 20), (7, 193, 96)).save(buffer, "PNG")
    topup = services.wallet_topup_submit(
        agent=vip,
        by=vip.user,
        amount=Decimal("1000"),
        screenshot=SimpleUploadedFile("t.png", buffer.getvalue(), content_type="image/png"),
    )
    from django.contrib.auth import get_user_model

    finance = get_user_model().objects.create_superuser(username="finance", password="finance-pass-1")
    services.payment_confirm(payment=topup, by=finance)
    return {"sku": sku, "city": city, "vip": vip, "finance": finance}


def submitted(world) -> Order:
    return services.order_submit(buyer=world["vip"], lines=[(world["sku"].code, 2)], by=world["vip"].user)


def return_asked(world) -> Order:
    """A 特约's order, paid, filled into cloud stock, and a return asked for."""
    order = submitted(world)
    services.order_approve(order=order, by=world["city"].user)
    services.order_pay_from_wallet(order=order, by=world["vip"].user)
    services.order_fill(order=order, by=world["city"].user)
    services.refund_request(order=order, by=world["vip"].user, note="不想要了")
    order.refresh_from_db()
    assert order.status == S.REFUND_REQUESTED
    return order


def login(agent) -> Client:
    client = Client()
    assert client.login(username=agent.phone, password=PASSWORD)
    return client


# --- a test-only workflow: one more step, one more wait -----------------------------------------

RETURN_ASKED = When((S.REFUND_REQUESTED,), not_kinds=(OrderKind.PICKUP,))

WITHDRAW = Step(
    "withdraw_return",
    by=(Actor.BUYER, Actor.BRAND),
    when=(RETURN_ASKED,),
    label="撤回退货申请",
    input="note",
    run=lambda o, u, d: services.order_step(order=o, step="withdraw_return", by=u, note=d["note"]),
    done=lambda o: f"订单 {o.number} 的退货申请已撤回。",
    move="decline_refund",
    perm="order_decide",
    icon="undo",
)
TO_REVIEW = Wait(
    "returns_to_review",
    (RETURN_ASKED,),
    on=(Actor.SELLER, Actor.BRAND),
    said=lambda o: "品牌复核退货。",
    to_seller="复核退货",
    todo="待复核的退货",
    queue="待复核的退货",
)
WITH_WITHDRAWAL = ORDER_WORKFLOW.extended(steps=[WITHDRAW], waits=[TO_REVIEW])


@pytest.fixture
def with_withdrawal():
    with workflow.using(WITH_WITHDRAWAL) as flow:
        yield flow


def test_without_the_added_step_no_surface_offers_it(world):
    order = return_asked(world)
    assert "withdraw_return" not in selectors.buyer_actions(Order.objects.get(pk=order.pk))
    assert 'data-step="withdraw_return"' not in login(world["vip"]).get(f"/m/orders/{order.number}/").content.decode()
    assert login(world["vip"]).post(f"/m/orders/{order.number}/withdraw-return/", {"note": ""}).status_code == 404


def test_an_added_step_appears_on_the_buyers_phone_page_and_works_from_there(world, with_withdrawal):
    order = return_asked(world)
    as_vip = login(world["vip"])
    page = as_vip.get(f"/m/orders/{order.number}/").content.decode()
    section = re.search(r'<section class="card" data-step="withdraw_return">(.*?)</section>', page, re.S)
    assert section is not None and "撤回退货申请" in section.group(1)
    assert f'action="/m/orders/{order.number}/withdraw-return/"' in section.group(1)

    # The seller may not take it (it is the buyer's and the brand's): their URL does not exist.
    assert login(world["city"]).post(f"/m/fill/{order.number}/withdraw-return/", {"note": ""}).status_code == 404

    response = as_vip.post(f"/m/orders/{order.number}/withdraw-return/", {"note": "又想要了"}, follow=True)
    assert response.status_code == 200
    assert f"订单 {order.number} 的退货申请已撤回。" in response.content.decode()
    order.refresh_from_db()
    assert order.status == S.COMPLETED
    last = OrderTransition.objects.filter(order=order).last()
    assert (last.from_status, last.to_status, last.by, last.note) == (
        S.REFUND_REQUESTED,
        S.COMPLETED,
        world["vip"].user,
        "又想要了",
    )
    # Taken, it is offered no more.
    assert 'data-step="withdraw_return"' not in as_vip.get(f"/m/orders/{order.number}/").content.decode()


def test_an_added_step_is_refused_to_others_and_out_of_its_status(world, with_withdrawal):
    order = return_asked(world)
    with pytest.raises(Forbidden):
        services.order_step(order=order, step="withdraw_return", by=world["city"].user)
    services.order_step(order=order, step="withdraw_return", by=world["vip"].user)
    with pytest.raises(Conflict):
        services.order_step(order=order, step="withdraw_return", by=world["vip"].user)


def test_an_added_step_is_in_the_apis_next_actions_and_taken_through_its_step_route(world, with_withdrawal):
    order = return_asked(world)
    _token, secret = token_create(user=world["vip"].user, device="测试手机")
    auth = {"Authorization": f"Bearer {secret}"}
    client = Client()
    answer = client.get(f"/api/v1/orders/{order.number}", headers=auth)
    assert answer.status_code == 200
    assert answer.json()["next_actions"] == ["withdraw_return"]

    # Not a step of the seller's, and not a step with a route of its own: 404, nothing changes.
    _t, city_secret = token_create(user=world["city"].user, device="测试手机")
    city = {"Authorization": f"Bearer {city_secret}"}
    refused = client.post(
        f"/api/v1/fills/{order.number}/steps/withdraw_return", "{}", content_type="application/json", headers=city
    )
    assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"
    for name in ("pay_transfer", "no_such_step"):
        response = client.post(
            f"/api/v1/orders/{order.number}/steps/{name}", "{}", content_type="application/json", headers=auth
        )
        assert response.status_code == 404, name
    order.refresh_from_db()
    assert order.status == S.REFUND_REQUESTED

    taken = client.post(
        f"/api/v1/orders/{order.number}/steps/withdraw_return",
        '{"note": "又想要了"}',
        content_type="application/json",
        headers=auth,
    )
    assert taken.status_code == 200
    assert (taken.json()["status"], taken.json()["next_actions"]) == ("completed", ["refund"])
    assert OrderTransition.objects.filter(order=order).last().note == "又想要了"


def test_an_added_step_for_the_brand_is_a_console_step(world, with_withdrawal):
    order = return_asked(world)
    steps = trade_admin.console_steps(with_withdrawal)
    assert "withdraw_return" in steps
    step = steps["withdraw_return"]
    assert step.label == "撤回退货申请" and step.url_path == "withdraw-return"
    assert step.form is trade_admin.STEP_FORMS["note"]
    admin_class = type("OrderAdminWithWithdrawal", (trade_admin.OrderAdmin,), {"steps": steps})
    model_admin = admin_class(Order, trade_admin.admin.site)
    assert model_admin.step_ready(order, step)
    assert hasattr(admin_class, "withdraw_return")  # the detail action kit.StepPages made for it
    # Brand staff take it through the same page code as every step.
    step.run(order, world["finance"], {"note": "客服代撤"})
    order.refresh_from_db()
    assert order.status == S.COMPLETED and not model_admin.step_ready(order, step)


def test_an_added_wait_is_on_the_sellers_home_page_and_in_the_consoles_queues(world, with_withdrawal):
    order = return_asked(world)
    lines = {text: count for _name, count, text in selectors.seller_todo(agent=world["city"])}
    assert lines["待复核的退货"] == 1
    home = login(world["city"]).get("/m/").content.decode()
    assert "待复核的退货" in home

    assert "returns_to_review" in selectors.order_queues()
    assert Order.objects.filter(selectors.order_queues()["returns_to_review"][1]).get() == order
    # An agent's return waits on the brand too now: "waiting for the brand" counts it.
    assert Order.objects.filter(selectors.brand_to_act()).filter(pk=order.pk).exists()
    brand, queues = dashboard.orders_waiting()
    assert brand.raw == 1
    assert {figure.label: figure.raw for figure in queues}["待复核的退货"] == 1
    # The seller's list says the first wait that speaks to the seller: the return to decide.
    assert selectors.seller_next_step(Order.objects.get(pk=order.pk)) == "处理退货"


def test_the_console_reads_who_acts_next_from_the_workflow(world, client, django_user_model):
    order = return_asked(world)
    staff = django_user_model.objects.create_user(username="ops", password="ops-pass-1", is_staff=True)
    staff.user_permissions.add(*Permission.objects.filter(codename="view_order"))
    client.force_login(staff)
    url = f"/console/trade/order/{order.pk}/change/"
    assert "由 市代王芳 同意或拒绝退货。" in client.get(url).content.decode()
    returns = next(wait for wait in ORDER_WORKFLOW.waits if wait.name == "returns")
    reworded = ORDER_WORKFLOW.extended(
        waits=[replace(returns, said=lambda o: f"{o.seller.real_name} 三日内处理退货。")]
    )
    with workflow.using(reworded):
        page = client.get(url).content.decode()
    assert "市代王芳 三日内处理退货。" in page and "由 市代王芳 同意或拒绝退货。" not in page
