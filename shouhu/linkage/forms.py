"""Forms of the linkage pages: they collect, the services decide (`lib.formerrors`)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from shouhu import access
from shouhu.accounts.models import Organisation, User
from shouhu.children.models import Child
from shouhu.linkage import reviews, sharing
from shouhu.linkage.models import Basis, Candidate, Fields, Share, Verdict

TEXT = forms.Textarea(attrs={"rows": 3})


class DecisionForm(forms.Form):
    verdict = forms.ChoiceField(
        label=_("Decision"), choices=Verdict.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(label=_("Reason"), max_length=reviews.REASON_MAX, widget=TEXT)

    def __init__(self, data: Any = None, *, user: User, candidate: Candidate) -> None:
        super().__init__(data)
        self.user, self.candidate = user, candidate

    def perform(self) -> None:
        reviews.decide(
            actor=self.user,
            candidate=self.candidate,
            verdict=self.cleaned_data["verdict"],
            reason=self.cleaned_data["reason"],
        )


class ShareForm(forms.Form):
    organisation = forms.ModelChoiceField(
        label=_("Share with"), queryset=Organisation.objects.none(), empty_label=None
    )
    basis = forms.ChoiceField(label=_("Basis"), choices=Basis.choices, widget=forms.RadioSelect)
    extent = forms.ChoiceField(
        label=_("What is shared"), choices=Fields.choices, initial=Fields.BASIC
    )
    note = forms.CharField(
        label=_("Note on the basis"),
        required=False,
        max_length=sharing.NOTE_MAX,
        widget=TEXT,
        help_text=_("For the child's own request: what the child asked, and when."),
    )

    def __init__(self, data: Any = None, *, user: User, candidate: Candidate, child: Child) -> None:
        super().__init__(data)
        self.user, self.candidate, self.child = user, candidate, child
        organisations = access.share_organisations_for(candidate, child)
        field = self.fields["organisation"]
        assert isinstance(field, forms.ModelChoiceField)
        field.queryset = Organisation.objects.filter(pk__in=[o.pk for o in organisations])

    def perform(self) -> None:
        d = self.cleaned_data
        sharing.share_create(
            actor=self.user,
            candidate=self.candidate,
            child=self.child,
            organisation=d["organisation"],
            basis=d["basis"],
            fields=d["extent"],
            note=d["note"],
        )


class ShareEndForm(forms.Form):
    reason = forms.CharField(label=_("Why is the share ended?"), max_length=1000, widget=TEXT)

    def __init__(self, data: Any = None, *, user: User, share: Share) -> None:
        super().__init__(data)
        self.user, self.share = user, share

    def perform(self) -> None:
        sharing.share_end(actor=self.user, share=self.share, reason=self.cleaned_data["reason"])
