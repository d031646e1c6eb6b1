"""The Content-Security-Policy every page is served with (AUTHFLOW_CONTENT_SECURITY_POLICY).

The pages load scripts, styles and images from this server only, have no
inline script or style, and are never framed; the policy says so, so that
an injected tag would not run.  There is no form-action directive: a login
form's answer ends in redirects to the application's registered redirect
URI, which browsers check against form-action too.  A script cannot change
the header (authflow/login/delivery.py refuses it).
"""
from django.conf import settings


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = settings.AUTHFLOW_CONTENT_SECURITY_POLICY

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        return response
