"""The HTTP API root: one NinjaAPI, each app's router mounted under /api/v1/<app>/, one error mapping."""

from __future__ import annotations

from django.http import Http404, HttpRequest
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth

from fabrika.core.errors import DomainError
from fabrika.core.tokens import api_token_authenticate

PROBLEM_JSON = "application/problem+json"


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        user = api_token_authenticate(token)
        if user is not None:
            request.user = user
        return user


class TokenHeaderAuth(APIKeyHeader):
    """`X-API-Token: fk_...` for clients that cannot set Authorization."""

    param_name = "X-API-Token"

    def authenticate(self, request: HttpRequest, key: str | None):
        user = api_token_authenticate(key or "")
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="Fabrika API",
    version="1",
    urls_namespace="api",
    auth=[TokenAuth(), TokenHeaderAuth(), SessionAuth(csrf=True)],
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def problem(request: HttpRequest, *, status: int, title: str, detail: str = "", code: str = "", errors=None, **extra):
    body = {"type": f"https://fabrika.dev/problems/{code or status}", "title": title, "status": status, "detail": detail}
    if code:
        body["code"] = code
    if errors:
        body["errors"] = errors
    body.update(extra)
    response = api.create_response(request, body, status=status)
    response["Content-Type"] = PROBLEM_JSON
    return response


@api.exception_handler(DomainError)
def _domain_error(request, exc: DomainError):
    return problem(
        request, status=exc.status, title=exc.message, detail=exc.message, code=exc.code, errors=exc.field_errors() or None
    )


@api.exception_handler(NinjaValidationError)
def _validation_error(request, exc: NinjaValidationError):
    errors: dict[str, list[str]] = {}
    for item in exc.errors:
        location = [str(p) for p in item.get("loc", []) if p not in ("body", "query", "path", "payload", "form")]
        errors.setdefault(".".join(location) or "__all__", []).append(item.get("msg", "invalid"))
    return problem(request, status=422, title="Invalid input", detail="Some fields are invalid", code="validation_error", errors=errors)


@api.exception_handler(AuthenticationError)
def _auth_error(request, exc):
    return problem(request, status=401, title="Authentication required", code="not_authenticated")


@api.exception_handler(Http404)
def _not_found(request, exc):
    return problem(request, status=404, title="Not found", detail=str(exc), code="not_found")


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    return problem(request, status=exc.status_code, title=str(exc), code=str(exc.status_code))


def _mount_routers() -> None:
    from fabrika.core.api import router as core_router
    from fabrika.parties.api import router as parties_router

    from fabrika.core.api_access import router as access_router
    from fabrika.core.api_custom_fields import router as custom_fields_router
    from fabrika.core.api_events import router as events_router
    from fabrika.core.api_imports import router as imports_router
    from fabrika.core.api_statuses import router as statuses_router
    from fabrika.core.api_ui import router as ui_router

    api.add_router("/core", core_router)
    for router in (access_router, custom_fields_router, statuses_router, ui_router, events_router, imports_router):
        api.add_router("/core", router)
    api.add_router("/parties", parties_router)


_mount_routers()
