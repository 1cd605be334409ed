"""REST API under /api/v1/ (django-ninja): bearer tokens, the registry of children.

Every endpoint goes through the same access module, selectors and services as the web UI;
every error is JSON (see `errors`).
"""

from django.http import Http404, HttpRequest
from ninja import NinjaAPI, Router

from shouhu.api import auth, children, errors

api = NinjaAPI(
    title="Shouhu API",
    version="1",
    description=(
        "The Shouhu registry. Get a token from `POST /auth/token` and send it as "
        "`Authorization: Bearer <token>`."
    ),
    urls_namespace="api",
    auth=auth.BearerToken(),
)
errors.install(api)
api.add_router("/auth", auth.router)
api.add_router("/children", children.router)

# Last: any other path under /api/v1/ is a JSON 404, not the HTML page of the web UI.
fallback = Router()


@fallback.api_operation(
    ["GET", "POST", "PUT", "PATCH", "DELETE"], "/{path:rest}", auth=None, include_in_schema=False
)
def not_found(request: HttpRequest, rest: str) -> None:
    raise Http404


api.add_router("", fallback)
