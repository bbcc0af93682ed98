from django.urls import path

from . import views_printing

urlpatterns = [
    path("settings/print-templates/", views_printing.print_template_list, name="print_template_list"),
    path("settings/print-templates/new/", views_printing.print_template_create, name="print_template_create"),
    path("settings/print-templates/<int:template_id>/", views_printing.print_template_edit, name="print_template_edit"),
    path("settings/print-templates/<int:template_id>/reset/", views_printing.print_template_reset, name="print_template_reset"),
    path("settings/print-templates/<int:template_id>/versions/", views_printing.print_template_versions, name="print_template_versions"),
    path(
        "settings/print-templates/<int:template_id>/versions/<int:version>/restore/",
        views_printing.print_template_restore, name="print_template_restore",
    ),
    path("print/<str:code>/<int:object_id>.pdf", views_printing.print_document, name="print_document"),
]
