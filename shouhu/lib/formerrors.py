"""The summary of a form's errors at the top of the page (issue 11 §2): how many, and a
link to each field, so that on a phone nobody has to scroll to find what is wrong."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.utils.translation import gettext as _


def error_summary(*parts: forms.BaseForm | forms.BaseFormSet) -> list[dict[str, str]]:  # type: ignore[type-arg]
    """Every error of these forms and formsets, in page order: `anchor` (the field's id),
    `label` (the field, with the row for a formset) and `message`."""
    found: list[dict[str, str]] = []
    for part in parts:
        if isinstance(part, forms.BaseFormSet):
            for message in part.non_form_errors():
                found.append({"anchor": "", "label": "", "message": str(message)})
            for number, form in enumerate(part.forms, start=1):
                found += _of_form(form, row=number)
        else:
            found += _of_form(part)
    return found


def _of_form(form: forms.BaseForm, row: int | None = None) -> list[dict[str, str]]:
    if not form.is_bound:
        return []
    found: list[dict[str, Any]] = []
    for name, messages in form.errors.items():
        if name == NON_FIELD_ERRORS or name not in form.fields:
            anchor, label = "", ""
        else:
            field = form[name]
            # A group of checkboxes has no one id: the first box of the group.
            anchor = field.id_for_label or (f"{field.auto_id}_0" if field.auto_id else "")
            label = str(field.label)
        if row is not None:
            label = _("Row %(row)s: %(field)s") % {"row": row, "field": label} if label else ""
        found += [{"anchor": anchor, "label": label, "message": str(m)} for m in messages]
    return found


def refuse(form: forms.BaseForm, exc: ValidationError) -> None:
    """Put a service's refusal on the form: next to the field it names, else at the top (a
    name the form does not have is never shown as a code)."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.error_dict.items():
            for error in errors:
                form.add_error(name if name in form.fields else None, error)
    else:
        form.add_error(None, exc)


def saved(request: Any, form: Any, message: str) -> bool:
    """Run a valid form's `perform()`; True when it was saved (the message is shown), else
    the service's refusal is put on the form, next to its fields."""
    from django.contrib import messages

    if not form.is_valid():
        return False
    try:
        form.perform()
    except ValidationError as exc:
        refuse(form, exc)
        return False
    messages.success(request, message)
    return True


class _Which(forms.Form):
    form = forms.ChoiceField()


def posted_form(request: Any, names: Iterable[str], *, default: str = "") -> str | None:
    """Which of a page's forms a POST is for: the `form` field, one of `names` (or `default`
    when the POST does not say); None for a GET. A name the page does not offer the user is
    refused (PermissionDenied), never guessed."""
    from django.core.exceptions import PermissionDenied

    if request.method != "POST":
        return None
    data = request.POST if "form" in request.POST or not default else {"form": default}
    which = _Which(data)
    field = which.fields["form"]
    assert isinstance(field, forms.ChoiceField)
    field.choices = [(name, name) for name in names]
    if not which.is_valid():
        raise PermissionDenied
    return str(which.cleaned_data["form"])
