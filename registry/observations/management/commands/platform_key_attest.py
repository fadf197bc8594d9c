"""``manage.py platform_key_attest PLATFORM_ID --key JWK --staff USER --reason R [--recovery]``: staff attest a platform key."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from registry.api.models import PlatformKey
from registry.errors import DomainError
from registry.observations import services


class Command(BaseCommand):
    help = "Register a platform's first signing key (or, with --recovery, one after all were lost), attested by staff."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("platform_id", type=int, help="the id of the platform's API key record (admin)")
        parser.add_argument("--key", required=True, help="the public JWK that `provenance keygen` printed")
        parser.add_argument("--staff", required=True, help="the staff member's username")
        parser.add_argument("--reason", required=True)
        parser.add_argument("--recovery", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        platform = PlatformKey.objects.filter(pk=options["platform_id"], revoked_at__isnull=True).first()
        staff = get_user_model().objects.filter(username=options["staff"], is_staff=True).first()
        if platform is None or staff is None:
            raise CommandError("no such platform (or its API key is revoked), or no such staff member")
        try:
            key = services.public_key_from(json.loads(options["key"]))
            row = services.key_attest(
                platform=platform, public_key=key, actor=staff, reason=options["reason"], recovery=options["recovery"]
            )
        except (DomainError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{row.event} {row.kid} for {platform.name} at log index {row.leaf_id} ({row.attestation})")
