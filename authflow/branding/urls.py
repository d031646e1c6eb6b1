from django.urls import path

from . import views

urlpatterns = [
    path("logo/<int:brand_id>-<str:digest>.<str:extension>", views.logo, name="branding-logo"),
    path("theme/<str:digest>.css", views.theme, name="branding-theme"),
]
