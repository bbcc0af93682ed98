"""The HTTP API root: one NinjaAPI, each app's router mounted under /api/v1/<app>/, one error mapping.

Every answer that is not a success is an RFC 9457 problem (`application/problem+json`):
`{"type", "title", "status", "detail", "code", "errors": {field: [messages]}}` — for domain errors, input the
schemas refuse, missing or bad credentials, a failed CSRF check, unknown paths, methods a path does not allow and
unexpected exceptions (logged; the answer shows no internals).

Authentication, tried in this order: `Authorization: Bearer fk_...`, `X-API-Token: fk_...` (personal API tokens,
fabrika/core/tokens.py), then the browser session — for which unsafe methods need the CSRF token
(`X-CSRFToken` header), exactly as the web UI.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
from decimal import Decimal
from http import HTTPStatus
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, re_path
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import APIKeyHeader, HttpBearer, SessionAuth

from fabrika.core.errors import DomainError
from fabrika.core.tokens import api_token_authenticate

logger = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
PROBLEM_TYPE_BASE = "https://fabrika.dev/problems/"
# The parameter sources ninja puts first in a validation error's location.
_PARAMETER_SOURCES = {"body", "query", "path", "header", "cookie", "form", "file"}


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


PROBLEM_SCHEMA = {
    "title": "Problem",
    "description": "An RFC 9457 problem: why the request was refused, with the offending fields.",
    "type": "object",
    "properties": {
        "type": {"type": "string", "format": "uri"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "Stable machine-readable reason, e.g. validation_error"},
        "errors": {
            "type": "object",
            "additionalProperties": {"type": "array", "items": {"type": "string"}},
            "description": "Messages per field (a dotted path, e.g. custom.colour; __all__ for the whole request)",
        },
    },
    "required": ["type", "title", "status"],
}
_PROBLEM_RESPONSES = {
    "401": "Missing or invalid credentials",
    "403": "The role does not allow this action, or the CSRF check failed (session auth)",
    "404": "No such record within the user's scope",
    "409": "Conflicts with the record's state, or a request with the same Idempotency-Key is still running",
    "422": "Invalid input: `errors` names each field and the rule it breaks",
}


class FabrikaAPI(NinjaAPI):
    def _get_urls(self) -> list:
        urls = super()._get_urls()
        for pattern in urls:
            if isinstance(pattern, URLPattern) and pattern.name not in {"openapi-json", "openapi-view", "api-root"}:
                pattern.callback = _problem_for_method_not_allowed(pattern.callback)
        urls.append(re_path(r"^.*$", _unknown_path, name="unknown-path"))
        return urls

    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None):
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        reference = {PROBLEM_JSON: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for path, operations in schema["paths"].items():
            for operation in operations.values():
                responses = operation.setdefault("responses", {})
                codes = ["401", "403", "422"]
                if "{" in path:
                    codes.append("404")
                if operation.get("x-idempotent"):
                    codes.append("409")
                for code in codes:
                    responses.setdefault(code, {"description": _PROBLEM_RESPONSES[code], "content": reference})
                responses.setdefault("default", {"description": "Any other error", "content": reference})
        return schema


api = FabrikaAPI(
    title="Fabrika API",
    version="1",
    description="Fabrika's HTTP API. Errors are RFC 9457 problems (application/problem+json). Lists are paginated "
    "with `cursor`/`limit`: follow `next_cursor` until it is null. POSTs that create records honour `Idempotency-Key`.",
    urls_namespace="api",
    auth=[TokenAuth(), TokenHeaderAuth(), SessionAuth(csrf=True)],
    docs_url="/docs",
    openapi_url="/openapi.json",
)


def problem_body(*, status: int, title: str, detail: str = "", code: str = "", errors=None, **extra) -> dict[str, Any]:
    body: dict[str, Any] = {"type": f"{PROBLEM_TYPE_BASE}{code or status}", "title": title, "status": status, "detail": detail}
    if code:
        body["code"] = code
    if errors:
        body["errors"] = errors
    body.update(extra)
    return body


def problem(request: HttpRequest, *, status: int, title: str, detail: str = "", code: str = "", errors=None, **extra) -> HttpResponse:
    body = problem_body(status=status, title=title, detail=detail, code=code, errors=errors, **extra)
    response = api.create_response(request, body, status=status)
    response["Content-Type"] = PROBLEM_JSON
    return response


def _problem_for_method_not_allowed(view):
    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and response.get("Content-Type", "").startswith("text/"):
            allowed = ", ".join(sorted(method.strip() for method in response.get("Allow", "").split(",") if method.strip()))
            replacement = problem(
                request,
                status=405,
                title="Method not allowed",
                detail=f"{request.method} is not allowed here; allowed: {allowed}",
                code="method_not_allowed",
            )
            replacement["Allow"] = allowed
            return replacement
        return response

    return wrapper


def _unknown_path(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    return problem(request, status=404, title="Not found", detail=f"No API endpoint at {request.path}", code="not_found")


_unknown_path.csrf_exempt = True  # type: ignore[attr-defined]


_RESERVED_PROBLEM_MEMBERS = frozenset({"type", "title", "status", "detail", "code", "errors", "instance"})


def _plain(value: Any) -> Any:
    """A DomainError's extra value as JSON data; None when it is not plain data (a model instance, say)."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, Decimal | dt.date | dt.datetime):
        return str(value) if isinstance(value, Decimal) else value.isoformat()
    if isinstance(value, list | tuple):
        items = [_plain(item) for item in value]
        return items if all(item is not None for item in items) else None
    if isinstance(value, dict):
        pairs = {str(key): _plain(item) for key, item in value.items()}
        return pairs if all(item is not None for item in pairs.values()) else None
    return None


