"""Programmes: who runs a programme, takes its roll call and records counselling."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from django.db.models import Q
from django.http import Http404

from shouhu.access.core import _key, _model, _opened_with_children, children_visible_to
from shouhu.access.volunteers import volunteer_gate_closed
from shouhu.accounts.models import Membership, Role, User

if TYPE_CHECKING:
    from shouhu.children.models import Child

__all__ = [
    "PROGRAMME_ROLES",
    "get_programme_for_user",
    "get_project_for_user",
    "get_session_of_programme_for_user",
    "is_case_worker",
    "may_accept_milestone",
    "may_counsel",
    "may_read_counselling",
    "may_record_project",
    "may_run_programme",
    "may_take_roll_call",
    "programmes_visible_to",
    "projects_visible_to",
    "sees_project_rows",
]

# The organisation's people who organise its programmes (never a technology envoy).
PROGRAMME_ROLES = frozenset(
    {Role.SOCIAL_WORKER, Role.COUNSELOR, Role.CHILD_DIRECTOR, Role.SUPERVISOR, Role.TEACHER}
)


def may_run_programme(user: User, organisation_id: int) -> bool:
    """Organise a programme of the organisation: plan its sessions, enrol participants."""
    return Membership.objects.filter(
        user=user, organisation_id=organisation_id, role__in=PROGRAMME_ROLES, active=True
    ).exists()


def may_take_roll_call(user: User, session: Any) -> bool:
    """The organisers, and the session's facilitators (volunteers among them)."""
    return may_run_programme(user, session.programme.organisation_id) or (
        session.facilitators.filter(pk=user.pk).exists() and not volunteer_gate_closed(user)
    )


def may_counsel(user: User, child: Child) -> bool:
    """A counsellor or social worker who sees the child records one-to-one counselling."""
    roles = set(Membership.objects.filter(user=user, active=True).values_list("role", flat=True))
    if not roles & {Role.COUNSELOR, Role.SOCIAL_WORKER}:
        return False
    return children_visible_to(user).filter(pk=child.pk).exists()


def programmes_visible_to(user: User) -> Any:
    """The programmes of the organisations the user organises for, and those whose sessions
    the user facilitates."""
    Programme = _model("programmes", "Programme")
    Session = _model("programmes", "ProgrammeSession")
    orgs = Membership.objects.filter(user=user, active=True, role__in=PROGRAMME_ROLES)
    q = Q(organisation_id__in=orgs.values("organisation_id"))
    if not volunteer_gate_closed(user):  # a volunteer facilitates only when cleared
        q |= Q(pk__in=Session.objects.filter(facilitators=user).values("programme_id"))
    return Programme.objects.filter(q)


def get_programme_for_user(user: User, pk: object, *, purpose: str) -> Any:
    """A programme the user runs or facilitates (404 as a missing one). Its participant list
    names children: the read is logged with each enrolled child."""
    found = programmes_visible_to(user).filter(pk=_key(pk)).first()
    if found is None:
        raise Http404
    children = found.enrolments.filter(child__isnull=False).values_list("child_id", flat=True)
    _opened_with_children(user, found, children, object_type="programme", purpose=purpose)
    return found


# Who reads the projects of their area (aggregates) without funding or running them.
AREA_READERS = frozenset({Role.OFFICIAL, Role.SUPERVISOR})


def projects_visible_to(user: User) -> Any:
    """The projects of the organisations the user works in, as funder or implementer, and,
    for officials and supervisors, the projects serving a place in their jurisdiction
    (aggregates only: a project names no child)."""
    from shouhu.places.models import code_range

    Project = _model("programmes", "Project")
    memberships = Membership.objects.filter(user=user, active=True)
    orgs = memberships.values("organisation_id")
    q = Q(funder_id__in=orgs) | Q(implementer_id__in=orgs)
    for m in memberships.filter(role__in=AREA_READERS).select_related("organisation__jurisdiction"):
        place = m.organisation.jurisdiction
        if place is not None:
            low, high = code_range(place.prefix)
            q |= Q(places__code__gte=low, places__code__lte=high)
    return Project.objects.filter(pk__in=Project.objects.filter(q).values("pk"))


def get_project_for_user(user: User, pk: object) -> Any:
    found = projects_visible_to(user).filter(pk=_key(pk)).first()
    if found is None:
        raise Http404
    return found


def get_session_of_programme_for_user(user: User, pk: object, *, purpose: str) -> Any:
    """A programme's session, to its organisers and facilitators (404 as a missing one); its
    participants are the programme's, logged as read with the programme."""
    Session = _model("programmes", "ProgrammeSession")
    session = Session.objects.filter(pk=_key(pk)).select_related("programme").first()
    if session is None:
        raise Http404
    get_programme_for_user(user, session.programme_id, purpose=purpose)
    return session


def may_record_project(user: User, funder_id: int, implementer_id: int) -> bool:
    """The funder's people (an official of the civil-affairs bureau) or the implementer's
    organisers record a project."""
    return (
        may_run_programme(user, implementer_id)
        or Membership.objects.filter(user=user, organisation_id=funder_id, active=True)
        .exclude(role__in=[Role.VOLUNTEER, Role.TECH_ENVOY])
        .exists()
    )


def sees_project_rows(user: User, project: Any) -> bool:
    """Whether the reader sees the project's participants themselves (the implementer's
    organisers): others get its breakdowns with small counts withheld."""
    return may_run_programme(user, project.implementer_id)


def may_accept_milestone(user: User, project: Any) -> bool:
    """Staged acceptance (阶段验收) is the funder's: its people, never the implementer
    accepting its own work."""
    return (
        Membership.objects.filter(user=user, organisation_id=project.funder_id, active=True)
        .exclude(role__in=[Role.VOLUNTEER, Role.TECH_ENVOY])
        .exists()
    )


def is_case_worker(user: User, child: Any) -> bool:
    """The child's case worker (an active assignment)."""
    Assignment = _model("children", "ChildAssignment")
    return bool(
        Assignment.objects.filter(
            child_id=child.pk, user=user, kind="case_worker", active=True
        ).exists()
    )


def may_read_counselling(user: User, session: Any) -> bool:
    """A counselling session's notes (sensitive): the counsellor who wrote them, and the
    child's case worker."""
    return session.counsellor_id == user.pk or is_case_worker(user, session.child)
