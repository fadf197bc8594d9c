"""Admin for the catalog: staff verify labels and manage members."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import ValidationError

from registry.catalog.models import Artist, Label, Membership, Recording, Release, ReleaseArtist, Track
from registry.text_input import AllowedCharactersAdminMixin


class CheckedAutocompleteSelect(AutocompleteSelect):
    """Django's autocomplete widget, re-rendering a refused form without querying values that are not ids.

    Django's widget looks the submitted values up to show them again; a value such
    as "a" where an id belongs raised ValueError in that query (and on SQLite a
    20-digit one OverflowError): a 500 instead of the form's own "Select a valid
    choice" error.
    """

    def optgroups(self, name: str, value: list[Any], attr: dict | None = None) -> list:
        target = self.field.remote_field.model._meta.get_field(self.field.remote_field.field_name)
        valid = []
        for v in value:
            try:
                target.run_validators(target.to_python(v))  # the validators bound it to the database's range
            except ValidationError:
                continue
            valid.append(v)
        return super().optgroups(name, valid, attr)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]

    def formfield_for_foreignkey(self, db_field: Any, request: Any, **kwargs: Any) -> Any:
        if db_field.name in self.autocomplete_fields:
            kwargs["widget"] = CheckedAutocompleteSelect(db_field, self.admin_site, using=kwargs.get("using"))
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Label)
class LabelAdmin(AllowedCharactersAdminMixin, admin.ModelAdmin):
    list_display = ["name", "dpid", "verified", "is_demo", "created_at"]
    list_filter = ["verified", "is_demo"]
    search_fields = ["name", "dpid"]
    inlines = [MembershipInline]


@admin.register(Artist)
class ArtistAdmin(AllowedCharactersAdminMixin, admin.ModelAdmin):
    list_display = ["name", "persona", "isni", "label"]
    list_filter = ["persona"]
    search_fields = ["name", "isni"]
    list_select_related = ["label"]


class ReleaseArtistInline(admin.TabularInline):
    model = ReleaseArtist
    extra = 0
    raw_id_fields = ["artist"]


class TrackInline(admin.TabularInline):
    model = Track
    extra = 0
    raw_id_fields = ["recording", "artists"]


@admin.register(Release)
class ReleaseAdmin(AllowedCharactersAdminMixin, admin.ModelAdmin):
    list_display = ["title", "upc", "label", "release_date", "current_declaration"]
    search_fields = ["title", "upc"]
    list_select_related = ["label", "current_declaration"]
    # Identity and ownership change only through the services (conflict rules, signed history).
    readonly_fields = ["upc", "label", "current_declaration"]
    inlines = [ReleaseArtistInline, TrackInline]


@admin.register(Recording)
class RecordingAdmin(AllowedCharactersAdminMixin, admin.ModelAdmin):
    list_display = ["isrc", "label", "created_at"]
    readonly_fields = ["isrc", "label"]
    search_fields = ["isrc"]
    list_select_related = ["label"]
