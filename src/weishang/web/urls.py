from django.urls import path

from weishang.core import converters  # noqa: F401 - registers <id:…>, a database id in range
from weishang.web import (
    account_views,
    brand_views,
    certificate_views,
    faq_views,
    growth_views,
    leads_views,
    materials_views,
    meetings_views,
    password_views,
    pay_views,
    payment_views,
    plan_views,
    products,
    promotion_views,
    rewards_views,
    shop_views,
    stores_views,
    trade_views,
    views,
)

app_name = "web"

urlpatterns = [
    path("m/", views.home, name="home"),
    # products: a public page each, and their pictures (launch toolkit, M9)
    path("p/<id:product_id>/", products.product_page, name="product"),
    path("p/images/<id:image_id>/<str:size>/", products.product_image, name="product_image"),
    # the brand's public page: its qualifications (launch toolkit, M9)
    path("brand/", brand_views.brand_page, name="brand"),
    path("verify/", certificate_views.verify, name="verify"),
    path("m/certificate/", certificate_views.my_certificate, name="my_certificate"),
    path("m/certificate.png", certificate_views.my_certificate_png, name="my_certificate_png"),
    path("m/certificate.pdf", certificate_views.my_certificate_pdf, name="my_certificate_pdf"),
    path("m/certificate/wechat/", certificate_views.my_wechat_id, name="my_wechat_id"),
    path("brand/qualifications/<id:pk>/scan/", brand_views.qualification_scan, name="qualification_scan"),
    path("m/login/", views.PhoneLoginView.as_view(), name="login"),
    path("m/logout/", views.logout_view, name="logout"),
    path("m/me/", views.me, name="me"),
    path("m/password/forgot/", password_views.password_forgot, name="password_forgot"),
    path("m/password/reset/", password_views.password_reset, name="password_reset"),
    # my account: password change, logged-in devices
    path("m/password/change/", account_views.change_password, name="password_change"),
    path("m/devices/", account_views.devices, name="devices"),
    path("m/devices/<id:token_id>/logout/", account_views.device_sign_out, name="device_sign_out"),
    path("m/devices/logout-all/", account_views.devices_sign_out_all, name="devices_sign_out_all"),
    path("m/invite-qr.svg", views.invite_qr, name="invite_qr"),
    path("m/team/", views.team, name="team"),
    path("m/team/<id:agent_id>/", views.team, name="team_of"),
    # growth: upgrade progress, invite poster, my customers and shop link
    path("m/progress/", growth_views.upgrade_progress, name="upgrade_progress"),
    path("m/invite/", growth_views.invite, name="invite"),
    path("m/poster.png", growth_views.poster_png, name="poster"),
    path("m/posters/", growth_views.posters, name="posters"),
    path("m/posters/<id:template_id>.png", growth_views.template_poster_png, name="template_poster"),
    path("m/posters/<id:template_id>/background/", growth_views.poster_background, name="poster_background"),
    path("m/customers/", growth_views.customers, name="customers"),
    path("m/faq/", faq_views.faq, name="faq"),
    # the material centre (launch toolkit, M9)
    path("m/materials/", materials_views.materials, name="materials"),
    path("m/materials/<id:material_id>/copied/", materials_views.material_copied, name="material_copied"),
    path("m/materials/<id:material_id>/zip/", materials_views.material_zip, name="material_zip"),
    path(
        "m/materials/<id:material_id>/files/<id:file_id>/<str:size>/",
        materials_views.material_file,
        name="material_file",
    ),
    # meetings (M10): an agent's invitations; the guest's RSVP and the door's check-in (public)
    path("m/meetings/", meetings_views.my_meetings, name="my_meetings"),
    path("m/meetings/<id:meeting_id>/invite/", meetings_views.meeting_invite, name="meeting_invite"),
    path("meet/i/<str:token>/", meetings_views.invitation_page, name="meeting_invitation"),
    path("meet/c/<str:token>/", meetings_views.checkin_page, name="meeting_checkin"),
    path("m/shop-qr.svg", growth_views.shop_qr, name="shop_qr"),
    path("m/leads/", leads_views.leads, name="leads"),
    path("m/store/", stores_views.my_store, name="my_store"),
    path("stores/", stores_views.stores, name="stores"),
    path("stores/photos/<id:photo_id>/<str:size>/", stores_views.store_photo, name="store_photo"),
    path("m/plan/", plan_views.plan, name="plan"),
    path("m/leads/<id:lead_id>/", leads_views.lead, name="lead"),
    path("m/applications/", views.applications, name="applications"),
    path("m/applications/<id:application_id>/decide/", views.application_decide, name="application_decide"),
    path("join/", views.join, name="join_brand"),
    path("join/<str:code>/", views.join, name="join"),
    # trade: ordering, paying, filling, stock, wallet
    path("m/order/", trade_views.order_new, name="order_new"),
    path("m/upgrade/", trade_views.upgrade_new, name="upgrade_new"),
    path("m/orders/", trade_views.my_orders, name="my_orders"),
    path("m/orders/<str:number>/", trade_views.my_order, name="my_order"),
    path("m/orders/<str:number>/pay-online/", pay_views.my_order_pay_online, name="my_order_pay_online"),
    path("m/orders/<str:number>/<slug:action>/", trade_views.my_order_action, name="my_order_action"),
    path("m/fill/", trade_views.fill_list, name="fill"),
    path("m/fill/<str:number>/", trade_views.fill_order, name="fill_order"),
    path(
        "m/fill/<str:number>/payments/<id:payment_id>/<slug:action>/",
        trade_views.fill_payment_action,
        name="fill_payment_action",
    ),
    path("m/fill/<str:number>/<slug:action>/", trade_views.fill_order_action, name="fill_order_action"),
    path("m/orders/<str:number>/cancel/confirm/", trade_views.my_order_cancel_confirm, name="my_order_cancel"),
    path("m/stock/", trade_views.stock, name="stock"),
    # where buyers pay: receiving accounts, their QR codes, transfer screenshots (permission-checked)
    path("m/payment-methods/", payment_views.payment_methods, name="payment_methods"),
    path("m/payment-methods/<id:account_id>/", payment_views.payment_method_edit, name="payment_method_edit"),
    path(
        "m/payment-methods/<id:account_id>/delete/", payment_views.payment_method_delete, name="payment_method_delete"
    ),
    path("m/notices/<id:notice_id>/", payment_views.notice_open, name="notice"),
    path("m/receiving/<id:account_id>/qr/", payment_views.receiving_qr, name="receiving_qr"),
    path("m/payments/<id:payment_id>/screenshot/", payment_views.payment_screenshot, name="payment_screenshot"),
    path("m/wallet/", trade_views.wallet, name="wallet"),
    # rewards: lines with their explanations, withdrawals
    path("m/rewards/", rewards_views.rewards, name="rewards"),
    path("m/rewards/withdraw/", rewards_views.withdraw, name="withdraw"),
    # an agent's public shop
    path("s/<str:code>/", shop_views.shop, name="shop"),
    path("s/<str:code>/o/<str:number>/", shop_views.shop_order, name="shop_order"),
    path("s/<str:code>/coupons/<id:offer>/claim/", promotion_views.coupon_claim, name="shop_coupon_claim"),
    path("s/<str:code>/o/<str:number>/pay-online/", pay_views.shop_order_pay_online, name="shop_order_pay_online"),
    path("pay/fake/<str:number>/", pay_views.fake_cashier, name="fake_cashier"),
]
