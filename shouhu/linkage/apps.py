from django.apps import AppConfig


class LinkageConfig(AppConfig):
    name = "shouhu.linkage"
    label = "linkage"
    verbose_name = "Record linkage"

    def ready(self) -> None:
        from shouhu import access
        from shouhu.children import panels, selectors
        from shouhu.children.signals import consent_withdrawn
        from shouhu.linkage.models import Candidate, Decision, Share
        from shouhu.linkage.panels import linkage_panel
        from shouhu.linkage.sharing import consent_withdrawn as end_consented_shares

        panels.register(linkage_panel)
        consent_withdrawn.connect(end_consented_shares, weak=False)
        # In the child's history: the link, the reviewers' decisions, the shares.
        for object_type, model in (
            ("candidate", Candidate),
            ("decision", Decision),
            ("share", Share),
        ):
            selectors.register_history(
                object_type, model, {f.name: access.BASIC for f in model._meta.concrete_fields}
            )
