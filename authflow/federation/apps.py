from django.apps import AppConfig


class FederationConfig(AppConfig):
    name = "authflow.federation"
    label = "federation"
    verbose_name = "Identity providers"

    def ready(self):
        from authflow.sso import service as sso

        from . import logout

        sso.federated_flow_recorded.connect(logout.attach, dispatch_uid="authflow.federation.attach")
        sso.signed_out.connect(logout.on_signed_out, dispatch_uid="authflow.federation.signed_out")
