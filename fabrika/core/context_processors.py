from __future__ import annotations

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

# Main navigation: (label, url name or (url name, *args), permission or None, section). Each app adds its entry when it gets a UI.
# Entries whose URL does not exist yet are skipped.
NAVIGATION = [
    (_("Counterparties"), "parties:counterparty_list", "parties.view_counterparty", "main"),
    (_("Leads"), "crm:lead_list", "crm.view_lead", "main"),
    (_("Deals"), "crm:deal_list", "crm.view_deal", "main"),
    (_("Tasks"), "crm:task_list", "crm.view_activity", "main"),
    (_("Calendar"), "crm:calendar", "crm.view_activity", "main"),
    (_("Sales plans"), "crm:plan_report", "crm.view_salesplan", "main"),
    (_("Products"), "catalog:product_list", "catalog.view_product", "main"),
    (_("Stock documents"), "inventory:document_list", "inventory.view_stockdocument", "main"),
    (_("Stock reports"), "inventory:report_index", "inventory.view_stockmove", "main"),
    (_("Sales orders"), "sales:order_list", "sales.view_salesorder", "main"),
    (_("Shipments"), "sales:shipment_list", "sales.view_shipment", "main"),
    (_("Returns"), "sales:return_list", "sales.view_salesreturn", "main"),
    (_("Invoices"), "finance:invoice_list", "finance.view_invoice", "main"),
    (_("Credit notes"), "finance:credit_note_list", "finance.view_invoice", "main"),
    (_("Payments"), "finance:payment_list", "finance.view_payment", "main"),
    (_("Settlements"), "finance:settlement_list", "finance.view_payment", "main"),
    (_("Overdue"), "finance:overdue_list", "finance.view_invoice", "main"),
    (_("Price check"), "pricing:price_check", "pricing.view_pricelist", "main"),
    (_("Journal"), "ledger:entry_list", "ledger.view_journalentry", "main"),
    (_("Trial balance"), "ledger:trial_balance", "ledger.view_account", "main"),
    (_("My reminders"), "core:reminders_mine", None, "main"),
    (_("Import"), "core:import_start", None, "main"),
    (_("Audit log"), "core:audit_log", "core.view_auditentry", "admin"),
    (_("Users"), "core:user_list", "core.view_user", "admin"),
    (_("Roles"), "core:role_list", "auth.view_group", "admin"),
    (_("Departments"), "core:department_list", "core.view_department", "admin"),
    (_("Company"), "core:company_settings", "core.change_companysettings", "admin"),
    (_("Currencies"), "core:currency_list", "core.view_currency", "admin"),
    (_("Numbering"), "core:numbering_list", "core.view_numbersequence", "admin"),
    (_("Custom fields"), "core:custom_field_list", "core.view_customfielddefinition", "admin"),
    (_("Statuses"), "core:status_definition_list", "core.view_statusdefinition", "admin"),
    (_("Positions"), ("parties:directory_list", "positions"), "parties.view_position", "admin"),
    (_("Segments"), ("parties:directory_list", "segments"), "parties.view_segment", "admin"),
    (_("Tags"), ("parties:directory_list", "tags"), "parties.view_tag", "admin"),
    (_("Pipelines"), "crm:pipeline_list", "crm.view_pipeline", "admin"),
    (_("Web forms"), "crm:public_form_list", "crm.manage_publicform", "admin"),
    (_("Warehouses"), "inventory:warehouse_list", "inventory.view_warehouse", "admin"),
    (_("Price types"), "pricing:price_type_list", "pricing.view_pricetype", "admin"),
    (_("Price lists"), "pricing:price_list_list", "pricing.view_pricelist", "admin"),
    (_("Discount rules"), "pricing:discount_rule_list", "pricing.view_discountrule", "admin"),
    (_("Discount limits"), "pricing:discount_limit_list", "pricing.view_manualdiscountlimit", "admin"),
    (_("Chart of accounts"), "ledger:account_list", "ledger.view_account", "admin"),
    (_("Print templates"), "core:print_template_list", "core.view_printtemplate", "admin"),
    (_("Webhooks"), "core:webhook_list", "core.view_webhookendpoint", "admin"),
]


def navigation(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "admin_nav_items": []}
    items, admin_items = [], []
    for label, url_name, permission, section in NAVIGATION:
        if permission is not None and not user.has_perm(permission):
            continue
        try:
            url = reverse(url_name[0], args=url_name[1:]) if isinstance(url_name, tuple) else reverse(url_name)
        except NoReverseMatch:
            continue
        entry = {"label": label, "url": url, "active": request.path.startswith(url) and url != "/"}
        (admin_items if section == "admin" else items).append(entry)
    return {"nav_items": items, "admin_nav_items": admin_items}
