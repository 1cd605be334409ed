"""Division loading and subtree queries."""

from __future__ import annotations

import gzip

import pytest
from django.core.management import CommandError, call_command

from shouhu.places.models import Level, Place, code_range
from shouhu.places.services import PlaceFileError, places_load

pytestmark = pytest.mark.django_db


def test_vendored_places_cover_every_county_and_the_demo_villages() -> None:
    assert Place.objects.filter(level=Level.COUNTY).count() == 2978
    county = Place.objects.get(pk="341524000000")
    assert county.full_name == "安徽省 六安市 金寨县"
    assert Place.objects.within(county).filter(level=Level.VILLAGE).count() == 232
    village = Place.objects.get(pk="341524101204")
    assert village.parent_id == "341524101000" and county.contains(village.code)
    assert not county.contains("440306017001")


def test_code_range_is_the_subtree() -> None:
    assert code_range("3415") == ("341500000000", "341599999999")


def test_municipal_districts_skip_the_placeholder_city_name() -> None:
    assert Place.objects.get(pk="110101000000").full_name == "北京市 东城区"


def test_loading_is_an_idempotent_upsert(tmp_path) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "villages.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write("code,name,streetCode,provinceCode,cityCode,areaCode\n")
        f.write('341524101999,"新村",341524101,34,3415,341524\n')
    before = Place.objects.count()
    assert places_load(path) == 1
    assert places_load(path) == 1
    assert Place.objects.count() == before + 1
    assert Place.objects.get(pk="341524101999").full_name.endswith("麻埠镇 新村")


def test_bad_rows_and_orphans_are_refused_with_the_row(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.csv"
    bad.write_text("code,name\n34152410199,x\n", encoding="utf-8")
    with pytest.raises(PlaceFileError, match="row 2"):
        places_load(bad)
    orphan = tmp_path / "orphan.csv"
    orphan.write_text("code,name\n999999001001,x\n", encoding="utf-8")
    with pytest.raises(PlaceFileError, match="parent"):
        places_load(orphan)
    with pytest.raises(CommandError):
        call_command("places", "load", str(orphan))
