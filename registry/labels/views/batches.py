"""Declaring a catalog: spreadsheet and DDEX batch uploads, the label's batch drafts, batch review, signing and withdrawing.

Views parse, call ``registry.labels.batches`` / ``registry.labels.spreadsheet`` and render.
Every member of the label prepares (uploads, answers); only an owner signs and
withdraws. Another label's batch or draft is a 404 (``label_view``).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods

from provenance import vocabulary
from registry.catalog.models import Label, Membership, Release
from registry.declarations.models import Declaration
from registry.errors import DomainError
from registry.labels import archives, batches, spreadsheet, workbook
from registry.labels.models import Batch
from registry.labels.views.access import label_view
from registry.request_limits import accepts_files

RECENT_BATCHES = 20
WITHDRAW_LIST_MAX = 500


def _is_owner(request: HttpRequest) -> bool:
    return request.label_membership.role == Membership.OWNER


def _upcs(request: HttpRequest) -> list[str]:
    source = request.POST if request.method == "POST" else request.GET
    return list(dict.fromkeys(u.strip() for u in source.getlist("upc") if u.strip()))[: batches.REVIEW_MAX]


@label_view()
@require_http_methods(["GET", "POST"])
def batch_home(request: HttpRequest, label: Label) -> HttpResponse:
    """The label's batch drafts (to review, sign or discard), its recent batches, and the two uploads."""
    if request.method == "POST":
        if request.POST.get("action") == "discard":
            n = batches.drafts_discard(label=label, upcs=_upcs(request))
            messages.info(request, f"Discarded {n} draft{'s' if n != 1 else ''}.")
        return redirect("labels:batches", label_id=label.pk)
    rows = [batches.summary(row) for row in batches.label_drafts(label)]
    recent = Batch.objects.filter(label=label).select_related("user")[:RECENT_BATCHES]
    return render(
        request,
        "labels/batch_home.html",
        {"label": label, "drafts": rows, "batches": recent, "is_owner": _is_owner(request)},
    )


