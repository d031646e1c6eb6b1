"""Outbound calls from login scripts: httpGet, httpPost, callAnalytics (the flow waits) and publishToAnalytics.

    urls.py       what a URL is once normalised, and whether an allowed endpoint covers it
    models.py     AllowedEndpoint (the allow-list administrators edit) and OutboundCall (a call a flow waits on)
    calls.py      the flows layer's side: record a call and queue it, or answer it at once (never imports flows)
    results.py    delivering an outcome to the flow (a worker's result, or "timeout" once the deadline passed)
    http.py       making one request: timeouts, redirects, size cap, JSON
    analytics.py  the analytics endpoint (publishToAnalytics)
    tasks.py      the Celery tasks
"""
