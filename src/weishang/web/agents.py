"""Who is calling, for the phone pages that only agents have."""

from __future__ import annotations

from django.http import Http404

from weishang.channel.models import Agent
from weishang.channel.selectors import require_agent
from weishang.core.errors import Forbidden


def current_agent(request) -> Agent:
    """The signed-in agent. Anyone else signed in (brand staff, an account without an agent) gets
    404, not the API's 403: an agent's page does not tell a stranger that it exists. The views
    are ``login_required``, so nobody signed in is sent to the login page first."""
    try:
        return require_agent(request.user)
    except Forbidden:
        raise Http404 from None
