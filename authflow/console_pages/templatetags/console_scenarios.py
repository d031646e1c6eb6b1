"""Template filters of the saved scenarios' results on the versions page."""
from django import template

register = template.Library()


@register.filter
def for_version(table: dict, version) -> list:
    """The results stored for `version` in sequences.api.results_by_version's table."""
    return table.get(version.pk, []) if isinstance(table, dict) else []
