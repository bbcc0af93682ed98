"""Every refusal of the API is an RFC 9457 problem (application/problem+json) with a stable code."""

from __future__ import annotations

import hashlib
import json

from django.utils import timezone

from fabrika.core.idempotency import RETENTION
from fabrika.core.models import AuditEntry, IdempotencyRecord
from fabrika.parties import selectors
from fabrika.parties.models import Counterparty
from fabrika.parties.services import counterparty_create

PROBLEM = "application/problem+json"


def _post(client, path, body, **headers):
    return client.post(path, json.dumps(body), content_type="application/json", **headers)


def test_missing_credentials_are_401_problem(db, client):
    # given no credentials at all
    # when listing counterparties
    response = client.get("/api/v1/parties/counterparties")
    # then a 401 problem says how to authenticate
    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM
    assert response.json() == {
        "type": "https://fabrika.dev/problems/not_authenticated",
        "title": "Authentication required",
        "status": 401,
        "detail": "Send a personal API token (Authorization: Bearer fk_... or X-API-Token) or log in",
        "code": "not_authenticated",
    }


def test_a_wrong_token_is_401_problem(db, client):
    response = client.get("/api/v1/parties/counterparties", HTTP_AUTHORIZATION="Bearer fk_deadbeef_wrong")
    assert response.status_code == 401
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "not_authenticated"


def test_a_role_without_the_permission_gets_403_problem_and_nothing_is_created(make_user, api_client):
    # given a storekeeper, who may view counterparties but not create them
    client = api_client(make_user("Storekeeper"))
    # when they try to create one
    response = _post(client, "/api/v1/parties/counterparties", {"name": "Nope Ltd"})
    # then 403 problem, nothing written
    assert response.status_code == 403
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "permission_denied"
    assert response.json()["title"] == "Your role does not allow 'add' on counterparties"
    assert Counterparty.objects.count() == 0


def test_unknown_record_is_404_problem(make_user, api_client):
    response = api_client(make_user()).get("/api/v1/parties/counterparties/999999")
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "not_found"
    assert response.json()["title"] == "Counterparty 999999 not found"


def test_unknown_path_is_404_problem(make_user, api_client):
    response = api_client(make_user()).get("/api/v1/parties/no-such-thing")
    assert response.status_code == 404
    assert response["Content-Type"] == PROBLEM
    assert response.json()["detail"] == "No API endpoint at /api/v1/parties/no-such-thing"


def test_method_not_allowed_is_405_problem_with_allow_header(make_user, api_client):
    response = api_client(make_user()).put("/api/v1/parties/counterparties", "{}", content_type="application/json")
    assert response.status_code == 405
    assert response["Content-Type"] == PROBLEM
    assert response["Allow"] == "GET, POST"
    assert response.json()["code"] == "method_not_allowed"
    assert response.json()["detail"] == "PUT is not allowed here; allowed: GET, POST"


def test_schema_validation_is_422_problem_naming_the_fields(make_user, api_client):
    # given a body whose types are wrong
    client = api_client(make_user())
    response = _post(client, "/api/v1/parties/counterparties", {"name": "Ok", "is_client": "perhaps", "responsible_id": "x"})
    # then each field is named without the parameter plumbing ("body", "payload")
    assert response.status_code == 422
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["code"] == "validation_error"
    assert set(body["errors"]) == {"is_client", "responsible_id"}
    assert Counterparty.objects.count() == 0


def test_malformed_json_is_400_problem(make_user, api_client):
    # given a body that is not JSON at all (a syntax error, not a rule: 400 rather than 422)
    client = api_client(make_user())
    response = client.post("/api/v1/parties/counterparties", "{not json", content_type="application/json")
    assert response.status_code == 400
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "bad_request"
    assert response.json()["title"] == "Bad Request"
    assert Counterparty.objects.count() == 0


def test_query_parameter_errors_name_the_parameter(make_user, api_client):
    response = api_client(make_user()).get("/api/v1/parties/counterparties?limit=many")
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["limit"]


def test_service_rule_is_422_problem_with_field_errors(make_user, api_client):
    client = api_client(make_user())
    response = _post(client, "/api/v1/parties/counterparties", {"name": "  ", "email": "not-an-address"})
    assert response.status_code == 422
    assert response.json()["errors"] == {
        "name": ["Name is required"],
        "email": ["Enter a valid e-mail address, e.g. name@example.com"],
    }


def test_unexpected_error_is_500_problem_without_internals(make_user, api_client, monkeypatch, caplog):
    # given a selector that fails in a way nobody planned for
    def explode(*args, **kwargs):
        raise RuntimeError("database password is hunter2")

    monkeypatch.setattr(selectors, "counterparty_list_for_user", explode)
    client = api_client(make_user())
    # when the list is requested
    response = client.get("/api/v1/parties/counterparties")
    # then a generic 500 problem, the details only in the log
    assert response.status_code == 500
    assert response["Content-Type"] == PROBLEM
    assert response.json() == {
        "type": "https://fabrika.dev/problems/internal_error",
        "title": "Internal error",
        "status": 500,
        "detail": "The server could not complete the request; the error has been logged.",
        "code": "internal_error",
    }
    assert b"hunter2" not in response.content
    assert "hunter2" in caplog.text


def test_conflict_is_409_problem(make_user, api_client):
    # given an idempotency key whose first request (same body) is still running
    user = make_user()
    fingerprint = hashlib.sha256(b'{"name":"A"}').hexdigest()
    IdempotencyRecord.objects.create(
        user=user, key="k-1", method="POST", path="/api/v1/parties/counterparties", fingerprint=fingerprint,
        expires_at=timezone.now() + RETENTION,
    )
    # when the request is repeated
    response = _post(api_client(user), "/api/v1/parties/counterparties", {"name": "A"}, HTTP_IDEMPOTENCY_KEY="k-1")
    # then 409 problem, nothing created
    assert response.status_code == 409
    assert response["Content-Type"] == PROBLEM
    assert response.json()["code"] == "idempotency_in_progress"
    assert Counterparty.objects.count() == 0


def test_audit_log_cannot_be_changed_through_the_api(admin_user, api_client):
    # given an audit entry
    counterparty_create(actor=admin_user, data={"name": "Audited"})
    client = api_client(admin_user)
    before = AuditEntry.objects.count()
    # when someone tries to delete or change the log
    deleted = client.delete("/api/v1/core/audit")
    # then the method is refused as a problem and the log is unchanged
    assert deleted.status_code == 405
    assert deleted["Content-Type"] == PROBLEM
    assert AuditEntry.objects.count() == before
