"""Outbound calls from login scripts: httpGet, httpPost, callChoreo, callAnalytics (the flow waits) and publishToAnalytics.

    urls.py       what a URL is once normalised, and whether an allowed endpoint covers it
    models.py     AllowedEndpoint (the allow-list administrators edit) and OutboundCall (a call a flow waits on)
    checks.py     whether a call may be made and the request it becomes (authConfig included); simulate uses it too
    calls.py      the flows layer's side: record a call for a worker, or answer it at once
    credentials.py  OAuth 2.0 client credentials (authConfig clientcredential, callChoreo): tokens, cached sealed
    results.py    a call's outcome: the request made (by the worker), or "timeout" after the deadline; recorded once
    http.py       making one request: timeouts, redirects, size cap, JSON
    analytics.py  the analytics endpoint (publishToAnalytics) and the task that posts its events
    tasks.py      the Celery tasks of this app, for the worker's autodiscovery

Nothing here imports the flows layer: the flows app queues the task that
makes a call and resumes the flow with its outcome (authflow/flows/tasks.py).
"""
