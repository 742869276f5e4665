"""weishang academy remind [--hours 24] · weishang academy enrol-joined: the academy from the
command line. ``remind`` (every few minutes from cron) tells the audience of each live class that
starts within the hours given, once per class; ``enrol-joined`` reads the outbox's ``agent.joined``
(what runs after each commit) so that newcomers find the bootcamp."""

from __future__ import annotations

from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError

from weishang.academy import services


class Command(BaseCommand):
    help = "Send live class reminders, or enrol newcomers in the bootcamp from the outbox."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        remind = sub.add_parser("remind", help="remind the audience of live classes starting soon (once per class)")
        remind.add_argument("--hours", type=int, default=24, help="classes starting within this many hours")
        sub.add_parser("enrol-joined", help="enrol the newcomers the outbox reports in the bootcamp")

    def handle(self, *args, action, **options):
        if action == "remind":
            hours = options["hours"]
            if not 1 <= hours <= 24 * 14:
                raise CommandError("--hours is 1 to 336.")
            told = services.live_reminders_send(within=timedelta(hours=hours))
            self.stdout.write(f"{told} reminder(s) sent.")
            return
        read = services.academy_follow_events()
        self.stdout.write(f"{read} event(s) read.")