@label_view()
@require_GET
def template_csv(request: HttpRequest, label: Label) -> HttpResponse:
    response = HttpResponse(spreadsheet.template_csv(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="catalog-declaration-template.csv"'
    return response


@label_view()
@require_GET
def template_xlsx(request: HttpRequest, label: Label) -> HttpResponse:
    response = HttpResponse(spreadsheet.template_xlsx(), content_type=workbook.CONTENT_TYPE)
    response["Content-Disposition"] = 'attachment; filename="catalog-declaration-template.xlsx"'
    return response


@accepts_files(max_bytes=spreadsheet.MAX_BYTES)
@label_view()
@require_http_methods(["GET", "POST"])
def spreadsheet_upload(request: HttpRequest, label: Label) -> HttpResponse:
    context: dict[str, Any] = {"label": label, "columns": spreadsheet.COLUMNS, "max_rows": spreadsheet.MAX_ROWS}
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            context["error"] = "Choose the CSV or Excel (.xlsx) file to upload."
        elif upload.size > spreadsheet.MAX_BYTES:
            context["error"] = f"The file is over {spreadsheet.MAX_BYTES // 2**20} MB; split it."
        else:
            try:
                done = spreadsheet.import_spreadsheet(label=label, user=request.user, data=upload.read())
            except spreadsheet.SpreadsheetInvalid as exc:
                context.update(
                    problems=spreadsheet.problems_as_dicts(exc),
                    problem_count=len(exc.problems),
                    file_name=upload.name,
                    # The whole report as a download built into the page: nothing of the file is kept to serve it later.
                    report_href="data:text/csv;charset=utf-8," + quote(spreadsheet.report_csv(exc)),
                )
            except DomainError as exc:
                context["error"] = exc.message
            else:
                messages.success(
                    request,
                    f"Read {len(done['upcs'])} release{'s' if len(done['upcs']) != 1 else ''}: "
                    f"{done['created']} new draft{'s' if done['created'] != 1 else ''}, {done['updated']} updated. "
                    "Nothing is signed yet: review them below.",
                )
                query = "&".join(f"upc={u}" for u in done["upcs"])
                return redirect(f"{reverse('labels:batch_review', args=[label.pk])}?{query}")
    return render(request, "labels/batch_spreadsheet.html", context)


@accepts_files(max_bytes=archives.BATCH_MAX_BYTES)
@label_view()
@require_http_methods(["GET", "POST"])
def ddex_upload(request: HttpRequest, label: Label) -> HttpResponse:
    context: dict[str, Any] = {
        "label": label,
        "max_files": archives.BATCH_MAX_FILES,
        "max_mb": archives.BATCH_MAX_BYTES // 2**20,
    }
    if request.method == "POST":
        try:
            files = archives.files_from_uploads(request.FILES.getlist("files"))
            batch = batches.ern_batch_create(label=label, user=request.user, files=files)
        except DomainError as exc:
            context["error"] = exc.message
        else:
            return redirect("labels:batch", label_id=label.pk, batch_id=batch.pk)
    return render(request, "labels/batch_ddex.html", context)


@label_view()
@require_GET
def batch_detail(request: HttpRequest, label: Label, batch_id: int) -> HttpResponse:
    batch = Batch.objects.filter(label=label, pk=batch_id).select_related("user").first()
    if batch is None:
        raise Http404("no such batch")
    done = len(batch.results)
    ok = [r for r in batch.results if r.get("ok")]
    return render(
        request,
        "labels/batch_detail.html",
        {
            "label": label,
            "batch": batch,
            "done": done,
            "percent": int(100 * done / batch.total) if batch.total else 100,
            "ok_count": len(ok),
            "failed_count": done - len(ok),
            "running": batch.status in (Batch.QUEUED, Batch.RUNNING),
            "review_upcs": [r["upc"] for r in ok if r.get("upc")] if batch.kind == Batch.ERN else [],
        },
    )


def _answers(request: HttpRequest, upcs: list[str]) -> dict[str, dict[str, Any]]:
    """The review form's answers by UPC: ``parts:<upc>:<isrc>:<part>``, ``artwork:<upc>``, ``persona:<upc>``, ``reason:<upc>``."""
    answers: dict[str, dict[str, Any]] = {u: {"parts": {}} for u in upcs}
    common_reason = request.POST.get("reason", "")
    for name, value in request.POST.items():
        kind, _, rest = name.partition(":")
        if kind == "parts":
            upc, _, tail = rest.partition(":")
            isrc, _, part = tail.partition(":")
            if upc in answers and value:
                answers[upc]["parts"].setdefault(isrc, {})[part] = value
        elif kind in ("artwork", "persona", "reason") and rest in answers and value:
            answers[rest][kind] = value
    for given in answers.values():
        given.setdefault("reason", common_reason)
    return answers


@label_view()
@require_http_methods(["GET", "POST"])
def batch_review(request: HttpRequest, label: Label) -> HttpResponse:
    """N drafts on one page: what each declares and what is still unanswered; save answers, or (owners) sign all."""
    upcs = _upcs(request)
    errors: list[str] = []
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "sign" and not _is_owner(request):
            raise PermissionDenied("Only an owner of the label signs declarations.")
        changed = batches.answers_save(label=label, user=request.user, answers=_answers(request, upcs))
        if action == "sign":
            rows = batches.label_drafts(label, upcs)
            versions = batches.current_versions(label, [r.data["upc"] for r in rows])
            # A stale draft (another version landed since it was prepared) does not hold up the others:
            # the batch refuses it alone, with the reason the page shows next to it.
            fresh = [r for r in rows if batches.stale(r.data, versions.get(r.data["upc"], 0)) is None]
            not_ready = [
                f"{r.data['catalog']['title']} ({r.data['upc']}): {'; '.join(batches.unanswered(r.data) + batches.blocked(r.data))}"
                for r in fresh
                if batches.unanswered(r.data) or batches.blocked(r.data)
            ]
            if not rows:
                errors.append("Choose the releases to sign.")
            elif not_ready:
                errors += [f"Still to answer before signing — {n}" for n in not_ready]
            else:
                try:
                    batch = batches.sign_batch_create(label=label, user=request.user, rows=rows)
                except DomainError as exc:
                    errors.append(exc.message)
                else:
                    return redirect("labels:batch", label_id=label.pk, batch_id=batch.pk)
        else:
            messages.success(request, f"Saved your answers ({changed} draft{'s' if changed != 1 else ''} changed).")
            query = "&".join(f"upc={u}" for u in upcs)
            return redirect(f"{request.path}?{query}")
    rows = batches.label_drafts(label, upcs)
    versions = batches.current_versions(label, [r.data["upc"] for r in rows])
    summaries = [batches.summary(r, versions.get(r.data["upc"], 0)) for r in rows]
    ready = [s for s in summaries if not s["unanswered"] and not s["blocked"] and not s["stale"]]
    return render(
        request,
        "labels/batch_review.html",
        {
            "label": label,
            "summaries": summaries,
            "ready_count": len(ready),
            "errors": errors,
            "is_owner": _is_owner(request),
            "levels": [(lv, vocabulary.LEVEL_LABELS[lv]) for lv in vocabulary.LEVELS],
            "needs_reason": any(s["data"].get("mode") == "amend" for s in summaries),
        },
        status=400 if errors else 200,
    )


@label_view(owner=True)
@require_http_methods(["GET", "POST"])
def batch_withdraw(request: HttpRequest, label: Label) -> HttpResponse:
    """Withdraw the declarations of selected releases, with one reason (each is its own signed version)."""
    error = None
    if request.method == "POST":
        try:
            batch = batches.withdraw_batch_create(
                label=label, user=request.user, upcs=_upcs(request), reason=request.POST.get("reason", "")
            )
        except DomainError as exc:
            error = exc.message
        else:
            return redirect("labels:batch", label_id=label.pk, batch_id=batch.pk)
    declared = (
        Release.objects.filter(label=label, current_declaration__status=Declaration.ACTIVE)
        .select_related("current_declaration")
        .order_by("title", "upc")[:WITHDRAW_LIST_MAX]
    )
    return render(
        request,
        "labels/batch_withdraw.html",
        {"label": label, "releases": declared, "error": error, "chosen": set(_upcs(request))},
        status=400 if error else 200,
    )
