"""Forms of the dispute pages: they parse; ``registry.disputes.services`` decides."""

from __future__ import annotations

from typing import Any

from django import forms

from registry.disputes.models import Dispute
from registry.disputes.services import EVIDENCE_MAX, IDENTITY_MAX, TEXT_MAX


class OpenForm(forms.Form):
    role = forms.ChoiceField(label="You are", choices=Dispute.ROLE_CHOICES, widget=forms.RadioSelect)
    isrc = forms.ChoiceField(label="Track", required=False)
    part = forms.ChoiceField(label="Part", choices=Dispute.PART_CHOICES)
    text = forms.CharField(
        label="What is wrong",
        max_length=TEXT_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="For example: the vocals are AI: my voice was cloned.",
    )
    evidence = forms.CharField(
        label="Evidence", max_length=EVIDENCE_MAX, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    identity = forms.CharField(
        label="Who you are",
        max_length=IDENTITY_MAX,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="An ISNI, links to your official profiles: registry staff review your claim. Seen by staff only.",
    )

    def __init__(self, *args: Any, tracks: list[tuple[str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["isrc"].choices = [("", "The release (artwork, or its UPC)"), *tracks]


class AnswerForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Your answer",
        choices=[("amend", "We will amend the declaration"), ("contest", "We contest the claim")],
        widget=forms.RadioSelect,
    )
    text = forms.CharField(
        label="Reason", max_length=TEXT_MAX, required=False, widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Required to contest. Sent to the person who opened the dispute and to registry staff.",
    )  # fmt: skip
