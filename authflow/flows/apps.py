from django.apps import AppConfig


class FlowsConfig(AppConfig):
    name = "authflow.flows"
    label = "flows"
    verbose_name = "Login flows"

    def ready(self):
        # The task of a flow's calls, which the service queues by name (service.CALL_TASK): known to every
        # process, so that it also runs inline without a broker.
        from . import tasks  # noqa: F401