@api.exception_handler(DomainError)
def _domain_error(request, exc: DomainError):
    # Extra values a service attached (available quantity, duplicate candidates, ...) become problem members.
    extra = {key: _plain(value) for key, value in exc.values.items() if key not in _RESERVED_PROBLEM_MEMBERS}
    extra = {key: value for key, value in extra.items() if value is not None}
    return problem(
        request, status=exc.status, title=exc.message, detail=exc.message, code=exc.code, errors=exc.field_errors() or None, **extra
    )


def _error_location(location: list[Any] | tuple[Any, ...]) -> str:
    parts = [str(part) for part in location]
    if parts and parts[0] in _PARAMETER_SOURCES:
        source = parts.pop(0)
        # A body schema parameter nests its fields under the parameter's name ("payload"); a file or form
        # parameter is named by that name itself.
        if source == "body" and len(parts) > 1:
            parts.pop(0)
    return ".".join(parts) or "__all__"


@api.exception_handler(NinjaValidationError)
def _validation_error(request, exc: NinjaValidationError):
    errors: dict[str, list[str]] = {}
    for item in exc.errors:
        errors.setdefault(_error_location(item.get("loc", [])), []).append(item.get("msg", "invalid"))
    return problem(request, status=422, title="Invalid input", detail="Some fields are invalid", code="validation_error", errors=errors)


@api.exception_handler(AuthenticationError)
def _auth_error(request, exc):
    return problem(
        request,
        status=401,
        title="Authentication required",
        detail="Send a personal API token (Authorization: Bearer fk_... or X-API-Token) or log in",
        code="not_authenticated",
    )


@api.exception_handler(Http404)
def _not_found(request, exc):
    return problem(request, status=404, title="Not found", detail=str(exc), code="not_found")


@api.exception_handler(DjangoPermissionDenied)
def _permission_denied(request, exc):
    return problem(request, status=403, title="Permission denied", detail=str(exc), code="permission_denied")


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    status = exc.status_code
    message = str(exc)
    if status == 403 and "CSRF" in message:
        return problem(
            request,
            status=403,
            title="CSRF check failed",
            detail="Session-authenticated writes need the CSRF token in the X-CSRFToken header; API clients should use a token",
            code="csrf_failed",
        )
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    return problem(request, status=status, title=title, detail=message, code=title.lower().replace(" ", "_"))


@api.exception_handler(Exception)
def _unexpected_error(request, exc: Exception):
    logger.exception("Unhandled error in %s %s", request.method, request.path, exc_info=exc)
    return problem(
        request,
        status=500,
        title="Internal error",
        detail="The server could not complete the request; the error has been logged.",
        code="internal_error",
    )


def _mount_routers() -> None:
    from fabrika.core.api import router as core_router
    from fabrika.core.api_access import router as access_router
    from fabrika.core.api_custom_fields import router as custom_fields_router
    from fabrika.core.api_events import router as events_router
    from fabrika.core.api_imports import router as imports_router
    from fabrika.core.api_printing import router as printing_router
    from fabrika.core.api_statuses import router as statuses_router
    from fabrika.core.api_ui import router as ui_router
    from fabrika.parties.api import router as parties_router

    api.add_router("/core", core_router)
    for router in (access_router, custom_fields_router, statuses_router, ui_router, events_router, imports_router, printing_router):
        api.add_router("/core", router)
    api.add_router("/parties", parties_router)

    from fabrika.crm.api_activities import router as crm_activities_router
    from fabrika.crm.api_leads import router as crm_leads_router
    from fabrika.crm.api_pipelines import router as crm_pipelines_router
    from fabrika.crm.api_plans import router as crm_plans_router

    for router in (crm_pipelines_router, crm_leads_router, crm_activities_router, crm_plans_router):
        api.add_router("/crm", router)

    from fabrika.catalog.api import router as catalog_router
    from fabrika.inventory.api import router as inventory_router

    api.add_router("/catalog", catalog_router)
    api.add_router("/inventory", inventory_router)

    from fabrika.inventory.api_reports import router as inventory_reports_router

    api.add_router("/inventory", inventory_reports_router)

    from fabrika.ledger.api import router as ledger_router
    from fabrika.pricing.api import router as pricing_router

    api.add_router("/ledger", ledger_router)
    api.add_router("/pricing", pricing_router)

    from fabrika.sales.api_orders import router as sales_orders_router
    from fabrika.sales.api_shipments import router as sales_shipments_router

    for router in (sales_orders_router, sales_shipments_router):
        api.add_router("/sales", router)

    from fabrika.finance.api_invoices import router as finance_invoices_router
    from fabrika.finance.api_payments import router as finance_payments_router

    for router in (finance_invoices_router, finance_payments_router):
        api.add_router("/finance", router)


_mount_routers()
