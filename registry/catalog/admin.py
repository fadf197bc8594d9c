"""Admin for the catalog: staff verify labels and manage members."""

from __future__ import annotations

from django.contrib import admin

from registry.catalog.models import Artist, Label, Membership, Recording, Release, ReleaseArtist, Track


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Label)
class LabelAdmin(admin.ModelAdmin):
    list_display = ["name", "dpid", "verified", "is_demo", "created_at"]
    list_filter = ["verified", "is_demo"]
    search_fields = ["name", "dpid"]
    inlines = [MembershipInline]


@admin.register(Artist)
class ArtistAdmin(admin.ModelAdmin):
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
class ReleaseAdmin(admin.ModelAdmin):
    list_display = ["title", "upc", "label", "release_date", "current_declaration"]
    search_fields = ["title", "upc"]
    list_select_related = ["label", "current_declaration"]
    # Identity and ownership change only through the services (conflict rules, signed history).
    readonly_fields = ["upc", "label", "current_declaration"]
    inlines = [ReleaseArtistInline, TrackInline]


@admin.register(Recording)
class RecordingAdmin(admin.ModelAdmin):
    list_display = ["isrc", "label", "created_at"]
    readonly_fields = ["isrc", "label"]
    search_fields = ["isrc"]
    list_select_related = ["label"]
