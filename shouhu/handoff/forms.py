"""One form per action of the hand-off pages (STYLE 15): each shapes what was typed and
hands it to the one service that decides (`handoff.services`), whose refusals land next to
the field they name (`lib.formerrors.saved`)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from shouhu.accounts.models import User
from shouhu.children.models import Child
from shouhu.handoff import keys, receiving, services
from shouhu.handoff.models import Incoming, Peer
from shouhu.handoff.package import MAX_PACKAGE_BYTES


class _PeerChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} ({obj.deployment})"


class ExportForm(forms.Form):
    """Hand a child's file to a trusted deployment."""

    peer = _PeerChoice(
        label=_("Send to"),
        queryset=Peer.objects.none(),
        empty_label=_("Choose a trusted deployment"),
    )

    def __init__(self, data: Any = None, *, user: User, child: Child) -> None:
        super().__init__(data)
        self.user, self.child = user, child
        field = self.fields["peer"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = keys.active_peers()

    def perform(self) -> services.Exported:
        self.saved = services.handoff_export(
            actor=self.user, child=self.child, peer=self.cleaned_data["peer"]
        )
        return self.saved


class ImportForm(forms.Form):
    """Receive a package into a village of the importer's area."""

    file = forms.FileField(label=_("Hand-off package"))
    village = forms.CharField(
        label=_("Village code"),
        max_length=12,
        min_length=12,
        help_text=_("The 12-digit code of the village where the child now lives."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    def __init__(self, data: Any = None, files: Any = None, *, user: User) -> None:
        super().__init__(data, files)
        self.user = user

    def clean_file(self) -> bytes:
        upload = self.cleaned_data["file"]
        if upload.size > MAX_PACKAGE_BYTES:
            raise forms.ValidationError(_("This file is too large to be a hand-off package."))
        content: bytes = upload.read()
        return content

    def perform(self) -> Incoming:
        d = self.cleaned_data
        self.saved = receiving.handoff_import(
            actor=self.user, data=d["file"], village_code=d["village"]
        )
        return self.saved


class RegisterForm(forms.Form):
    """The reviewer: the package is a child not registered here."""

    prefix = "register"

    def __init__(self, data: Any = None, *, user: User, incoming: Incoming) -> None:
        super().__init__(data, prefix=self.prefix)
        self.user, self.incoming = user, incoming

    def perform(self) -> Child:
        self.saved = receiving.incoming_register(actor=self.user, incoming=self.incoming)
        return self.saved


class _ChildChoice(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.name} · {obj.birth_date.isoformat()} · {obj.residence.name}"


class AttachForm(forms.Form):
    """The reviewer: the package is this registered child."""

    prefix = "attach"
    child = _ChildChoice(
        label=_("Registered child"), queryset=Child.objects.none(), empty_label=None
    )

    def __init__(
        self, data: Any = None, *, user: User, incoming: Incoming, candidates: Any
    ) -> None:
        super().__init__(data, prefix=self.prefix)
        self.user, self.incoming = user, incoming
        field = self.fields["child"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = candidates

    def perform(self) -> Incoming:
        self.saved = receiving.incoming_attach(
            actor=self.user, incoming=self.incoming, child=self.cleaned_data["child"]
        )
        return self.saved
