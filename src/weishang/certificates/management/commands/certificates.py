"""weishang certificates sync · weishang certificates check QUERY: authorization certificates from
the command line (a nightly ``sync`` renews the ones that expire and heals any missed event)."""

from __future__ import annotations

import json

from django.core.management.base import BaseCommand

from weishang.certificates import services


class Command(BaseCommand):
    help = "Bring every agent's authorization certificate up to date, or look one up as the public does."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        sub.add_parser("sync", help="issue, renew or end certificates so that they match the agents")
        check = sub.add_parser("check", help="what /verify/ answers for a certificate number, phone or WeChat id")
        check.add_argument("query")

    def handle(self, *args, action, **options):
        if action == "sync":
            self.stdout.write(f"{services.certificates_sync()} agent(s) got a new certificate or lost theirs.")
            return
        found = services.certificate_lookup(options["query"])
        self.stdout.write(
            json.dumps(
                {
                    "found": found.found,
                    "authorized": found.authorized,
                    "status": found.status,
                    "serial": found.serial,
                    "name": found.name_masked,
                    "level": found.level,
                    "region": found.region,
                    "valid_until": f"{found.valid_until}" if found.valid_until else None,
                },
                ensure_ascii=False,
            )
        )
