"""The OpenAPI schema is a tested artefact: valid, complete for counterparties, problems declared, and snapshotted.

When you change the API on purpose, regenerate the snapshot and review the diff:
    FABRIKA_UPDATE_API_SNAPSHOT=1 python -m pytest tests/core/api/test_openapi.py
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from django.conf import settings

SNAPSHOT = Path(__file__).with_name("openapi_operations.json")


@pytest.fixture
def schema(db, client) -> dict:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    return json.loads(response.content)


def _operations(schema: dict) -> list[str]:
    return sorted(
        f"{method.upper()} {path} {operation['operationId']}"
        for path, operations in schema["paths"].items()
        for method, operation in operations.items()
    )


def test_schema_is_openapi_3_with_counterparty_paths_and_schemas(schema):
    assert schema["openapi"].startswith("3.")
    assert schema["info"]["title"] == "Fabrika API"
    counterparties = schema["paths"]["/api/v1/parties/counterparties"]
    detail = schema["paths"]["/api/v1/parties/counterparties/{counterparty_id}"]
    assert sorted(counterparties) == ["get", "post"]
    assert sorted(detail) == ["delete", "get", "patch"]
    assert counterparties["post"]["requestBody"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/CounterpartyIn"}
    assert counterparties["post"]["responses"]["201"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/CounterpartyOut"}
    components = schema["components"]["schemas"]
    assert components["CounterpartyIn"]["required"] == ["name"]
    assert {"id", "name", "tax_id", "responsible_id", "custom"} <= set(components["CounterpartyOut"]["properties"])
    assert {"TokenAuth", "TokenHeaderAuth", "SessionAuth"} <= set(schema["components"]["securitySchemes"])


def test_every_operation_declares_problem_responses(schema):
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    assert schema["components"]["schemas"]["Problem"]["required"] == ["type", "title", "status"]
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            responses = operation["responses"]
            for code in ("401", "403", "422", "default"):
                assert responses[code]["content"] == problem, (method, path, code)
            if "{" in path:
                assert responses["404"]["content"] == problem, (method, path)


def _header(operation: dict, name: str) -> dict:
    (parameter,) = [p for p in operation.get("parameters", []) if p["in"] == "header" and p["name"] == name]
    return parameter


def test_create_endpoints_document_the_idempotency_key(schema):
    create = schema["paths"]["/api/v1/parties/counterparties"]["post"]
    # beside the `force` query parameter (create despite possible duplicates)
    assert [p["name"] for p in create["parameters"]] == ["force", "Idempotency-Key"]
    assert {"in": "header", "name": "Idempotency-Key", "required": False}.items() <= _header(create, "Idempotency-Key").items()
    assert create["responses"]["409"]["content"]["application/problem+json"]
    for path in (
        "/api/v1/parties/counterparties/{counterparty_id}/contacts",
        "/api/v1/parties/counterparties/{counterparty_id}/addresses",
        "/api/v1/parties/counterparties/{counterparty_id}/bank-accounts",
        "/api/v1/crm/pipelines",
        "/api/v1/crm/deals",
        "/api/v1/crm/leads",
        "/api/v1/crm/activities",
        "/api/v1/core/print/templates",
        "/api/v1/catalog/products",
        "/api/v1/inventory/documents",
        "/api/v1/inventory/documents/{document_id}/lines",
    ):
        assert _header(schema["paths"][path]["post"], "Idempotency-Key")["schema"] == {"type": "string", "maxLength": 255}, path
    assert "parameters" not in schema["paths"]["/api/v1/parties/counterparties/{counterparty_id}"]["patch"] or all(
        parameter["name"] != "Idempotency-Key"
        for parameter in schema["paths"]["/api/v1/parties/counterparties/{counterparty_id}"]["patch"]["parameters"]
    )


def test_operation_ids_are_unique(schema):
    ids = [operation["operationId"] for operations in schema["paths"].values() for operation in operations.values()]
    assert len(ids) == len(set(ids))


def test_operations_match_the_snapshot(schema):
    operations = _operations(schema)
    if os.environ.get("FABRIKA_UPDATE_API_SNAPSHOT") == "1":
        SNAPSHOT.write_text(json.dumps(operations, indent=1, ensure_ascii=False) + "\n")
    expected = json.loads(SNAPSHOT.read_text())
    added = sorted(set(operations) - set(expected))
    removed = sorted(set(expected) - set(operations))
    assert (added, removed) == ([], []), "The API changed: if on purpose, regenerate the snapshot (see module docstring)"


def test_docs_page_renders(db, client):
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert b"/api/v1/openapi.json" in response.content
    assert b"swagger-ui" in response.content


@pytest.mark.xfail(
    "ninja" not in settings.INSTALLED_APPS,
    reason="django-ninja serves its bundled Swagger UI only when 'ninja' is in INSTALLED_APPS; otherwise it uses a CDN",
    strict=True,
)
def test_docs_page_works_offline(db, client):
    # the page must not need the internet: Swagger UI comes from our own static files
    content = client.get("/api/v1/docs").content.decode()
    assert "cdn.jsdelivr.net" not in content
    assert "/static/ninja/swagger-ui-bundle.js" in content
    assert client.get("/static/ninja/swagger-ui-bundle.js").status_code == 200


def test_schema_names_are_unique_across_apps():
    """The OpenAPI document has one component per schema *name*: two apps' `LineIn` would silently share one entry
    (and document one endpoint wrongly), so every ninja Schema class under fabrika/ needs its own name."""
    import importlib
    import pkgutil

    from ninja import Schema

    import fabrika

    for module in pkgutil.walk_packages(fabrika.__path__, "fabrika."):
        if module.name.rsplit(".", 1)[-1].startswith(("api", "schemas")):
            importlib.import_module(module.name)
    seen: dict[str, str] = {}
    duplicates = []

    def visit(cls):
        for sub in cls.__subclasses__():
            if sub.__module__.startswith("fabrika."):
                if sub.__name__ in seen and seen[sub.__name__] != sub.__module__:
                    duplicates.append(f"{sub.__name__}: {seen[sub.__name__]} and {sub.__module__}")
                seen.setdefault(sub.__name__, sub.__module__)
            visit(sub)

    visit(Schema)
    assert duplicates == []
