"""The shared rules (authflow/configuration/rules.py) as API errors."""
from authflow.configuration import rules

from .errors import Invalid


def ruled(rule, *args):
    try:
        return rule(*args)
    except rules.RuleError as exc:
        raise Invalid.from_rule(exc) from None


def slug(name, field: str = "name") -> str:
    return ruled(rules.check_name, name, field)
