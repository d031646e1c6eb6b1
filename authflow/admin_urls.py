"""The admin site's URLconf, imported by the first request under /admin/ (authflow.urls): building it imports every
app's admin module (authflow.console.ConsoleSite), which logins do not need."""
from django.contrib import admin

urlpatterns, app_name, _namespace = admin.site.urls
