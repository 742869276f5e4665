from django.core.management.base import BaseCommand, CommandError

from weishang.demo.services import AGENT_PASSWORD, demo_load


class Command(BaseCommand):
    help = "Load the demo brand (焕颜 GLOW): catalog, five levels, ~2,000 agents, staff. Idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--agents", type=int, default=2000, help="how many agents (default 2000)")
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, agents: int, seed: int, **options):
        if agents < 6:
            raise CommandError("--agents must be at least 6 (one login per level and one live recruit).")
        result = demo_load(agents=agents, seed=seed)
        verb = "Loaded" if result.created else "Already loaded (nothing added)"
        self.stdout.write(self.style.SUCCESS(f"{verb}: demo brand with {result.agents} agents."))
        self.stdout.write(
            "Console  http://127.0.0.1:8000/console/  (brand staff, password: "
            f"{result.staff[0][1] if result.staff else '-'})"
        )
        for username, _password in result.staff:
            self.stdout.write(f"    {username}")
        self.stdout.write(f"Agents   http://127.0.0.1:8000/m/  (phone + password: {AGENT_PASSWORD})")
        for level_name, phone, name in result.agent_logins:
            self.stdout.write(f"    {phone}  {level_name}  {name}")
        self.stdout.write(f"B2B      http://127.0.0.1:8000/b2b/  (password: {AGENT_PASSWORD})")
        for account, username in result.b2b_logins:
            self.stdout.write(f"    {username}  {account}")
