"""What the registry tells the apps above it, so that it never imports them: `screening`
recomputes the risk level, `cases` keeps its cases' area in step (they connect in their
`AppConfig.ready`)."""

from __future__ import annotations

from django.dispatch import Signal

# The registry facts behind the children's risk level or area changed
# (`children`: a sequence of Child).
facts_changed = Signal()
# Children were registered in bulk and need their first risk assessment
# (`children`: a list of Child, saved).
registered_in_bulk = Signal()
# A guardian's consent was withdrawn (`child`: the Child, `consent`: the Consent): what rested
# on it ends (`linkage` ends the shares made on the guardian's consent).
consent_withdrawn = Signal()
