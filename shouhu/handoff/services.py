"""Sending a child's file to another deployment (`handoff_export`, one transaction,
audited): a supervisor of the child's area, a child whose file may be shared (a guardian's
sharing consent in force or a legal basis for sharing: `children.consents.sharing_allowed`),
a trusted peer. The file is signed with the key of the supervisor's organisation and
encrypted to the peer's key (`package.seal`). Receiving is `receiving.py`."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from shouhu import access
from shouhu.accounts.models import User
from shouhu.audit.models import Action
from shouhu.audit.services import log_access
from shouhu.children.consents import sharing_allowed
from shouhu.children.models import Child
from shouhu.handoff import keys
from shouhu.handoff.models import Outgoing, Peer
from shouhu.handoff.package import build_file, seal
from shouhu.lib import clock


@dataclass(frozen=True)
class Exported:
    content: bytes
    file_name: str
    outgoing: Outgoing


@transaction.atomic
def handoff_export(*, actor: User, child: Child, peer: Peer) -> Exported:
    """The child's file as a package for `peer`, signed by the actor's organisation."""
    organisation = access.handoff_organisation(actor, child)
    if organisation is None:
        raise PermissionDenied(_("Only a supervisor of the child's area hands a child off."))
    if peer.revoked_at is not None:
        raise ValidationError({"peer": _("This deployment is no longer trusted.")})
    if not sharing_allowed(child):
        raise ValidationError(
            {
                "consent": _(
                    "No guardian's consent to sharing and no legal basis for sharing is "
                    "recorded for this child: the file cannot be handed off."
                )
            }
        )
    signer = keys.current_signing_key(organisation)
    if signer is None:
        raise ValidationError(
            {
                "peer": _(
                    "%(organisation)s has no signing key yet: ask the administrator to run "
                    "`shouhu keys generate --organisation %(id)s --user USERNAME`."
                )
                % {"organisation": organisation.name, "id": organisation.pk}
            }
        )
    body = build_file(
        child=child,
        organisation=organisation,
        signer_fingerprint=signer.fingerprint,
        deployment=keys.deployment_id(),
        recipient_deployment=peer.deployment,
        recipient_fingerprint=peer.fingerprint,
        actor=actor,
    )
    content = seal(
        body, signing_key=keys.signing_private_key(signer), recipient=keys.peer_public_key(peer)
    )
    outgoing = Outgoing.objects.create(
        package_id=body["package_id"],
        child=child,
        peer=peer,
        organisation=organisation,
        signer_fingerprint=signer.fingerprint,
        created_at=clock.now(),
        created_by=actor,
    )
    log_access(
        user=actor,
        action=Action.EXPORT,
        child_id=child.pk,
        object_type="handoff_package",
        object_id=outgoing.package_id,
        fields=sorted(access.ALL),
        purpose="handoff_export",
        detail={"peer": peer.name, "deployment": peer.deployment, "count": 1},
    )
    return Exported(content, f"handoff-{outgoing.package_id}.json", outgoing)
