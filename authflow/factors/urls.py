from django.urls import path

from . import views

urlpatterns = [
    path("backup-codes/", views.new_backup_codes, name="factors-backup-codes"),
    path("totp/remove/", views.remove_totp, name="factors-remove-totp"),
]
