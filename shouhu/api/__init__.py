"""REST API under /api/v1/ (django-ninja): bearer tokens, the registry of children.

Every endpoint goes through the same access module, selectors and services as the web UI;
every error is JSON (see `errors`).
"""

from ninja import NinjaAPI

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
