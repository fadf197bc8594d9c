"""``manage.py label_key_attest LABEL_ID --key JWK --staff USER --reason R [--recovery]``: staff attest a label key."""

from __future__ import annotations

import json
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from registry.catalog.models import Label
from registry.errors import DomainError
from registry.labelkeys import services


class Command(BaseCommand):
    help = "Register a label's first key (or, with --recovery, a key after all were lost), attested by staff."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("label_id", type=int)
        parser.add_argument("--key", required=True, help="the public JWK that `provenance keygen` printed")
        parser.add_argument("--staff", required=True, help="the staff member's username")
        parser.add_argument("--reason", required=True)
        parser.add_argument("--recovery", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        label = Label.objects.filter(pk=options["label_id"]).first()
        staff = get_user_model().objects.filter(username=options["staff"], is_staff=True).first()
        if label is None or staff is None:
            raise CommandError("no such label, or no such staff member")
        try:
            key = services.public_key_from(json.loads(options["key"]))
            row = services.key_attest(
                label=label, public_key=key, actor=staff, reason=options["reason"], recovery=options["recovery"]
            )
        except (DomainError, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"{row.event} {row.kid} for {label.name} at log index {row.leaf_id} ({row.attestation})")
