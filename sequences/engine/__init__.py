"""The script engine: the runtime (js/), the sandbox processes it runs in (sandbox/), and replay (driver.py).

Other apps use `sequences.api` only; everything else here is internal.
"""
