"""Order and payment services: one transaction each; check, change, record who and when.

The life of a restock order (进货单), module by module:

1. ``orders.order_submit`` — the buyer's level price is snapshotted per line, purchase rules are
   enforced, the order is routed to its seller by the brand's supply route (``trade.supply``);
2. ``orders.order_approve`` / ``order_reject`` — by the seller (or brand staff when the company sells);
3. ``payments``: ``payment_submit_transfer`` + ``payment_confirm`` (offline transfer with a
   screenshot), ``order_pay_from_wallet``, or ``payment_credit_from_provider`` (WeChat Pay
   notify) — paid once;
4. ``fulfilment.order_fill`` — stock moves from the seller to the buyer (cloud stock: completed at once);
5. ``fulfilment.order_confirm_receipt`` — physical deliveries complete when the buyer has the goods;
6. ``orders.order_cancel`` before fulfilment (the other side gets an ``OrderNotice``),
   ``refunds.refund_request`` / ``refund_approve`` after;
7. a paid order not filled within the brand's ``stuck_after_hours`` is stuck: brand staff take a
   way out (``fulfilment``: ``order_company_fill``, ``order_reassign_to_company``,
   ``order_stuck_refund``).

Beside them: ``retail`` (the shop's orders and their expiry), ``binding`` (a shop customer's
binding to an agent), ``shipments`` (the brand's warehouse ships and corrects tracking),
``money`` (postings to the ledger) and ``common`` (what they all share).

Every status change goes through ``common.transition`` (the model's django-fsm transition plus an
OrderTransition row); paid, completed and refunded are written to the outbox in the same
transaction.

Callers use this package as one module (``from weishang.trade import services``;
``services.order_submit``): every public name is re-exported here.
"""

from __future__ import annotations

from weishang.core.files import (
    SCREENSHOT_EXTENSIONS,
    SCREENSHOT_FORMATS,
    SCREENSHOT_MAX_BYTES,
    SCREENSHOT_MAX_PIXELS,
    validate_screenshot,
)
from weishang.trade.services.fulfilment import (
    STUCK_PERMS,
    order_company_fill,
    order_confirm_receipt,
    order_fill,
    order_is_stuck,
    order_mark_delivered,
    order_reassign_to_company,
    order_stuck_refund,
    pickup_delivered,
    pickup_request,
    pickup_ship,
)
from weishang.trade.services.orders import (
    OfferTerms,
    OrderOffer,
    SupplierShort,
    cancel_refund,
    order_approve,
    order_cancel,
    order_notices_seen,
    order_reject,
    order_route,
    order_step,
    order_submit,
    shop_order_refund,
    shop_refund_text,
    upgrade_top_up,
)
from weishang.trade.services.payments import (
    RECEIVING_FIELDS,
    check_qr,
    clean_account,
    order_pay_from_wallet,
    payment_confirm,
    payment_credit_from_provider,
    payment_online_start,
    payment_reject,
    payment_submit_transfer,
    receiving_account_delete,
    receiving_account_save,
    wallet_topup_submit,
)
from weishang.trade.services.refunds import refund_approve, refund_decline, refund_request
from weishang.trade.services.retail import (
    EXPIRY_GRACE,
    RetailPrices,
    RetailPricing,
    retail_order_expire_one,
    retail_order_submit,
    retail_orders_expire,
    retail_payment_submit,
)
from weishang.trade.services.shipments import shipment_send, shipment_tracking_update

__all__ = [
    "EXPIRY_GRACE",
    "RECEIVING_FIELDS",
    "SCREENSHOT_EXTENSIONS",
    "SCREENSHOT_FORMATS",
    "SCREENSHOT_MAX_BYTES",
    "SCREENSHOT_MAX_PIXELS",
    "STUCK_PERMS",
    "OfferTerms",
    "OrderOffer",
    "SupplierShort",
    "cancel_refund",
    "check_qr",
    "clean_account",
    "order_approve",
    "order_cancel",
    "order_company_fill",
    "order_confirm_receipt",
    "order_fill",
    "order_is_stuck",
    "order_mark_delivered",
    "order_notices_seen",
    "order_pay_from_wallet",
    "order_reassign_to_company",
    "order_reject",
    "order_route",
    "order_step",
    "order_stuck_refund",
    "order_submit",
    "payment_confirm",
    "payment_credit_from_provider",
    "payment_online_start",
    "payment_reject",
    "payment_submit_transfer",
    "pickup_delivered",
    "pickup_request",
    "pickup_ship",
    "receiving_account_delete",
    "receiving_account_save",
    "refund_approve",
    "refund_decline",
    "refund_request",
    "retail_order_expire_one",
    "RetailPrices",
    "RetailPricing",
    "retail_order_submit",
    "retail_orders_expire",
    "retail_payment_submit",
    "shipment_send",
    "shipment_tracking_update",
    "shop_order_refund",
    "shop_refund_text",
    "upgrade_top_up",
    "validate_screenshot",
    "wallet_topup_submit",
]
