"""Declaring a catalog over HTTP: spreadsheet and DDEX batches into drafts, batch review, batch signing and withdrawing.

Background work runs for real: the database task backend queues it and the
``db_worker`` command runs one pass (``run_worker``), as ``make run``'s worker would.
"""

from __future__ import annotations

import io
import stat
import zipfile
from pathlib import Path
from typing import Any
from unittest import mock

import pytest
from django.core.management import call_command
from django.test import Client

from registry.catalog.models import Release
from registry.declarations.models import Declaration
from registry.labels import batches
from registry.labels.models import Batch, BatchFile, Draft
from tests import factories
from tests.registry.labels.conftest import signed_in

DATA = Path(__file__).resolve().parents[2] / "data"
ERN = DATA / "ern"
CSV_OK = (DATA / "catalog" / "three-releases.csv").read_bytes()
CSV_BAD = (DATA / "catalog" / "with-errors.csv").read_bytes()
THREE_UPCS = ["5036012999013", "5036012999020", "5036012999037"]
ERN_FILES = ["mixed-ai-432.xml", "contains-ai-432.xml", "single-43.xml"]


def run_worker() -> None:
    """One pass of the real worker over the queue (what ``make run``'s ``db_worker`` does continuously).

    The worker closes "old" connections between tasks, as a request does; inside the test's
    transaction PostgreSQL's connection would be closed mid-test (see ``same_connection`` in
    tests/conftest.py), so that housekeeping alone is switched off here.
    """
    with mock.patch("django_tasks_db.management.commands.db_worker.close_old_connections"):
        call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)


def url(label: Any, rest: str = "") -> str:
    return f"/label/{label.pk}/batches/{rest}"


def upload_csv(client: Client, label: Any, data: bytes, name: str = "catalog.csv") -> Any:
    return client.post(url(label, "spreadsheet/"), {"file": _named(data, name)})


def _named(data: bytes, name: str) -> io.BytesIO:
    f = io.BytesIO(data)
    f.name = name
    return f


def zip_of(entries: dict[str, bytes], **infos: Any) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in entries.items():
            z.writestr(name, data)
        for info in infos.values():
            z.writestr(info, b"x")
    return out.getvalue()


def batch_drafts(label: Any) -> dict[str, Any]:
    return {d.data["upc"]: d.data for d in batches.label_drafts(label)}


# --- spreadsheet ----------------------------------------------------------------


