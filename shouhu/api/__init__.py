"""REST API under /api/v1/ (django-ninja): bearer tokens, the registry of children.

Every endpoint goes through the same access module, selectors and services as the web UI;
every error is JSON (see `errors`).
"""

from django.http import Http404, HttpRequest
from ninja import NinjaAPI, Router

from shouhu.api import (
    aid,
    alerts,
    auth,
    cases,
    children,
    errors,
    inbox,
    linkage,
    programmes,
    project_reports,
    reunion,
    screening,
    surrogates,
    volunteers,
)

api = NinjaAPI(
    title="Shouhu API",
    version="1",
    description=(
        "The Shouhu registry, with the same access rules as the web pages.\n\n"
        "**Tokens.** Get one from `POST /auth/token` and send it as "
        "`Authorization: Bearer <token>`. Tokens expire, and `DELETE /auth/token` revokes "
        "the one sent. Failed attempts count towards the login lockout (429).\n\n"
        "**Scope.** You see the children your roles cover. A child you may not see is 404, "
        "exactly like one that does not exist. Identifying fields are masked, sensitive ones "
        "too above your role's ceiling; `reveal` shows them and is logged. Every read of a "
        "file and every list call is written to the access log.\n\n"
        '**Errors** are JSON: `{"detail": "...", "errors": {"field.path": '
        '["message"]}}`; `errors` is present for invalid input (400) and names each field '
        "by its path in the request (`name`, `members.0.away_since`, "
        "`household.village_code`). A stale `version` is 409, and so is a registration "
        "that may duplicate a child already registered."
    ),
    urls_namespace="api",
    auth=auth.BearerToken(),
)
errors.install(api)
api.add_router("/auth", auth.router)
api.add_router("/children", children.router)
api.add_router("", screening.router)
api.add_router("/alerts", alerts.router)
api.add_router("", cases.router)
api.add_router("", reunion.router)
api.add_router("", inbox.router)
api.add_router("", programmes.router)
api.add_router("", project_reports.router)
api.add_router("", volunteers.router)
api.add_router("", aid.router)
api.add_router("", surrogates.router)
api.add_router("", linkage.router)

# Last: any other path under /api/v1/ is a JSON 404, not the HTML page of the web UI.
fallback = Router()


@fallback.api_operation(
    ["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:rest}", auth=None, include_in_schema=False
)
def not_found(request: HttpRequest, rest: str) -> None:
    raise Http404


api.add_router("", fallback)
