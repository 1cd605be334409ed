from django.contrib import admin

from shouhu.places.models import Place


@admin.register(Place)
class PlaceAdmin(admin.ModelAdmin[Place]):
    list_display = ["code", "name", "level", "full_name"]
    list_filter = ["level"]
    search_fields = ["code", "name"]
    readonly_fields = ["code", "parent"]
