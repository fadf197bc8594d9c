"""Forms of the label area. They parse and validate input; services do the writes."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.core.exceptions import ValidationError

from provenance import identifiers, limits, vocabulary
from provenance.errors import IdentifierError
from registry.catalog.models import LEVEL_CHOICES, PERSONA_CHOICES, Artist, Label, Membership
from registry.catalog.services import RELEASE_MAX_TRACKS
from registry.labelkeys import services as labelkey_services
from registry.labels import services
from registry.labels.models import LabelApplication
from registry.text_input import MultilineTextField, TextField

LEVEL_RADIO_CHOICES = [(lv, vocabulary.LEVEL_LABELS[lv]) for lv in vocabulary.LEVELS]


class AccessibleErrorsMixin:
    """Point each invalid input at its error message (``aria-describedby``), next to any help text."""

    def _post_clean(self) -> None:
        super()._post_clean()  # type: ignore[misc]
        for name in self.errors:  # type: ignore[attr-defined]
            if name in self.fields:  # type: ignore[attr-defined]
                bf = self[name]  # type: ignore[index]
                ids = [f"{bf.auto_id}_error"]
                if bf.help_text:
                    ids.append(f"{bf.auto_id}_helptext")
                bf.field.widget.attrs["aria-describedby"] = " ".join(ids)


def _identifier(func: Any, value: str) -> str:
    try:
        return func(value)
    except IdentifierError as exc:
        raise ValidationError(str(exc)) from None


# --- onboarding -------------------------------------------------------------


class ApplicationForm(AccessibleErrorsMixin, forms.ModelForm):
    # Wider than the stored 18 characters: people type the hyphenated form.
    dpid = forms.CharField(
        label="DDEX Party ID (optional)",
        max_length=40,
        required=False,
        help_text="Like PA-DPIDA-3897722461-G. We check the check character.",
    )
    website = forms.URLField(label="Website (optional)", required=False, assume_scheme="https")
    # Identifier prefixes (optional): parsed by the service (registry/ownership/prefixes.py), which names a bad one.
    isrc_prefixes = MultilineTextField(
        label="ISRC registrant prefixes you hold (optional)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Country code and registrant code, e.g. GB-AYE; several separated by commas or lines. "
        "A distributor lists the prefixes it holds for its labels, and delegates them once verified.",
    )
    gs1_prefixes = MultilineTextField(
        label="GS1 company prefixes you hold (optional)",
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="6 to 12 digits, e.g. 0614141, as on your GS1 certificate.",
    )
    prefix_evidence = MultilineTextField(
        label="Evidence for the prefixes",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Required with prefixes: for example the ISRC agency's assignment letter or your GS1 "
        "membership number. Staff verify each prefix apart; until then your declarations say their "
        "identifiers are not verified as yours.",
    )

    class Meta:
        model = LabelApplication
        fields = ["label_name", "dpid", "contact_name", "contact_email", "website", "evidence"]
        labels = {"label_name": "Label name", "dpid": "DDEX Party ID (optional)", "website": "Website (optional)"}
        help_texts = {
            "dpid": "Like PA-DPIDA-3897722461-G. We check the check character.",
            "evidence": "For example: a link to your label's page listing you, a distributor contract reference, "
            "or a label email address we can write to. Staff review every application.",
        }
        widgets = {"evidence": forms.Textarea(attrs={"rows": 4})}
        field_classes = {"label_name": TextField, "contact_name": TextField, "evidence": MultilineTextField}

    def clean_dpid(self) -> str | None:
        value = (self.cleaned_data.get("dpid") or "").strip()
        if not value:
            return None
        dpid = _identifier(identifiers.normalize_dpid, value)
        if Label.objects.filter(dpid=dpid).exists():
            raise ValidationError("A label with this DDEX Party ID is registered already. Contact us if it is yours.")
        return dpid


class RejectApplicationForm(forms.Form):
    reason = MultilineTextField(
        widget=forms.Textarea(attrs={"rows": 4}), help_text="Sent to the applicant. Say what evidence was missing."
    )


# --- releases ---------------------------------------------------------------


class ArtistChoiceField(forms.ModelMultipleChoiceField):
    """Artists picked by id; an id beyond the id column's range is "not one of the choices".

    Django's field looks the ids up with ``pk__in``, which on SQLite raised
    OverflowError (a 500) for a 20-digit id; the pk field's own range validators
    refuse it first.
    """

    def _check_values(self, value: Any) -> Any:
        pk = self.queryset.model._meta.pk
        for v in value:
            try:
                pk.run_validators(pk.to_python(v))
            except ValidationError:
                raise ValidationError(
                    self.error_messages["invalid_choice"], code="invalid_choice", params={"value": v}
                ) from None
        return super()._check_values(value)


class ReleaseForm(AccessibleErrorsMixin, forms.Form):
    upc = forms.CharField(
        label="UPC / EAN", max_length=32, help_text="12, 13 or 14 digits (UPC, EAN or GTIN-14), as on the barcode."
    )
    title = TextField(max_length=limits.TITLE_MAX)
    genre = TextField(
        max_length=limits.GENRE_MAX,
        help_text="The main genre, like Pop, Jazz or Afrobeats (DDEX requires one for every release).",
    )
    release_date = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    artwork_ai = forms.ChoiceField(
        label="AI in the artwork", choices=LEVEL_CHOICES, initial=vocabulary.NONE, widget=forms.RadioSelect
    )
    existing_artists = ArtistChoiceField(
        label="Artists already in your catalog",
        queryset=Artist.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, label: Label, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["existing_artists"].queryset = Artist.objects.filter(label=label).order_by("name")

    def clean_upc(self) -> str:
        return _identifier(identifiers.normalize_gtin, self.cleaned_data["upc"])


class NewArtistForm(AccessibleErrorsMixin, forms.Form):
    name = TextField(max_length=255, required=False)
    persona = forms.ChoiceField(choices=PERSONA_CHOICES, initial=vocabulary.HUMAN)
    isni = forms.CharField(label="ISNI", max_length=32, required=False)

    def clean_isni(self) -> str | None:
        value = self.cleaned_data.get("isni", "").strip()
        return _identifier(identifiers.normalize_isni, value) if value else None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("isni") and not data.get("name"):
            self.add_error("name", "Give the artist's name too.")
        return data


NewArtistFormSet = forms.formset_factory(NewArtistForm, extra=0, min_num=1, max_num=limits.RELEASE_ARTISTS_MAX)


SINGLE_TITLE_HELP = "A single's one track may leave it empty: it takes the release title."


class TrackForm(AccessibleErrorsMixin, forms.Form):
    isrc = forms.CharField(label="ISRC", max_length=32, help_text="Like US-SKG-19-12345.")
    # Optional here; BaseTrackFormSet.clean requires it unless the release has one track (a single). The
    # Tracks section says so once, rather than every row calling it optional.
    title = TextField(max_length=limits.TITLE_MAX, required=False)
    title.hide_optional = True
    # Prefilled with the row's number and kept in row order by the row buttons; left empty it is the row's number.
    position = forms.IntegerField(min_value=1, max_value=999, required=False)
    duration = forms.CharField(max_length=16, help_text="3:21 or 201 (seconds). DDEX requires it.")
    audio_sha256 = forms.CharField(
        label="Audio SHA-256",
        max_length=80,
        required=False,
        help_text="64 hex digits, or choose the audio file below and we compute it.",
    )
    audio_file = forms.FileField(
        label="Audio file (only hashed, never stored)",
        required=False,
        help_text="Hashed in your browser when possible; otherwise hashed on the server and never stored.",
        widget=forms.ClearableFileInput(attrs={"accept": "audio/*", "data-sha256-file": "1"}),
    )

    # What makes a row a track: the prefilled position alone does not (an added row left empty is ignored).
    CONTENT_FIELDS = ("isrc", "title", "duration", "audio_sha256", "audio_file")

    def has_changed(self) -> bool:
        return any(self[name].data not in (None, "") for name in self.CONTENT_FIELDS)

    def clean_isrc(self) -> str:
        return _identifier(identifiers.normalize_isrc, self.cleaned_data["isrc"])

    def clean_duration(self) -> int | None:
        try:
            return services.parse_duration(self.cleaned_data.get("duration", ""))
        except ValueError as exc:
            raise ValidationError(str(exc)) from None

    def clean_audio_sha256(self) -> str | None:
        value = self.cleaned_data.get("audio_sha256", "").strip().lower()
        if value and (len(value) != 64 or any(c not in "0123456789abcdef" for c in value)):
            raise ValidationError(f"A SHA-256 is 64 hex digits (0-9, a-f); this has {len(value)} characters.")
        return value or None

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        upload = data.get("audio_file")
        if upload:
            if upload.size > services.AUDIO_HASH_MAX_BYTES:
                self.add_error(
                    "audio_file",
                    f"Files over {services.AUDIO_HASH_MAX_BYTES // (1024 * 1024)} MB are not hashed on the server; "
                    "paste the SHA-256 instead (sha256sum FILE).",
                )
            else:
                digest = services.hash_upload(upload.chunks())
                if data.get("audio_sha256") and data["audio_sha256"] != digest:
                    self.add_error("audio_sha256", f"This does not match the file you chose (its SHA-256 is {digest}).")
                data["audio_sha256"] = digest
                # Show the hash on re-render so an unrelated error never asks for the upload again.
                if getattr(self.data, "_mutable", False):
                    self.data[self.add_prefix("audio_sha256")] = digest
        return data


class BaseTrackFormSet(forms.BaseFormSet):
    default_error_messages = {
        "too_few_forms": "A release needs at least one track.",
        "too_many_forms": f"At most {RELEASE_MAX_TRACKS} tracks.",
    }

    def add_fields(self, form: forms.Form, index: int | None) -> None:
        super().add_fields(form, index)
        if "DELETE" in form.fields:
            form.fields["DELETE"].label = "Remove this track from the release"

    def initial_form_count(self) -> int:
        # Posted rows are all alike, whether the page started with them or they were added, removed or moved
        # since (without JavaScript by registry.labels.rows, with it by labels.js): a row is a track when
        # something is typed in it. Unbound, the rows of ``initial`` are shown as usual.
        return 0 if self.is_bound else super().initial_form_count()

    def total_form_count(self) -> int:
        if self.is_bound:
            return super().total_form_count()
        return min(max(len(self.initial or []), self.min_num) + self.extra, self.max_num)

    def kept_forms(self) -> list[forms.Form]:
        """The rows that are tracks: not marked for removal, not an added row left empty."""
        return [
            form
            for form in self.forms
            if form.cleaned_data.get("isrc") and not (self.can_delete and self._should_delete_form(form))
        ]

    def clean(self) -> None:
        if any(self.errors):
            return
        seen_isrc: dict[str, int] = {}
        seen_pos: dict[int, int] = {}
        kept = self.kept_forms()
        for i, form in enumerate(kept):
            data = form.cleaned_data
            if data.get("position") is None:
                data["position"] = i + 1  # positions follow row order by default
            if not data.get("title") and len(kept) > 1:
                form.add_error("title", f"Give every track a title. {SINGLE_TITLE_HELP}")
            isrc, pos = data.get("isrc"), data["position"]
            if isrc in seen_isrc:
                form.add_error("isrc", f"Track {seen_isrc[isrc] + 1} has this ISRC already.")
            if pos in seen_pos:
                form.add_error("position", f"Track {seen_pos[pos] + 1} has position {pos} already.")
            seen_isrc.setdefault(isrc, i)
            seen_pos.setdefault(pos, i)


# absolute_max: a posted TOTAL_FORMS of 10**9 builds (and re-renders) at most this many rows, not max_num + 1000.
_TRACK_ROWS: dict[str, Any] = {
    "formset": BaseTrackFormSet,
    "extra": 0,
    "min_num": 1,
    "validate_min": True,
    "max_num": RELEASE_MAX_TRACKS,
    "validate_max": True,
    "absolute_max": RELEASE_MAX_TRACKS,
}
TrackFormSet = forms.formset_factory(TrackForm, **_TRACK_ROWS)
# Editing a release: the same rows, each with a "remove this track" box.
EditTrackFormSet = forms.formset_factory(TrackForm, can_delete=True, **_TRACK_ROWS)


class ReleaseEditForm(ReleaseForm):
    """The release form without the UPC: the UPC is the release's identity and never changes."""

    def __init__(self, *args: Any, label: Label, **kwargs: Any) -> None:
        super().__init__(*args, label=label, **kwargs)
        del self.fields["upc"]
        self.fields["release_date"].help_text = "Leave empty to remove the date."


