from django.urls import path

from weishang.web import views

app_name = "web"

urlpatterns = [
    path("m/", views.home, name="home"),
    path("m/login/", views.PhoneLoginView.as_view(), name="login"),
    path("m/logout/", views.logout_view, name="logout"),
    path("m/invite-qr.svg", views.invite_qr, name="invite_qr"),
    path("m/team/", views.team, name="team"),
    path("m/team/<int:agent_id>/", views.team, name="team_of"),
    path("m/applications/", views.applications, name="applications"),
    path("m/applications/<int:application_id>/decide/", views.application_decide, name="application_decide"),
    path("join/", views.join, name="join_brand"),
    path("join/<str:code>/", views.join, name="join"),
]
