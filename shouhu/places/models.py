"""Administrative divisions: province → city → county → township → village, 12-digit codes.

A subtree is a code range: everything under county 341524 has a code between
341524000000 and 341524999999, so subtree queries use the primary-key index on any database.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.IntegerChoices):
    PROVINCE = 1, _("Province")
    CITY = 2, _("City")
    COUNTY = 3, _("County")
    TOWNSHIP = 4, _("Township")
    VILLAGE = 5, _("Village")


# Significant digits of a code at each level.
LEVEL_DIGITS = {
    Level.PROVINCE: 2,
    Level.CITY: 4,
    Level.COUNTY: 6,
    Level.TOWNSHIP: 9,
    Level.VILLAGE: 12,
}


def code_range(prefix: str) -> tuple[str, str]:
    """The inclusive 12-digit code range of the subtree under `prefix`."""
    return prefix.ljust(12, "0"), prefix.ljust(12, "9")


def in_subtree(prefix: str, code: str) -> bool:
    """The 12-digit `code` lies under `prefix` (the place itself included)."""
    low, high = code_range(prefix)
    return low <= code <= high


def ancestor_codes(code: str) -> list[str]:
    """The 12-digit codes of the province, city, county, township and village of `code`: the
    jurisdictions an organisation over that place may have."""
    return [code[:n].ljust(12, "0") for n in LEVEL_DIGITS.values()]


class PlaceQuerySet(models.QuerySet["Place"]):
    def within(self, place: Place) -> PlaceQuerySet:
        return self.filter(code__range=code_range(place.prefix))

    def at_level(self, level: int) -> PlaceQuerySet:
        return self.filter(level=level)


class Place(models.Model):
    code = models.CharField(_("code"), max_length=12, primary_key=True)
    name = models.CharField(_("name"), max_length=100)
    level = models.PositiveSmallIntegerField(_("level"), choices=Level.choices)
    parent = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="children"
    )
    # Full name from the province down ("安徽省 六安市 霍邱县"), for display and search.
    full_name = models.CharField(_("full name"), max_length=300, blank=True)
    edition = models.PositiveSmallIntegerField(_("edition"), default=2023)

    objects = PlaceQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        verbose_name = _("place")
        verbose_name_plural = _("places")
        indexes = [models.Index(fields=["level", "name"], name="place_level_name")]

    def __str__(self) -> str:
        return self.name

    @property
    def prefix(self) -> str:
        return self.code[: LEVEL_DIGITS[Level(self.level)]]

    @property
    def county_code(self) -> str:
        return self.code[:6]

    def contains(self, code: str) -> bool:
        low, high = code_range(self.prefix)
        return low <= code <= high

    @property
    def is_city_district(self) -> bool:
        return self.level == Level.COUNTY and self.name.endswith("区")
