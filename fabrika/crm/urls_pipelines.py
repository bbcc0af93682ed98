from django.urls import path

from . import views_pipelines as views

urlpatterns = [
    path("pipelines/", views.pipeline_list, name="pipeline_list"),
    path("pipelines/new/", views.pipeline_create, name="pipeline_create"),
    path("pipelines/<int:pk>/", views.pipeline_detail, name="pipeline_detail"),
    path("pipelines/<int:pk>/edit/", views.pipeline_edit, name="pipeline_edit"),
    path("pipelines/<int:pk>/delete/", views.pipeline_delete, name="pipeline_delete"),
    path("pipelines/<int:pk>/stages/new/", views.stage_create, name="stage_create"),
    path("pipelines/<int:pk>/board/", views.kanban, name="kanban"),
    path("pipelines/<int:pk>/funnel/", views.funnel, name="funnel_report"),
    path("pipelines/<int:pk>/deals/new/", views.deal_create, name="deal_create"),
    path("pipelines/<int:pk>/deals/validate/", views.deal_validate_new, name="deal_validate_new"),
    path("stages/<int:pk>/edit/", views.stage_edit, name="stage_edit"),
    path("stages/<int:pk>/delete/", views.stage_delete, name="stage_delete"),
    path("deals/", views.deal_list, name="deal_list"),
    path("deals/<int:pk>/", views.deal_detail, name="deal_detail"),
    path("deals/<int:pk>/edit/", views.deal_edit, name="deal_edit"),
    path("deals/<int:pk>/validate/", views.deal_validate, name="deal_validate"),
    path("deals/<int:pk>/move/", views.deal_move, name="deal_move"),
    path("deals/<int:pk>/delete/", views.deal_delete, name="deal_delete"),
]
