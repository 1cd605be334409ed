from django.contrib import admin
from django.urls import include, path

from shouhu.api import api
from shouhu.web.actions import favicon

urlpatterns = [
    path("favicon.ico", favicon),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("shouhu.accounts.urls")),
    path("audit/", include("shouhu.web.audit_urls")),
    path("children/io/", include("shouhu.children.urls_io")),
    path("inbox/", include("shouhu.notify.urls")),
    path("", include("shouhu.screening.urls")),
    path("", include("shouhu.cases.urls")),
    path("", include("shouhu.reunion.urls")),
    path("", include("shouhu.programmes.urls")),
    path("", include("shouhu.volunteers.urls")),
    path("", include("shouhu.aid.urls")),
    path("", include("shouhu.surrogates.urls")),
    path("", include("shouhu.linkage.urls")),
    path("", include("shouhu.handoff.urls")),
    path("", include("shouhu.children.urls")),
]

handler500 = "shouhu.web.errors.server_error"
