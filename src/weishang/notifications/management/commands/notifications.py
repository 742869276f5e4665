"""weishang notifications send: the WeChat and text messages due (a periodic job, every minute:
retries, and what waited for someone's quiet hours to end)."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from weishang.notifications.services import deliveries_send, notifications_follow_events


class Command(BaseCommand):
    help = "Send the notifications' WeChat and text messages that are due."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("send", help="read the outbox's new events, then send what is due")

    def handle(self, *args, action, **options):
        read = notifications_follow_events()
        sent = deliveries_send()
        self.stdout.write(f"{read} event(s) read, {sent} message(s) sent.")
