"""On the child's page: the child's records in other places (a confirmed link), where the
child lives now or comes from, the services on both sides, the shares of the file and the
link to share it (registered with `children.panels`)."""

from __future__ import annotations

from typing import Any

from shouhu import access
from shouhu.children.panels import Page
from shouhu.linkage import selectors


def linkage_panel(page: Page) -> dict[str, Any]:
    links = selectors.links_of(page.user, page.child)
    if not links:
        return {}
    labels = selectors.service_labels()
    for link in links:
        link["here"] = [f"{n} {labels[k]}" for k, n in link["services"]["here"].items()]
        link["there"] = [f"{n} {labels[k]}" for k, n in link["services"]["there"].items()]
    may_share = access.may_share_child(page.user, page.child)
    endable = {
        s.pk
        for link in links
        for s in link["shares"]
        if s.active and access.may_end_share(page.user, s)
    }
    if not may_share:  # the shares (their basis may quote the child) for their keepers only
        for link in links:
            link["shares"] = [s for s in link["shares"] if s.pk in endable]
    return {"linkage": {"links": links, "may_share": may_share, "endable": endable}}
