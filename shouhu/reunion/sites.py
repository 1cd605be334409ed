"""Sites and people of the online reunions: sites with their opening hours and devices,
facilitators and their availability, enrolling children, and parents' weekly windows.
A change that takes a device or a facilitator away re-plans the coming sessions it
affects (`replanning`)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shouhu import access
from shouhu.accounts.models import Organisation, User
from shouhu.children.models import Child, FamilyMember
from shouhu.lib import clock
from shouhu.places.models import Place
from shouhu.reunion.models import (
    Channel,
    Device,
    DeviceStatus,
    Facilitator,
    ParentAvailability,
    Participant,
    Session,
    SessionStatus,
    Site,
    SiteKind,
    Window,
)
from shouhu.reunion.replanning import Replanned, future_on_device, replan, uncovered
from shouhu.reunion.selectors import enrol_sites, facilitator_candidates, parent_phone, site_area
from shouhu.reunion.windows import parse_windows


def _overlaps(parsed: Sequence[tuple[int, dt.time, dt.time]], where: str) -> None:
    """A site's openings may touch but not overlap on one day (slots would overlap)."""
    ordered = sorted(parsed)
    for (d1, _s1, e1), (d2, s2, _e2) in itertools.pairwise(ordered):
        if d1 == d2 and s2 < e1:
            raise ValidationError({where: [_("Two opening hours overlap on the same day.")]})


def _site_fields(
    *, name: str, place: Place | None, kind: str, organisation: Organisation
) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not name.strip():
        errors["name"] = [_("Name the site.")]
    if kind not in SiteKind.values:
        errors["kind"] = [_("Choose one of the listed values.")]
    if place is None:
        errors["place"] = [_("Choose the place.")]
    elif not place.code.startswith(site_area(organisation)):
        errors["place"] = [_("The site must be in the organisation's county.")]
    return errors


@transaction.atomic
def site_create(
    *,
    actor: User,
    organisation: Organisation,
    name: str,
    place: Place | None,
    openings: Sequence[dict[str, Any]],
    devices: int = 0,
    kind: str = SiteKind.SCHOOL,
    address: str = "",
) -> Site:
    """A new site of the organisation with `devices` working tablets (more are added on the
    site's page; a site without a usable device is simply left out of the plan)."""
    if not access.may_create_site(actor, organisation):
        raise PermissionDenied(_("Sites are managed by their organisation."))
    errors = _site_fields(name=name, place=place, kind=kind, organisation=organisation)
    if not 0 <= devices <= 50:
        errors["devices"] = [_("Between 0 and 50.")]
    if errors or place is None:
        raise ValidationError(errors)
    parsed = parse_windows(openings, "open")
    _overlaps(parsed, "open")
    site = Site.objects.create(
        organisation=organisation,
        name=name.strip()[:200],
        place=place,
        kind=kind,
        address=address.strip()[:300],
    )
    Device.objects.bulk_create(Device(site=site, label=f"{i + 1}") for i in range(devices))
    Window.objects.bulk_create(Window(site=site, day=d, start=s, end=e) for d, s, e in parsed)
    return site


@transaction.atomic
def site_update(
    *,
    actor: User,
    site: Site,
    name: str | None = None,
    place: Place | None = None,
    kind: str | None = None,
    address: str | None = None,
    active: bool | None = None,
    openings: Sequence[dict[str, Any]] | None = None,
) -> Site:
    """Change a site; None leaves a field as it is. New opening hours apply from the next
    plan (sessions already planned stay)."""
    if not access.manages_site(actor, site):
        raise PermissionDenied(_("Sites are managed by their organisation."))
    errors = _site_fields(
        name=site.name if name is None else name,
        place=site.place if place is None else place,
        kind=site.kind if kind is None else kind,
        organisation=site.organisation,
    )
    if errors:
        raise ValidationError(errors)
    if name is not None:
        site.name = name.strip()[:200]
    if place is not None:
        site.place = place
    if kind is not None:
        site.kind = kind
    if address is not None:
        site.address = address.strip()[:300]
    if active is not None:
        site.active = active
    site.save()
    if openings is not None:
        parsed = parse_windows(openings, "open")
        _overlaps(parsed, "open")
        site.openings.all().delete()
        Window.objects.bulk_create(Window(site=site, day=d, start=s, end=e) for d, s, e in parsed)
    return site


