"""Admin pages for scripts and libraries: versions are read-only once saved; new text becomes a new version."""
from django import forms
from django.contrib import admin, messages

from .engine.errors import ScriptSyntaxError
from .api import check_kind
from .engine.syntax import check_syntax
from .models import Sequence, SequenceVersion


class SequenceVersionForm(forms.ModelForm):
    class Meta:
        model = SequenceVersion
        fields = ["sequence", "source", "published"]
        widgets = {"source": forms.Textarea(attrs={"rows": 30, "cols": 100, "spellcheck": "false",
                                                   "style": "font-family: monospace"})}

    def clean_source(self):
        source = self.cleaned_data["source"]
        sequence = self.cleaned_data.get("sequence")
        try:
            check_syntax(source, kind=check_kind(sequence.kind if sequence else Sequence.Kind.SCRIPT))
        except ScriptSyntaxError as exc:
            raise forms.ValidationError(str(exc)) from None
        return source


class VersionInline(admin.TabularInline):
    model = SequenceVersion
    fields = ["number", "published", "author", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Sequence)
class SequenceAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "description", "created_at"]
    list_filter = ["kind"]
    search_fields = ["name"]
    inlines = [VersionInline]


@admin.register(SequenceVersion)
class SequenceVersionAdmin(admin.ModelAdmin):
    form = SequenceVersionForm
    list_display = ["sequence", "number", "published", "author", "created_at"]
    list_filter = ["published", "sequence"]
    actions = ["publish"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ["number"]
        return ["sequence", "number", "source", "source_sha256", "author", "created_at", "published", "published_at"]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["sequence", "source", "published"]
        return self.get_readonly_fields(request, obj)

    def save_model(self, request, obj, form, change):
        if change:
            return  # versions are immutable; publishing goes through the action
        latest = obj.sequence.latest_version()
        obj.number = latest.number + 1 if latest else 1
        obj.author = request.user
        publish = obj.published
        obj.published = False
        obj.save()
        if publish:
            from .api import publish_version

            publish_version(obj)

    @admin.action(description="Publish the selected version (new logins start on it; an older one is a rollback)")
    def publish(self, request, queryset):
        from .api import publish_version

        if queryset.values("sequence").distinct().count() != queryset.count():
            messages.error(request, "Select at most one version of each sequence: a sequence has one live version.")
            return
        for version in queryset:
            publish_version(version)
            self.log_change(request, version, f"Published {version} (new logins start on it)")
        messages.success(request, f"Published {queryset.count()} version(s).")
