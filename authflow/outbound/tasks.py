"""The Celery tasks of outbound calls, where the worker's autodiscovery finds them.

The task that makes a call a flow waits on, and resumes the flow with its
outcome, belongs to the flows app (authflow/flows/tasks.py); the one here
posts publishToAnalytics's events (defined with the analytics endpoint).
"""
from .analytics import publish_event

__all__ = ["publish_event"]
