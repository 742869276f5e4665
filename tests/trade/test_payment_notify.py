"""The provider notify endpoint: a verified notice pays its order once, however often it comes."""

from __future__ import annotations

import pytest

from weishang.core.models import OutboxEvent
from weishang.trade import services
from weishang.trade.models import OrderStatus, Payment
from weishang.trade.providers.fake import FakeProvider


@pytest.fixture
def awaiting_order(make_agent, db):
    from decimal import Decimal

    from weishang.catalog.models import SKU, Product

    product = Product.objects.create(name="精华")
    SKU.objects.create(product=product, code="S1", name="精华 30ml", retail_price=Decimal("298"))
    top = make_agent("partner")
    buyer = make_agent("city", referrer=top)
    order = services.order_submit(buyer=buyer, lines=[("S1", 5)], by=buyer.user)
    return services.order_approve(order=order, by=top.user)


def post(client, body, headers):
    return client.generic(
        "POST",
        "/pay/notify/fake/",
        body,
        content_type="application/json",
        headers={k: v for k, v in headers.items() if k != "Content-Type"},
    )


def test_a_replayed_notice_pays_once(client, awaiting_order):
    order = awaiting_order
    body, headers = FakeProvider.notification(
        out_trade_no=order.number, amount_fen=int(order.total * 100), transaction_id="T-1"
    )
    responses = [post(client, body, headers) for _ in range(3)]
    assert [r.status_code for r in responses] == [200, 200, 200]
    assert all(r.json()["code"] == "SUCCESS" for r in responses)
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID
    assert Payment.objects.filter(order=order).count() == 1
    assert OutboxEvent.objects.filter(topic="order.paid", key=order.number).count() == 1


def test_a_wrong_amount_is_refused_and_changes_nothing(client, awaiting_order, caplog):
    order = awaiting_order
    body, headers = FakeProvider.notification(out_trade_no=order.number, amount_fen=1, transaction_id="T-2")
    response = post(client, body, headers)
    assert response.status_code == 400 and response.json()["code"] == "FAIL"
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert not Payment.objects.exists()
    assert "not credited" in caplog.text


def test_a_forged_notice_is_rejected(client, awaiting_order):
    order = awaiting_order
    body, headers = FakeProvider.notification(out_trade_no=order.number, amount_fen=int(order.total * 100))
    response = post(client, body.replace(b'"SUCCESS"', b'"SUCCESS" '), headers)
    assert response.status_code == 401
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT


def test_unknown_provider_is_404(client, db):
    assert client.post("/pay/notify/nosuch/", b"{}", content_type="application/json").status_code == 404


# --- the currency of a signed notice (M7, item 8a) ------------------------------------------


def _wechat_testkit():
    """The notify builders of tests/test_wechatpay.py (WeChat Pay's own format, signed and encrypted)."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location(
        "wechatpay_testkit", Path(__file__).resolve().parents[1] / "test_wechatpay.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _nothing_credited(order) -> None:
    order.refresh_from_db()
    assert order.status == OrderStatus.AWAITING_PAYMENT
    assert not Payment.objects.exists()
    assert not OutboxEvent.objects.filter(topic="order.paid").exists()


@pytest.mark.parametrize("currency", ["USD", "HKD", "JPY", "cny ", ""])
def test_a_signed_notice_in_a_foreign_currency_credits_nothing(client, awaiting_order, caplog, currency):
    order = awaiting_order
    body, headers = FakeProvider.notification(
        out_trade_no=order.number, amount_fen=int(order.total * 100), transaction_id="T-FX", currency=currency
    )
    response = post(client, body, headers)
    if currency.strip().upper() == "CNY" or currency == "":  # no currency said: the provider's default, CNY
        assert response.status_code == 200
        return
    assert response.status_code == 400 and response.json() == {"code": "FAIL", "message": "currency_mismatch"}
    _nothing_credited(order)
    assert "currency" in caplog.text


def test_the_brands_currency_is_the_one_accepted(client, awaiting_order):
    from weishang.core.models import Brand

    Brand.objects.get_or_create(name="测试品牌")
    Brand.objects.update(currency="HKD")
    order = awaiting_order
    body, headers = FakeProvider.notification(
        out_trade_no=order.number, amount_fen=int(order.total * 100), transaction_id="T-CNY", currency="CNY"
    )
    assert post(client, body, headers).status_code == 400
    _nothing_credited(order)
    body, headers = FakeProvider.notification(
        out_trade_no=order.number, amount_fen=int(order.total * 100), transaction_id="T-HKD", currency="HKD"
    )
    assert post(client, body, headers).status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID


def test_a_wechat_pay_notice_in_a_foreign_currency_credits_nothing(client, awaiting_order, settings):
    kit = _wechat_testkit()
    merchant, platform, apiv3 = kit._rsa_key(), kit._rsa_key(), "0123456789abcdef0123456789abcdef"
    settings.WEISHANG_PAYMENT_PROVIDERS = {
        "wechatpay": {
            "CLASS": "weishang.trade.providers.wechatpay.WeChatPayProvider",
            "OPTIONS": {
                "mchid": kit.MCHID,
                "appid": kit.APPID,
                "private_key_pem": kit.private_pem(merchant),
                "cert_serial_no": kit.MERCHANT_SERIAL,
                "apiv3_key": apiv3,
                "notify_url": kit.NOTIFY_URL,
                "platform_public_key_pem": kit.public_pem(platform),
                "platform_public_key_id": kit.PUBLIC_KEY_ID,
            },
        }
    }
    order = awaiting_order
    fen = int(order.total * 100)

    def send(currency: str, txn: str):
        resource = kit.transaction(
            out_trade_no=order.number,
            transaction_id=txn,
            amount={"total": fen, "payer_total": fen, "currency": currency, "payer_currency": currency},
        )
        body, headers = kit.notify(resource, platform_key=platform, apiv3_key=apiv3)
        return client.generic("POST", "/pay/notify/wechatpay/", body, content_type="application/json", headers=headers)

    refused = send("USD", "4200000001202612040000000001")
    assert refused.status_code == 400 and refused.json()["message"] == "currency_mismatch"
    _nothing_credited(order)
    accepted = send("CNY", "4200000001202612040000000002")
    assert accepted.status_code == 200
    order.refresh_from_db()
    assert order.status == OrderStatus.PAID and Payment.objects.get().provider_txn_id.endswith("0002")
