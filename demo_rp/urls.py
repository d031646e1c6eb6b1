from django.urls import path

from . import views

urlpatterns = [
    path("", views.index, name="demo-index"),
    path("sign-in/", views.sign_in, name="demo-sign-in"),
    path("callback", views.callback, name="demo-callback"),
    path("sign-out/", views.sign_out, name="demo-sign-out"),
]
