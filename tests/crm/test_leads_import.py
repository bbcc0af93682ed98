"""The leads importer plugged into the generic importer: mapping, preview with per-row errors, both commit modes."""

from __future__ import annotations

from fabrika.core.importer import import_job_commit, import_job_create, import_job_preview, importer_for
from fabrika.core.models import AuditEntry, ImportJob
from fabrika.core.models.imports import ImportMode, ImportStatus
from fabrika.crm.importers_leads import parse_source_details
from fabrika.crm.models import Lead, LeadSource
from fabrika.crm.services_leads import lead_create

from . import test_activities_support

crm_org = test_activities_support.crm_org

HEADER = "Name;Company;INN;Phone;E-mail;Message;Responsible;Source details\n"
GOOD_AND_BAD = HEADER + (
    "Oleg Petrov;Mebel LLC;7707083893;+7 495 765-43-21;oleg@mebel.example;Need 40 doors;boris;utm_source=yandex&utm_campaign=spring\n"
    "Ira;;;+7 495 111-22-33;;;;trade fair 2026\n"
    "Bad Phone;;;12;bad@example.com;;;\n"
    "Bad Mail;;;;not-an-email;;;\n"
    "Bad Inn;Inn LLC;7707083894;;inn@example.com;;;\n"
    "Repeat;;;;known@example.com;;;\n"
    "Oleg again;;;+7 (495) 765-43-21;;;;\n"
)


def _upload(user, text: str = GOOD_AND_BAD) -> ImportJob:
    return import_job_create(
        actor=user, entity="crm.lead", file_name="leads.csv", content=text.encode("utf-8")
    )


def _known_lead(crm_org) -> Lead:
    return lead_create(actor=crm_org.manager, data={"name": "Known", "email": "known@example.com"})


def test_columns_are_mapped_to_lead_fields(crm_org):
    job = _upload(crm_org.manager)
    assert job.mapping == {
        "Name": "name",
        "Company": "company_name",
        "INN": "tax_id",
        "Phone": "phone",
        "E-mail": "email",
        "Message": "message",
        "Responsible": "responsible",
        "Source details": "source_details",
    }
    assert importer_for("crm.lead").verbose_name() == "Leads"


def test_source_details_text_or_pairs():
    assert parse_source_details("utm_source=yandex; utm_campaign = spring") == {
        "utm_source": "yandex",
        "utm_campaign": "spring",
    }
    assert parse_source_details("trade fair 2026") == {"details": "trade fair 2026"}


def test_preview_reports_bad_cells_and_duplicates_per_row_and_writes_nothing(crm_org):
    # given one existing lead and a file with two good rows and five bad ones
    known = _known_lead(crm_org)
    job = _upload(crm_org.manager)
    audit_before = AuditEntry.objects.count()
    # when previewed
    job = import_job_preview(actor=crm_org.manager, job_id=job.pk)
    # then each bad row is reported with its row number, column and rule, and nothing is written
    assert (job.status, job.total_rows, job.valid_rows, job.invalid_rows) == (ImportStatus.PREVIEWED, 7, 2, 5)
    assert [(error["row"], error["column"], error["message"]) for error in job.errors] == [
        (4, "Phone", "Not a valid phone number for its country"),
        (5, "E-mail", "Enter a valid e-mail address, e.g. name@example.com"),
        # with the bad e-mail left out, the rest of the row has no way to reach the lead either
        (5, "Phone", "Give a phone or an e-mail to reach the lead"),
        (6, "INN", "The INN checksum does not match: check the digits"),
        (7, "", f"A lead with this e-mail already exists: L-{known.pk} Known"),
        # a duplicate of an earlier row of the same file (which the preview creates and rolls back)
        (8, "", f"A lead with this phone already exists: L-{known.pk + 1} Oleg Petrov"),
    ]
    assert list(Lead.objects.values_list("name", flat=True)) == ["Known"]
    assert AuditEntry.objects.count() == audit_before


def test_commit_all_or_nothing_writes_nothing_when_a_row_is_bad(crm_org):
    _known_lead(crm_org)
    job = _upload(crm_org.manager)
    job = import_job_commit(actor=crm_org.manager, job_id=job.pk, mode=ImportMode.ALL_OR_NOTHING)
    assert (job.status, job.created_count, job.invalid_rows) == (ImportStatus.FAILED, 0, 5)
    assert list(Lead.objects.values_list("name", flat=True)) == ["Known"]


def test_commit_valid_rows_only_creates_the_good_leads_with_source_import(crm_org):
    _known_lead(crm_org)
    job = _upload(crm_org.manager)
    job = import_job_commit(actor=crm_org.manager, job_id=job.pk, mode=ImportMode.VALID_ONLY)
    assert (job.status, job.created_count, job.invalid_rows) == (ImportStatus.COMPLETED, 2, 5)
    oleg = Lead.objects.get(name="Oleg Petrov")
    assert (oleg.source, oleg.company_name, oleg.tax_id, oleg.phone, oleg.email, oleg.message) == (
        LeadSource.IMPORT,
        "Mebel LLC",
        "7707083893",
        "+74957654321",
        "oleg@mebel.example",
        "Need 40 doors",
    )
    assert oleg.responsible == crm_org.colleague
    assert oleg.source_details == {"utm_source": "yandex", "utm_campaign": "spring"}
    ira = Lead.objects.get(name="Ira")
    assert (ira.responsible, ira.source_details, ira.phone) == (
        crm_org.manager,
        {"details": "trade fair 2026"},
        "+74951112233",
    )
    assert Lead.objects.count() == 3


def test_a_clean_file_commits_all_or_nothing(crm_org):
    job = _upload(crm_org.manager, HEADER + "Anna;;;;anna@example.com;;;\nPavel;;;+7 495 222-33-44;;;;\n")
    job = import_job_commit(actor=crm_org.manager, job_id=job.pk, mode=ImportMode.ALL_OR_NOTHING)
    assert (job.status, job.created_count, job.invalid_rows) == (ImportStatus.COMPLETED, 2, 0)
    assert sorted(Lead.objects.values_list("name", "source")) == [("Anna", "import"), ("Pavel", "import")]
