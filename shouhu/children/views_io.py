"""Import and export pages: thin views over `importing` and `exporting`."""

from __future__ import annotations

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods

from shouhu.accounts.models import User
from shouhu.children import exporting, importing
from shouhu.children.exporting import XLSX
from shouhu.children.views import filters_from


class ImportForm(forms.Form):
    file = forms.FileField(label=_("File (.xlsx or .csv)"))
    dry_run = forms.BooleanField(label=_("Only check the file, import nothing"), required=False)


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _require_importer(user: User) -> None:
    if not importing.can_import(user):
        raise PermissionDenied(_("Only child directors and supervisors import children."))


@login_required
@require_http_methods(["GET", "POST"])
def import_view(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    _require_importer(user)
    report = None
    form = ImportForm(request.POST, request.FILES) if request.method == "POST" else ImportForm()
    if form.is_bound and form.is_valid():
        upload = form.cleaned_data["file"]
        report = importing.import_children_file(
            actor=user,
            file=upload,
            file_name=upload.name or "",
            dry_run=form.cleaned_data["dry_run"],
        )
        form = ImportForm()
    return render(request, "children/import.html", {"form": form, "report": report})


@login_required
@require_GET
def template_view(request: HttpRequest) -> HttpResponse:
    _require_importer(_user(request))
    response = HttpResponse(importing.template_workbook(), content_type=XLSX)
    response["Content-Disposition"] = 'attachment; filename="shouhu-children-template.xlsx"'
    return response


@login_required
@require_GET
def export_view(request: HttpRequest) -> HttpResponse:
    include = request.GET.get("include", "")
    if include not in ("", "basic", "identifying"):
        return render(
            request, "children/export_error.html", {"message": _("Unknown field set.")}, status=400
        )
    try:
        result = exporting.export_children(
            user=_user(request),
            filters=filters_from(request),
            include_identifying=include == "identifying",
        )
    except exporting.ExportTooLarge as exc:
        return render(request, "children/export_error.html", {"message": str(exc)}, status=400)
    response = HttpResponse(result.content, content_type=XLSX)
    response["Content-Disposition"] = f'attachment; filename="{result.file_name}"'
    return response