def release_input(
    form: ReleaseForm, artists: forms.BaseFormSet, tracks: BaseTrackFormSet
) -> tuple[list[Artist], list[dict[str, Any]], list[dict[str, Any]], list[forms.Form]]:
    """From valid forms: picked artists, new artists, track rows for the catalog services, and each row's form."""
    new_artists = [
        {"name": f.cleaned_data["name"], "isni": f.cleaned_data.get("isni"), "persona": f.cleaned_data["persona"]}
        for f in artists.forms
        if f.cleaned_data.get("name")
    ]
    track_forms = tracks.kept_forms()
    rows = [
        {
            "isrc": f.cleaned_data["isrc"],
            # Only a single may leave its track title empty (BaseTrackFormSet.clean): it takes the release title.
            "title": f.cleaned_data["title"] or form.cleaned_data["title"],
            "position": f.cleaned_data["position"],
            "duration": f.cleaned_data.get("duration"),
            "audio_sha256": f.cleaned_data.get("audio_sha256"),
        }
        for f in track_forms
    ]
    return list(form.cleaned_data["existing_artists"]), new_artists, rows, track_forms


class ImportForm(AccessibleErrorsMixin, forms.Form):
    file = forms.FileField(
        label="DDEX ERN file (XML)",
        help_text="A NewReleaseMessage in ERN 4.3.2 (4.3 and 4.3.1 are read too). It fills in the forms; nothing is saved yet.",
        widget=forms.ClearableFileInput(attrs={"accept": ".xml,application/xml,text/xml"}),
    )


