from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from weishang.api.payments import payment_notify
from weishang.api.urls import api
from weishang.core import health

urlpatterns = [
    path("", RedirectView.as_view(url="/m/", permanent=False)),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("console/", admin.site.urls),
    path("api/v1/", api.urls),
    path("pay/notify/<str:provider>/", payment_notify, name="payment_notify"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("weishang.web.urls")),
]
if settings.WEISHANG_WECHAT.get("FAKE"):  # development, tests and the demo: the fake WeChat (wechat/fake.py)
    from django.views.decorators.csrf import csrf_exempt

    from weishang.wechat import fake

    urlpatterns += [
        path("_fake/wechat/connect/oauth2/authorize", fake.authorize),
        path("_fake/wechat/sns/oauth2/access_token", fake.access_token),
        path("_fake/wechat/sns/userinfo", fake.userinfo),
        path("_fake/wechat/sns/jscode2session", fake.jscode2session),
        path("_fake/wechat/cgi-bin/token", fake.token),
        path("_fake/wechat/cgi-bin/ticket/getticket", fake.getticket),
        path("_fake/wechat/cgi-bin/message/template/send", csrf_exempt(fake.template_send)),
    ]
# No /media/ route, not even in development: uploaded files (transfer screenshots, qualification
# scans, lesson files) are served only by their permission-checked views, in every environment.
