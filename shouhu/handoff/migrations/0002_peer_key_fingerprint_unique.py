"""A verify key is trusted for one peer only (the signer of a package is never ambiguous)."""

from typing import Any

from django.db import migrations, models
from django.db.models import Count


def refuse_shared_keys(apps: Any, schema_editor: Any) -> None:
    """Stop with the fingerprints to settle by hand (revoke, then remove the row of the peer
    that should not have the key) rather than fail on the constraint."""
    PeerKey = apps.get_model("handoff", "PeerKey")
    shared = list(
        PeerKey.objects.values("fingerprint")
        .annotate(n=Count("id"))
        .filter(n__gt=1)
        .values_list("fingerprint", flat=True)
    )
    if shared:
        raise RuntimeError(
            "These verify keys are trusted for more than one peer; keep each for one peer "
            "only before migrating: " + ", ".join(sorted(shared))
        )


class Migration(migrations.Migration):
    dependencies = [
        ("handoff", "0001_keys_peers_and_packages"),
    ]

    operations = [
        migrations.RunPython(refuse_shared_keys, migrations.RunPython.noop),
        migrations.RemoveConstraint(
            model_name="peerkey",
            name="handoff_peer_key_once",
        ),
        migrations.AddConstraint(
            model_name="peerkey",
            constraint=models.UniqueConstraint(
                fields=("fingerprint",), name="handoff_peer_key_fingerprint_once"
            ),
        ),
    ]