def test_the_template_downloads_as_csv_with_every_column(owner_client, label):
    response = owner_client.get(url(label, "template.csv"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    header = response.content.decode().splitlines()[0].split(",")
    assert header[:3] == ["upc", "release_title", "genre"]
    assert {"composition", "lyrics", "vocals", "instrumentation", "production", "consent_reference"} <= set(header)


def test_cells_a_spreadsheet_would_evaluate_are_written_as_text():
    from registry.labels.spreadsheet import safe_cell

    assert [safe_cell(v) for v in ("=1+1", "+1", "-1", "@SUM(A1)", "Pop")] == [
        "'=1+1",
        "'+1",
        "'-1",
        "'@SUM(A1)",
        "Pop",
    ]


def test_a_csv_with_errors_gets_a_report_by_row_and_column_and_creates_nothing(owner_client, label):
    response = upload_csv(owner_client, label, CSV_BAD)
    assert response.status_code == 200
    problems = {(p["row"], p["column"]) for p in response.context["problems"]}
    assert (2, "genre") in problems  # required
    assert (3, "release_title") in problems  # differs from row 2
    assert (3, "isrc") in problems  # twice on the release
    assert (3, "position") in problems
    assert (3, "duration") in problems
    assert (3, "lyrics") in problems  # "some" is not a level
    assert (4, "upc") in problems  # check digit
    assert (5, "consent_reference") in problems  # yes without consent
    html = response.content.decode()
    assert "nothing was imported" in html
    assert "is not a level" in html
    assert not Draft.objects.filter(label=label).exists()
    assert not Release.objects.filter(label=label).exists()


def test_a_valid_csv_of_three_releases_creates_three_drafts_and_nothing_signed(owner_client, label, keys):
    response = upload_csv(owner_client, label, CSV_OK)
    assert response.status_code == 302
    assert "/batches/review/?upc=" in response["Location"]
    found = batch_drafts(label)
    assert sorted(found) == THREE_UPCS
    night = found["5036012999037"]
    assert night["catalog"]["artists"][1] == {"name": "Kid Vector", "isni": None, "persona": "ai_assisted"}
    assert night["ai"]["QZCAT2600301"]["parts"]["instrumentation"] is None  # blank: answer on review
    assert night["ai"]["QZCAT2600301"]["voice_likeness"] == {
        "imitates_real_person": True,
        "consent_reference": "Contract VC-2026-07",
    }
    assert found["5036012999020"]["catalog"]["artists"][0]["persona"] == "synthetic"
    assert not Release.objects.filter(label=label).exists()
    assert not Declaration.objects.exists()


def test_uploading_the_same_rows_again_does_not_duplicate_drafts(owner_client, submitter_client, label, keys):
    upload_csv(owner_client, label, CSV_OK)
    response = upload_csv(submitter_client, label, CSV_OK)  # another member of the same label
    assert response.status_code == 302
    assert Draft.objects.filter(label=label, key__startswith="labels:batch:").count() == 3


def test_hostile_spreadsheets_are_refused_without_a_server_error(owner_client, label):
    for data in (
        b"\x00\x01\x02garbage" * 50,
        b"\xff\xfe\x00\xd8",  # broken UTF-16
        b"PK\x03\x04 an xlsx",
        b"upc,release_title\n1,2\n",
        b'upc,release_title\n"unterminated',
        b"",
        CSV_OK.replace(b"Harbour Lights,Folk", b"Harbour\x1b Lights,Folk"),
    ):
        response = upload_csv(owner_client, label, data)
        assert response.status_code == 200, data[:20]
        assert b"error-summary" in response.content
    assert not Draft.objects.filter(label=label).exists()


def test_a_spreadsheet_over_the_byte_cap_is_refused_before_it_is_read(owner_client, label, settings):
    from registry.labels import spreadsheet

    big = b"x" * (spreadsheet.MAX_BYTES + settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    response = owner_client.post(url(label, "spreadsheet/"), {"file": _named(big, "big.csv")})
    assert response.status_code == 413


# --- DDEX batches -------------------------------------------------------------------


def test_a_zip_of_three_ern_files_becomes_three_drafts_through_the_worker(owner_client, label, keys):
    data = zip_of({f"delivery/{n}": (ERN / n).read_bytes() for n in ERN_FILES} | {"__MACOSX/._x.xml": b"junk"})
    response = owner_client.post(url(label, "ddex/"), {"files": _named(data, "delivery.zip")})
    assert response.status_code == 302
    batch = Batch.objects.get(label=label)
    page = owner_client.get(response["Location"])
    assert 'http-equiv="refresh"' in page.content.decode()  # still queued: the page refreshes
    assert Draft.objects.filter(label=label).count() == 0  # nothing parsed in the request
    run_worker()
    batch.refresh_from_db()
    assert batch.status == Batch.DONE
    assert [r["ok"] for r in batch.results] == [True, True, True]
    assert not BatchFile.objects.filter(batch=batch).exists()
    assert len(batch_drafts(label)) == 3
    page = owner_client.get(response["Location"]).content.decode()
    assert "3 succeeded" in page and 'http-equiv="refresh"' not in page


def test_many_ern_files_can_be_uploaded_without_a_zip(owner_client, label, keys):
    files = [_named((ERN / n).read_bytes(), n) for n in ERN_FILES[:2]]
    response = owner_client.post(url(label, "ddex/"), {"files": files})
    assert response.status_code == 302
    run_worker()
    assert len(batch_drafts(label)) == 2


def _info(name: str, *, symlink: bool = False) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    if symlink:
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


@pytest.mark.parametrize(
    ("archive", "says"),
    [
        (lambda: zip_of({"bomb.xml": b"0" * (5 * 2**20)}), "zip bomb"),
        (lambda: zip_of({"inner.zip": zip_of({"a.xml": b"<a/>"})}), "archive inside the archive"),
        (lambda: zip_of({"inner.xml": zip_of({"a.xml": b"<a/>"})}), "archive inside the archive"),
        (lambda: zip_of({}, a=_info("/etc/passwd.xml")), "absolute path"),
        (lambda: zip_of({}, a=_info("ok/../../evil.xml")), "“..”"),
        (lambda: zip_of({}, a=_info("link.xml", symlink=True)), "symbolic link"),
        (lambda: b"PK\x03\x04 not really a zip", "cannot be read"),
        (lambda: zip_of({f"{i}.xml": b"<a/>" for i in range(401)}), "at most"),
    ],
)
def test_hostile_zips_are_refused_with_a_clear_message(owner_client, label, archive, says):
    response = owner_client.post(url(label, "ddex/"), {"files": _named(archive(), "delivery.zip")})
    assert response.status_code == 200
    assert "The upload was refused" in response.content.decode()
    assert says in response.context["error"]
    assert not Batch.objects.exists()


def test_hostile_ern_files_fail_alone_and_never_stop_the_batch(owner_client, label, keys):
    hostile = {
        "laughs.xml": (ERN / "billion-laughs.xml").read_bytes(),
        "xxe.xml": (ERN / "xxe.xml").read_bytes(),
        "ern3.xml": (ERN / "ern-382.xml").read_bytes(),
        "garbage.xml": b"\x00\xff<NewReleaseMessage",
        "truncated.xml": (ERN / "mixed-ai-432.xml").read_bytes()[:700],
        "good.xml": (ERN / "mixed-ai-432.xml").read_bytes(),
    }
    response = owner_client.post(url(label, "ddex/"), {"files": _named(zip_of(hostile), "mixed.zip")})
    assert response.status_code == 302
    run_worker()
    batch = Batch.objects.get(label=label)
    assert batch.status == Batch.DONE
    assert [r["ok"] for r in batch.results] == [False, False, False, False, False, True]
    assert all(r["message"] for r in batch.results)
    assert owner_client.get(response["Location"]).status_code == 200


def test_import_batch_command_prints_a_progress_bar(label, owner, keys, tmp_path):
    paths = []
    for n in ERN_FILES:
        (tmp_path / n).write_bytes((ERN / n).read_bytes())
        paths.append(str(tmp_path / n))
    out = io.StringIO()
    call_command("import_batch", *paths, label=label.pk, user="olivia", stdout=out)
    text = out.getvalue()
    assert "[" + "#" * 30 + "] 3/3" in text
    assert "3 read, 0 refused" in text
    assert len(batch_drafts(label)) == 3


# --- review and signing -------------------------------------------------------------


def _review(client: Client, label: Any, upcs: list[str]) -> Any:
    return client.get(url(label, "review/"), {"upc": upcs})


def test_batch_review_shows_what_each_declares_and_the_unanswered_parts(owner_client, label, keys):
    upload_csv(owner_client, label, CSV_OK)
    owner_client.post(url(label, "ddex/"), {"files": _named((ERN / "single-43.xml").read_bytes(), "single.xml")})
    run_worker()
    upcs = [*THREE_UPCS, "5036012345643"]
    page = _review(owner_client, label, upcs)
    assert page.status_code == 200
    html = page.content.decode()
    assert "Harbour Lights" in html and "Synthetic Summer" in html and "Nova Lux (AI persona)" in html
    assert "Not stated in the file" in html and "Left blank" in html
    assert 'name="parts:5036012999037:QZCAT2600301:instrumentation"' in html
    assert 'name="parts:5036012345643:QZTST2600201:composition"' in html  # ERN 4.3 states no AI
    assert 'name="artwork:5036012345643"' in html
    assert page.context["ready_count"] == 2


def test_signing_is_refused_while_parts_are_unanswered(owner_client, label, keys):
    upload_csv(owner_client, label, CSV_OK)
    response = owner_client.post(url(label, "review/"), {"upc": THREE_UPCS, "action": "sign"})
    assert response.status_code == 400
    assert "Still to answer before signing" in response.content.decode()
    assert not Batch.objects.exists() and not Declaration.objects.exists()


def test_batch_sign_signs_each_release_through_the_worker(owner_client, label, owner, keys):
    upload_csv(owner_client, label, CSV_OK)
    response = owner_client.post(
        url(label, "review/"),
        {"upc": THREE_UPCS, "action": "sign", "parts:5036012999037:QZCAT2600301:instrumentation": "partly"},
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    run_worker()
    batch = Batch.objects.get(label=label, kind=Batch.SIGN)
    assert batch.status == Batch.DONE
    assert [r["ok"] for r in batch.results] == [True, True, True]
    for upc in THREE_UPCS:
        release = Release.objects.get(label=label, upc=upc)
        assert release.current_declaration.version == 1
        assert release.current_declaration.declared_by == owner
    night = Release.objects.get(upc="5036012999037").current_declaration.statement
    assert night["tracks"][0]["parts"]["instrumentation"] == "partly"
    assert night["tracks"][0]["voice_likeness"]["consent_reference"] == "Contract VC-2026-07"
    assert not batch_drafts(label)
    page = owner_client.get(response["Location"]).content.decode()
    assert page.count("Signed version 1") == 3


def test_one_failing_release_is_reported_alone_and_the_others_are_signed(owner_client, label, keys, other_label):
    # Another label declared Synthetic Summer's ISRC first: that release alone cannot be signed.
    rival_release = factories.make_release(
        other_label, track_list=[{"isrc": "QZCAT2600201", "title": "Taken", "position": 1}]
    )
    upload_csv(
        owner_client,
        label,
        CSV_OK.replace(b",,none,,yes,Contract", b",,none,none,yes,Contract").replace(
            b"none,partly,none,,none", b"none,partly,none,none,none"
        ),
    )
    factories.declare(rival_release)
    response = owner_client.post(url(label, "review/"), {"upc": THREE_UPCS, "action": "sign"})
    assert response.status_code == 302, response.content.decode()[:3000]
    run_worker()
    batch = Batch.objects.get(label=label, kind=Batch.SIGN)
    outcome = {r["upc"]: r for r in batch.results}
    assert outcome["5036012999020"]["ok"] is False
    assert "another label" in outcome["5036012999020"]["message"]
    assert outcome["5036012999013"]["ok"] and outcome["5036012999037"]["ok"]
    assert Declaration.objects.filter(release__label=label).count() == 2
    assert list(batch_drafts(label)) == ["5036012999020"]  # kept, nothing lost


def test_a_submitter_prepares_but_cannot_sign(submitter_client, label, keys):
    assert upload_csv(submitter_client, label, CSV_OK).status_code == 302
    page = _review(submitter_client, label, THREE_UPCS).content.decode()
    assert "Only an owner of the label signs" in page and 'id="sign-all"' not in page
    response = submitter_client.post(url(label, "review/"), {"upc": THREE_UPCS, "action": "sign"})
    assert response.status_code == 403
    # Answers are the submitter's to give.
    response = submitter_client.post(
        url(label, "review/"),
        {"upc": THREE_UPCS, "action": "save", "parts:5036012999037:QZCAT2600301:instrumentation": "none"},
    )
    assert response.status_code == 302
    assert batch_drafts(label)["5036012999037"]["ai"]["QZCAT2600301"]["parts"]["instrumentation"] == "none"
    assert submitter_client.get(url(label, "withdraw/")).status_code == 403
    assert not Batch.objects.exists()


def test_a_draft_changed_after_review_is_not_signed(owner_client, label, keys):
    upload_csv(owner_client, label, CSV_OK)
    owner_client.post(
        url(label, "review/"),
        {"upc": THREE_UPCS, "action": "sign", "parts:5036012999037:QZCAT2600301:instrumentation": "none"},
    )
    upload_csv(owner_client, label, CSV_OK.replace(b"Harbour Lights,Folk", b"Harbour Lights II,Folk"))
    run_worker()
    outcome = {r["upc"]: r for r in Batch.objects.get(kind=Batch.SIGN).results}
    assert "changed after your review" in outcome["5036012999013"]["message"]
    assert outcome["5036012999020"]["ok"]


def test_bulk_withdraw_needs_a_reason_and_withdraws_each(owner_client, label, keys):
    released = [factories.make_release(label, title=f"R{i}") for i in range(2)]
    for r in released:
        factories.declare(r)
    upcs = [r.upc for r in released]
    response = owner_client.post(url(label, "withdraw/"), {"upc": upcs, "reason": " "})
    assert response.status_code == 400
    response = owner_client.post(url(label, "withdraw/"), {"upc": upcs, "reason": "Rights returned to the artist"})
    assert response.status_code == 302
    run_worker()
    for r in released:
        r.refresh_from_db()
        assert r.current_declaration.status == Declaration.WITHDRAWN
        assert r.current_declaration.reason == "Rights returned to the artist"


# --- privacy and CSRF ---------------------------------------------------------------


def test_another_labels_user_sees_no_drafts_and_no_batches(owner_client, label, rival, other_label, keys):
    upload_csv(owner_client, label, CSV_OK)
    owner_client.post(url(label, "ddex/"), {"files": _named((ERN / "single-43.xml").read_bytes(), "a.xml")})
    batch = Batch.objects.get(label=label)
    rival_client = signed_in(rival)
    for path in ("", "review/?upc=5036012999013", f"{batch.pk}/", "template.csv", "spreadsheet/", "ddex/"):
        assert rival_client.get(url(label, path)).status_code == 404, path
    assert rival_client.post(url(label, "review/"), {"upc": THREE_UPCS, "action": "save"}).status_code == 404
    # Their own batch pages show none of it, and their label's URL with our batch id is a 404.
    page = rival_client.get(url(other_label)).content.decode()
    assert "Harbour Lights" not in page and "Declare" in page
    assert rival_client.get(url(other_label, f"{batch.pk}/")).status_code == 404


def test_every_post_needs_the_csrf_token(owner, label):
    client = Client(enforce_csrf_checks=True)
    client.force_login(owner)
    for path, data in (
        ("spreadsheet/", {"file": _named(CSV_OK, "c.csv")}),
        ("ddex/", {"files": _named(b"<a/>", "a.xml")}),
        ("review/", {"upc": THREE_UPCS, "action": "save"}),
        ("withdraw/", {"upc": THREE_UPCS, "reason": "x"}),
        ("", {"upc": THREE_UPCS, "action": "discard"}),
    ):
        assert client.post(url(label, path), data).status_code == 403, path


def _answer_everything(label: Any, upc: str, level: str = "none") -> dict[str, str]:
    """Review-form answers for every part and artwork a draft leaves open."""
    data = batch_drafts(label)[upc]
    given = {
        f"parts:{upc}:{isrc}:{part}": level
        for isrc, facts in data["ai"].items()
        for part, value in facts["parts"].items()
        if value is None
    }
    if data["artwork"] is None:
        given[f"artwork:{upc}"] = level
    return given


def test_a_redelivered_ern_in_a_batch_becomes_a_new_version_that_needs_a_reason(owner_client, label, keys):
    owner_client.post(url(label, "ddex/"), {"files": _named((ERN / "mixed-ai-432.xml").read_bytes(), "a.xml")})
    run_worker()
    upc = "036000291452"
    answers = _answer_everything(label, upc)
    assert owner_client.post(url(label, "review/"), {"upc": [upc], "action": "sign", **answers}).status_code == 302
    run_worker()
    release = Release.objects.get(label=label, upc=upc)
    assert release.current_declaration.version == 1

    owner_client.post(url(label, "ddex/"), {"files": _named((ERN / "redelivery-432.xml").read_bytes(), "b.xml")})
    run_worker()
    draft = batch_drafts(label)[upc]
    assert draft["mode"] == "amend"
    assert "Track added: QZTST2600104 “Night Ferry”" in draft["changes"]
    page = _review(owner_client, label, [upc]).content.decode()
    assert "Title: “Northern Signals” → “Northern Signals (Deluxe)”" in page
    assert 'name="reason:036000291452"' in page
    answers = _answer_everything(label, upc)
    response = owner_client.post(url(label, "review/"), {"upc": [upc], "action": "sign", **answers})
    assert response.status_code == 400 and "the reason" in response.content.decode()
    response = owner_client.post(
        url(label, "review/"), {"upc": [upc], "action": "sign", f"reason:{upc}": "Deluxe edition re-delivered"}
    )
    assert response.status_code == 302
    run_worker()
    release.refresh_from_db()
    assert release.current_declaration.version == 2
    assert release.title == "Northern Signals (Deluxe)"
    assert release.current_declaration.reason == "Deluxe edition re-delivered"


def test_an_unnamed_ai_persona_is_named_on_review_before_signing(owner_client, label, keys):
    owner_client.post(url(label, "ddex/"), {"files": _named((ERN / "ai-persona-432.xml").read_bytes(), "p.xml")})
    run_worker()
    upc = "5036012345636"
    assert "the AI persona's name" in " ".join(batches.unanswered(batch_drafts(label)[upc]))
    answers = _answer_everything(label, upc, "partly")
    response = owner_client.post(
        url(label, "review/"), {"upc": [upc], "action": "sign", f"persona:{upc}": "Vela", **answers}
    )
    assert response.status_code == 302
    run_worker()
    statement = Release.objects.get(label=label, upc=upc).current_declaration.statement
    assert {"name": "Vela", "persona": "synthetic"}.items() <= next(
        a for a in statement["artists"] if a["name"] == "Vela"
    ).items()


def test_the_batch_page_lists_drafts_in_a_fixed_number_of_queries(
    owner_client, label, keys, django_assert_max_num_queries
):
    upload_csv(owner_client, label, CSV_OK)
    with django_assert_max_num_queries(12):
        response = owner_client.get(url(label))
    assert response.status_code == 200 and response.content.decode().count('name="upc"') == 3


def test_a_redelivery_that_changes_nothing_is_refused_in_the_batch_and_its_draft_kept(owner_client, label, keys):
    owner_client.post(url(label, "ddex/"), {"files": _named((ERN / "mixed-ai-432.xml").read_bytes(), "a.xml")})
    run_worker()
    upc = "036000291452"
    answers = _answer_everything(label, upc)
    assert owner_client.post(url(label, "review/"), {"upc": [upc], "action": "sign", **answers}).status_code == 302
    run_worker()
    owner_client.post(url(label, "ddex/"), {"files": _named((ERN / "mixed-ai-432.xml").read_bytes(), "again.xml")})
    run_worker()
    answers = _answer_everything(label, upc)
    response = owner_client.post(
        url(label, "review/"), {"upc": [upc], "action": "sign", f"reason:{upc}": "Sent again", **answers}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    run_worker()
    batch = Batch.objects.filter(label=label, kind=Batch.SIGN).latest("pk")
    [result] = batch.results
    assert result["ok"] is False
    assert result["message"].startswith("nothing changes from version 1: an amendment must change a declared fact")
    assert Release.objects.get(label=label, upc=upc).current_declaration.version == 1
    assert upc in batch_drafts(label)  # kept: nothing the label prepared is lost


def test_a_stale_draft_is_shown_and_refused_alone_while_the_others_are_signed(owner_client, label, keys):
    upload_csv(owner_client, label, CSV_OK)
    # Meanwhile the first release is declared another way (the single-release pages, the API): version 1.
    factories.declare(factories.make_release(label, upc="5036012999013", title="Declared meanwhile"))
    answered = {"parts:5036012999037:QZCAT2600301:instrumentation": "partly"}
    page = _review(owner_client, label, THREE_UPCS)
    html = page.content.decode()
    assert "Will not be signed in this batch:</strong> Version 1 was signed after this draft was prepared" in html
    assert page.context["ready_count"] == 1  # the stale one is not ready; one part is still open elsewhere

    response = owner_client.post(url(label, "review/"), {"upc": THREE_UPCS, "action": "sign", **answered})
    assert response.status_code == 302, response.content.decode()[:2000]  # the stale draft holds up nobody
    run_worker()
    outcome = {r["upc"]: r for r in Batch.objects.get(label=label, kind=Batch.SIGN).results}
    assert outcome["5036012999013"]["ok"] is False
    assert outcome["5036012999013"]["message"].startswith(
        "Version 1 was signed after this draft was prepared (from an undeclared release)"
    )
    assert outcome["5036012999020"]["ok"] and outcome["5036012999037"]["ok"]
    assert Release.objects.get(label=label, upc="5036012999013").current_declaration.version == 1
    assert list(batch_drafts(label)) == ["5036012999013"]  # kept, to prepare again
