"""The status codes of custom authenticator scripts, and what a client is told for each.

Scripts return 2000 (success), 4000 (failure: the user may try again),
4001 (already registered), 4002 (not registered) or 5000 (failure: the
registration is removed). The engine itself produces the 3000 range when it
could not get a valid answer from the script; the client then gets a 500
with a fixed message, never the script's error.
"""
SUCCESS = 2000
SCRIPT_NOT_AVAILABLE = 3000
SCRIPT_EXECUTION_FAILURE = 3001
EXECUTE_NOT_AVAILABLE = 3002
SCRIPT_NOT_COMPILABLE = 3003  # the reference's "script class not available": the script does not compile
INVALID_RESULT = 3004
FAILURE = 4000
ALREADY_REGISTERED = 4001
NOT_REGISTERED = 4002
NON_RECOVERABLE = 5000

# What a script may return.
SCRIPT_STATUSES = frozenset({SUCCESS, FAILURE, ALREADY_REGISTERED, NOT_REGISTERED, NON_RECOVERABLE})
ENGINE_STATUSES = frozenset({SCRIPT_NOT_AVAILABLE, SCRIPT_EXECUTION_FAILURE, EXECUTE_NOT_AVAILABLE,
                             SCRIPT_NOT_COMPILABLE, INVALID_RESULT})

# "Forwarded" statuses reach the client in the body with its responsePayload.
_HTTP = {SUCCESS: 200, FAILURE: 400, NON_RECOVERABLE: 400, ALREADY_REGISTERED: 409, NOT_REGISTERED: 404}


def http_status(status: int) -> int:
    return _HTTP.get(status, 500)


def is_engine_error(status: int) -> bool:
    return status in ENGINE_STATUSES
