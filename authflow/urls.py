from django.contrib import admin
from django.urls import path

from authflow.pages import views as pages

urlpatterns = [
    path("", pages.home, name="home"),
    path("admin/", admin.site.urls),
]
