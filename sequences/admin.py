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
    # The live version changes only by publishing (the versions' action, the console, the API): each checks the
    # saved scenarios, and a form field could point a script at any version, another script's included.
    readonly_fields = ["live_version"]

    def get_readonly_fields(self, request, obj=None):
        # Scripts load libraries by name, and a kind says how a sequence is checked: changed here, they would
        # change what applications run without a new version, a check or an audit entry.
        return ["name", "kind", "live_version"] if obj is not None else ["live_version"]


@admin.register(SequenceVersion)
class SequenceVersionAdmin(admin.ModelAdmin):
    form = SequenceVersionForm
    list_display = ["sequence", "number", "published", "author", "created_at"]
    list_filter = ["published", "sequence"]
    actions = ["publish"]

    def has_delete_permission(self, request, obj=None):
        # Versions are immutable and kept: deleting the live one would leave its applications without a script
        # (or on no version at all), a change of the live version around the publish gate and the audit log.
        return False

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
        from .saved_scenarios import rerun_for_version

        failing = [result.scenario.name for result in rerun_for_version(obj) if not result.passed]
        if publish and _refused(request, obj, failing):
            return
        if publish:
            from .api import publish_version

            publish_version(obj)

    @admin.action(description="Publish the selected version (new logins start on it; an older one is a rollback)")
    def publish(self, request, queryset):
        from .api import publish_version

        if queryset.values("sequence").distinct().count() != queryset.count():
            messages.error(request, "Select at most one version of each sequence: a sequence has one live version.")
            return
        from .saved_scenarios import failing_on

        published = 0
        for version in queryset:
            if _refused(request, version, [result.scenario.name for result in failing_on(version)]):
                continue
            publish_version(version)
            self.log_change(request, version, f"Published {version} (new logins start on it)")
            published += 1
        if published:
            messages.success(request, f"Published {published} version(s).")


def _refused(request, version, failing: list[str]) -> bool:
    """The publish gate, as the admin applies it: a version failing saved scenarios is not published here (no
    override: that is the console's or the API's, which record who overrode)."""
    if not failing:
        return False
    messages.error(request, f"{version} was not published: it fails saved scenarios ({', '.join(failing)}). "
                            f"Fix it, or publish it from the console with the override (recorded in the audit log).")
    return True
