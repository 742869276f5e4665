"""Log in with a phone number (agents) or a username (staff), and a password."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Q


class PhoneOrUsernameBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        login = (username or kwargs.get("phone") or "").strip()
        if not login or password is None:
            return None
        User = get_user_model()
        user = User.objects.filter(Q(phone=login) | Q(username=login)).order_by("pk").first()
        if user is None:
            User().set_password(password)  # same work as a real check: no timing oracle
            return None
        if user.check_password(password) and self.user_can_authenticate(user):
            return user
        return None