# --- declarations -----------------------------------------------------------


def field_name(i: int, name: str) -> str:
    return f"t{i}_{name}"


class DeclareForm(AccessibleErrorsMixin, forms.Form):
    """One matrix of parts × levels per track, plus artwork, tools and voice likeness (and a reason to amend)."""

    artwork = forms.ChoiceField(label="Artwork", choices=LEVEL_RADIO_CHOICES, widget=forms.RadioSelect)

    def __init__(self, *args: Any, tracks: Sequence[Any], amend: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.tracks = list(tracks)
        self.amend = amend
        for i, _track in enumerate(self.tracks):
            for part in vocabulary.PARTS:
                self.fields[field_name(i, part)] = forms.ChoiceField(
                    label=vocabulary.PART_LABELS[part],
                    choices=LEVEL_RADIO_CHOICES,
                    widget=forms.RadioSelect,
                    error_messages={"required": f"Choose a level for {vocabulary.PART_LABELS[part].lower()}."},
                )
            self.fields[field_name(i, "tools")] = MultilineTextField(
                label="AI tools used",
                required=False,
                max_length=limits.TOOLS_MAX * (limits.TOOL_MAX + 2),  # the names and their separators
                widget=forms.Textarea(attrs={"rows": 2}),
                help_text="Comma-separated or one per line, e.g. Suno v4, iZotope Ozone 11.",
            )
            self.fields[field_name(i, "imitates")] = forms.BooleanField(
                label="The voice imitates a real person", required=False
            )
            self.fields[field_name(i, "consent")] = TextField(
                label="Consent reference",
                required=False,
                max_length=limits.CONSENT_REFERENCE_MAX,
                help_text="Required if the voice imitates a real person: a contract or licence reference.",
            )
        if amend:
            self.fields["reason"] = MultilineTextField(
                label="Reason for this new version",
                max_length=limits.REASON_MAX,
                widget=forms.Textarea(attrs={"rows": 3}),
                help_text="Published with the declaration, e.g. “Vocals on track 2 were AI, not human.”",
            )

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        for i, _track in enumerate(self.tracks):
            tools = services.parse_tools(data.get(field_name(i, "tools"), ""))
            if len(tools) > limits.TOOLS_MAX or any(len(t) > limits.TOOL_MAX for t in tools):
                self.add_error(
                    field_name(i, "tools"),
                    f"At most {limits.TOOLS_MAX} tools, each at most {limits.TOOL_MAX} characters.",
                )
            data[field_name(i, "tools")] = tools
            consent = (data.get(field_name(i, "consent")) or "").strip()
            if data.get(field_name(i, "imitates")) and not consent:
                self.add_error(
                    field_name(i, "consent"), "Give the consent reference when the voice imitates a real person."
                )
            data[field_name(i, "consent")] = consent
        return data

    def summary_errors(self) -> list[dict[str, str]]:
        """The error summary: one line per track naming it, its missing levels grouped, each linked to its field."""
        out = [{"href": "", "text": str(e)} for e in self.non_field_errors()]
        for name in ("reason", "artwork"):
            if name in self.fields:
                out.extend(
                    {"href": f"#{self[name].id_for_label}", "text": f"{self[name].label}: {e}"}
                    for e in self.errors.get(name, [])
                )
        for i, track in enumerate(self.tracks):
            named = f"Track {track.position} “{track.title}”"
            missing = [p for p in vocabulary.PARTS if field_name(i, p) in self.errors]
            if missing:
                words = [vocabulary.PART_LABELS[p].lower() for p in missing]
                listed = words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"
                first = self[field_name(i, missing[0])]
                out.append({"href": f"#{first.auto_id}_0", "text": f"{named}: choose a level for {listed}."})
            for name in ("tools", "imitates", "consent"):
                bf = self[field_name(i, name)]
                out.extend(
                    {"href": f"#{bf.id_for_label}", "text": f"{named}, {bf.label.lower()}: {e}"} for e in bf.errors
                )
        return out

    def rows(self) -> list[dict[str, Any]]:
        """Per track: its bound fields, for the matrix template."""
        return [
            {
                "index": i,
                "track": track,
                "parts": [self[field_name(i, part)] for part in vocabulary.PARTS],
                "tools": self[field_name(i, "tools")],
                "imitates": self[field_name(i, "imitates")],
                "consent": self[field_name(i, "consent")],
            }
            for i, track in enumerate(self.tracks)
        ]

    def to_draft(self, *, expected_version: int) -> dict[str, Any]:
        data = self.cleaned_data
        ai = {}
        for i, track in enumerate(self.tracks):
            imitates = bool(data.get(field_name(i, "imitates")))
            ai[track.recording.isrc] = {
                "parts": {part: data[field_name(i, part)] for part in vocabulary.PARTS},
                "voice_likeness": {
                    "imitates_real_person": imitates,
                    "consent_reference": data[field_name(i, "consent")] or None if imitates else None,
                },
                "tools": data[field_name(i, "tools")],
            }
        return {
            "mode": "amend" if self.amend else "declare",
            "artwork": data["artwork"],
            "reason": data.get("reason", "").strip() or None,
            "expected_version": expected_version,
            "ai": ai,
        }


def declare_initial(
    tracks: Sequence[Any], ai: Mapping[str, Mapping[str, Any]], artwork: str | None, reason: str = ""
) -> dict[str, Any]:
    """Initial values for :class:`DeclareForm` from AI facts by ISRC (a previous version, an import, a draft)."""
    initial: dict[str, Any] = {"artwork": artwork, "reason": reason}
    for i, track in enumerate(tracks):
        facts = ai.get(track.recording.isrc) or {}
        for part, level in (facts.get("parts") or {}).items():
            if level:
                initial[field_name(i, part)] = level
        initial[field_name(i, "tools")] = ", ".join(facts.get("tools") or [])
        likeness = facts.get("voice_likeness") or {}
        initial[field_name(i, "imitates")] = bool(likeness.get("imitates_real_person"))
        initial[field_name(i, "consent")] = likeness.get("consent_reference") or ""
    return initial


def apply_shortcut(data: Mapping[str, Any], shortcut: str, n_tracks: int) -> dict[str, Any]:
    """Initial values after a shortcut button: ``no_ai`` sets every level to none; ``same_for_all`` copies track 1."""
    values = {key: data.get(key) for key in data if key != "csrfmiddlewaretoken"}
    values[field_name(0, "imitates")] = bool(data.get(field_name(0, "imitates")))
    if shortcut == "no_ai":
        values["artwork"] = vocabulary.NONE
        for i in range(n_tracks):
            for part in vocabulary.PARTS:
                values[field_name(i, part)] = vocabulary.NONE
    elif shortcut == "same_for_all":
        for i in range(1, n_tracks):
            for name in (*vocabulary.PARTS, "tools", "consent"):
                values[field_name(i, name)] = data.get(field_name(0, name), "")
            values[field_name(i, "imitates")] = values[field_name(0, "imitates")]
    for i in range(1, n_tracks):
        values.setdefault(field_name(i, "imitates"), False)
        values[field_name(i, "imitates")] = bool(values[field_name(i, "imitates")])
    return values


class ReasonForm(AccessibleErrorsMixin, forms.Form):
    reason = MultilineTextField(
        label="Reason",
        max_length=limits.REASON_MAX,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Published with the signed version.",
    )


class CoSignForm(AccessibleErrorsMixin, forms.Form):
    """The label's signature of a prepared statement: the JSON ``provenance sign`` prints, or keyid and sig."""

    signature = forms.CharField(
        label="Signature (what the command printed)",
        required=False,
        max_length=2 * (labelkey_services.KEYID_MAX + labelkey_services.SIG_MAX),
        widget=forms.Textarea(attrs={"rows": 3, "spellcheck": "false", "autocomplete": "off"}),
        help_text='Paste the whole line, like {"keyid": "…", "sig": "…"}, or give the key id and signature separately (below).',
    )
    keyid = forms.CharField(label="Key id (keyid)", required=False, max_length=labelkey_services.KEYID_MAX)
    sig = forms.CharField(label="Signature (sig, base64)", required=False, max_length=labelkey_services.SIG_MAX)

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        text = (data.get("signature") or "").strip()
        if text:
            try:
                value = json.loads(text)
            except ValueError:
                value = None
            if not (
                isinstance(value, dict) and isinstance(value.get("keyid"), str) and isinstance(value.get("sig"), str)
            ):
                raise ValidationError(
                    {"signature": 'Not what `provenance sign` prints: a JSON object {"keyid": "…", "sig": "…"}.'}
                )
            keyid, sig = value["keyid"].strip(), value["sig"].strip()
        else:
            keyid, sig = (data.get("keyid") or "").strip(), (data.get("sig") or "").strip()
            if not (keyid and sig):
                raise ValidationError({"signature": "Paste the signature the command printed (or its keyid and sig)."})
        if len(keyid) > labelkey_services.KEYID_MAX or len(sig) > labelkey_services.SIG_MAX:
            raise ValidationError({"signature": "That keyid or sig is too long to be a label key's signature."})
        data["parsed"] = {"keyid": keyid, "sig": sig}
        return data


class PublicKeyForm(AccessibleErrorsMixin, forms.Form):
    """A label key's public half, as the browser made it (base64url of the 32 Ed25519 bytes)."""

    key = forms.CharField(label="Public key (base64url)", max_length=64, widget=forms.HiddenInput)
    reason = forms.CharField(label="Why (optional, logged)", required=False, max_length=200)

    def clean_key(self) -> str:
        from django.core.exceptions import ValidationError as FormError

        from registry.errors import ValidationFailed

        try:
            self.cleaned_data["public_key"] = labelkey_services.public_key_from(self.cleaned_data["key"])
        except ValidationFailed as exc:
            raise FormError(exc.message) from exc
        return self.cleaned_data["key"]


class KeyRevokeForm(AccessibleErrorsMixin, forms.Form):
    """Which active key of the label to revoke, and why (logged): the revocation event is then signed by the label."""

    kid = forms.ChoiceField(label="Key to revoke", choices=())
    reason = forms.CharField(label="Why (optional, logged)", required=False, max_length=200)

    def __init__(self, *args: Any, active: Sequence[str] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["kid"].choices = [(kid, kid) for kid in active]


class KeyRegisterForm(CoSignForm):
    """A later key's registration event, signed in the browser by a key of the label it holds."""

    payload = forms.CharField(max_length=8000, widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["signature"].label = "Signature of the key event"
        self.fields["signature"].help_text = 'Filled in by this browser, or paste {"keyid": "…", "sig": "…"}.'


# --- team -------------------------------------------------------------------


class TokenForm(AccessibleErrorsMixin, forms.Form):
    name = TextField(max_length=100, help_text="What uses this token, e.g. “Distributor sync”.")


class InviteForm(AccessibleErrorsMixin, forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(
        choices=Membership.ROLE_CHOICES,
        initial=Membership.SUBMITTER,
        widget=forms.RadioSelect,
        help_text="Submitters declare releases. Owners also manage members and API tokens.",
    )


class SignupForm(AccessibleErrorsMixin, UserCreationForm):
    class Meta(UserCreationForm.Meta):
        fields = ("username",)