def _device_fields(label: str, kind: str, status: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not label.strip() or len(label.strip()) > 50:
        errors["label"] = [_("Give the device a short label.")]
    if not kind.strip() or len(kind.strip()) > 50:
        errors["kind"] = [_("Say what kind of device it is.")]
    if status not in DeviceStatus.values:
        errors["status"] = [_("Choose one of the listed values.")]
    return errors


@transaction.atomic
def device_add(
    *,
    actor: User,
    site: Site,
    label: str,
    kind: str = "tablet",
    status: str = DeviceStatus.WORKING,
) -> Device:
    if not access.manages_site(actor, site):
        raise PermissionDenied(_("Sites are managed by their organisation."))
    errors = _device_fields(label, kind, status)
    if not errors and site.devices.filter(label=label.strip()).exists():
        errors["label"] = [_("The site already has a device with this label.")]
    if errors:
        raise ValidationError(errors)
    return Device.objects.create(site=site, label=label.strip(), kind=kind.strip(), status=status)


@transaction.atomic
def device_update(
    *,
    actor: User,
    device: Device,
    label: str | None = None,
    kind: str | None = None,
    status: str | None = None,
    now: dt.datetime | None = None,
) -> Device:
    """Change a device; taking it out of order (broken, retired) moves its coming sessions
    like a fault ticket does."""
    if not access.manages_site(actor, device.site):
        raise PermissionDenied(_("Sites are managed by their organisation."))
    label = device.label if label is None else label
    kind = device.kind if kind is None else kind
    status = device.status if status is None else status
    errors = _device_fields(label, kind, status)
    if (
        not errors
        and device.site.devices.filter(label=label.strip()).exclude(pk=device.pk).exists()
    ):
        errors["label"] = [_("The site already has a device with this label.")]
    if errors:
        raise ValidationError(errors)
    was_working = device.status == DeviceStatus.WORKING
    device.label, device.kind, device.status = label.strip(), kind.strip(), status
    device.save()
    if was_working and status != DeviceStatus.WORKING:
        now = now or clock.now()
        replan(future_on_device(device, now), reason=gettext_lazy("device out of order"), now=now)
    return device


@transaction.atomic
def facilitator_set(
    *, actor: User, site: Site, user: User, available: Sequence[dict[str, Any]]
) -> Facilitator:
    """Add a facilitator to the site (or change their availability)."""
    if not access.manages_site(actor, site):
        raise PermissionDenied(_("Sites are managed by their organisation."))
    if not facilitator_candidates(site).filter(pk=user.pk).exists():
        raise ValidationError(
            {"user": [_("Only teachers, cadres and volunteers of the county run a site.")]}
        )
    refusal = access.volunteer_refusal(user)
    if refusal:
        raise ValidationError({"user": [refusal]})
    parsed = parse_windows(available, "available")
    facilitator, _created = Facilitator.objects.update_or_create(
        site=site, user=user, defaults={"active": True}
    )
    facilitator.windows.all().delete()
    Window.objects.bulk_create(
        Window(facilitator=facilitator, day=d, start=s, end=e) for d, s, e in parsed
    )
    return facilitator


@transaction.atomic
def facilitator_remove(
    *, actor: User, facilitator: Facilitator, now: dt.datetime | None = None
) -> Replanned:
    """The facilitator no longer runs the site; coming sessions nobody else can run move."""
    now = now or clock.now()
    site = facilitator.site
    if not access.manages_site(actor, site):
        raise PermissionDenied(_("Sites are managed by their organisation."))
    facilitator.active = False
    facilitator.save(update_fields=["active"])
    others = list(site.facilitators.filter(active=True).prefetch_related("windows"))
    coming = Session.objects.filter(site=site, status=SessionStatus.PLANNED, starts_at__gt=now)
    return replan(uncovered(site, coming, others), reason=gettext_lazy("facilitator left"), now=now)


@transaction.atomic
def participant_set(
    *,
    actor: User,
    child: Child,
    sites: Sequence[Site],
    sessions_per_week: int = 1,
    priority: int = 3,
    active: bool = True,
) -> Participant:
    """Enrol a child (or change or end the enrolment); open the child with
    `access.get_child_for_user` first."""
    if not access.may_enrol(actor, child):
        raise PermissionDenied(_("You do not work with this child."))
    errors: dict[str, list[str]] = {}
    if not 0 <= sessions_per_week <= 7:
        errors["sessions_per_week"] = [_("Between 0 and 7.")]
    if priority not in (1, 2, 3):
        errors["priority"] = [_("1 (highest) to 3.")]
    reachable = set(enrol_sites(child).values_list("pk", flat=True))
    if active and (not sites or any(s.pk not in reachable for s in sites)):
        errors["sites"] = [_("Choose at least one active site of the child's county.")]
    if errors:
        raise ValidationError(errors)
    participant, _created = Participant.objects.update_or_create(
        child=child,
        defaults={
            "sessions_per_week": sessions_per_week,
            "priority": priority,
            "active": active,
        },
    )
    if active:
        participant.sites.set(sites)
    return participant


@transaction.atomic
def parent_availability_set(
    *,
    actor: User,
    member: FamilyMember,
    windows: Sequence[dict[str, Any]],
    channel: str = "wechat",
    phone: str | None = None,
    now: dt.datetime | None = None,
) -> ParentAvailability:
    """Set a parent's weekly windows and preferred channel (the child director or a
    facilitator, after a phone call). A new `phone` is stored encrypted through the registry
    (`children.editing.member_update`), so only those who edit the family's registration
    change it."""
    if not access.may_edit_parent(actor, member):
        raise PermissionDenied(_("You may not change this parent's availability."))
    if channel not in Channel.values:
        raise ValidationError({"channel": [_("Choose one of the listed values.")]})
    parsed = parse_windows(windows, "windows")
    if phone is not None and _normal_phone(phone) != parent_phone(member):
        if not access.can_edit_household(actor, member.household_id):
            raise PermissionDenied(_("Only those who edit the family's registration change it."))
        from shouhu.children.editing import member_update

        member_update(actor=actor, member=member, changes={"phone": phone.strip()})
    availability, _created = ParentAvailability.objects.update_or_create(
        member=member,
        defaults={"channel": channel, "updated_at": now or clock.now(), "updated_by": actor},
    )
    availability.windows.all().delete()
    Window.objects.bulk_create(
        Window(parent=availability, day=d, start=s, end=e) for d, s, e in parsed
    )
    return availability


def _normal_phone(phone: str) -> str:
    from shouhu.lib import protect

    return protect.normalize_phone(phone) if phone.strip() else ""
