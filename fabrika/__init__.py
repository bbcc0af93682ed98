"""Fabrika: one database for a manufacturer's CRM and ERP."""
