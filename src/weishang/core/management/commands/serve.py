"""``weishang serve``: collect static files and serve the app for local use (runserver, no reloader)."""

from django.core.management import call_command
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve Weishang on 127.0.0.1:8000 (or --addr HOST:PORT) for local use."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default="127.0.0.1:8000")
        parser.add_argument("--reload", action="store_true", help="restart when code changes (development)")

    def handle(self, *args, addr: str, reload: bool, **options):
        self.stdout.write(f"Weishang on http://{addr}/  —  agents: /m/  ·  console: /console/  ·  API: /api/v1/docs")
        call_command("runserver", addr, use_reloader=reload, insecure_serving=True)
