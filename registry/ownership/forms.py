"""Forms of the prefix pages: they parse; the services (and ``prefixes``) decide."""

from __future__ import annotations

from django import forms

from registry.ownership import prefixes
from registry.ownership.services import EVIDENCE_MAX, NOTE_MAX


class PrefixClaimForm(forms.Form):
    kind = forms.ChoiceField(
        label="Kind of prefix",
        choices=[
            (prefixes.ISRC, "ISRC registrant prefix (country + registrant code, e.g. GB-AYE)"),
            (prefixes.GS1, "GS1 company prefix (the leading 6 to 12 digits of your UPCs/EANs)"),
        ],
        widget=forms.RadioSelect,
    )
    prefix = forms.CharField(
        label="Prefix",
        max_length=40,
        help_text="ISRC: the first 5 characters of your ISRCs, e.g. GB-AYE. GS1: as GS1 issued it, in its "
        "13-digit (EAN) form: a U.P.C. company prefix 036000 is 0036000.",
    )
    evidence = forms.CharField(
        label="Evidence",
        max_length=EVIDENCE_MAX,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="How staff can check that you hold it: the agency or GS1 office that issued it, a "
        "reference, a contact there, or the distributor that issued it to you.",
    )


class DelegateForm(forms.Form):
    label = forms.CharField(
        label="Label to delegate to",
        max_length=300,
        help_text="Its DDEX Party ID, or the address of its page on this registry (/labels/12/).",
    )


class ContestForm(forms.Form):
    kind = forms.ChoiceField(choices=[(k, k) for k in prefixes.KINDS], widget=forms.HiddenInput)
    identifier = forms.CharField(max_length=14, widget=forms.HiddenInput)
    note = forms.CharField(label="Why (optional)", max_length=NOTE_MAX, required=False)


class DecisionNoteForm(forms.Form):
    """Staff's note on a decision, emailed to the label; required to reject."""

    note = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 4}),
        required=False,
        max_length=NOTE_MAX,
        help_text="Emailed to the label's contact and owners. Required to reject: say what evidence was missing.",
    )
