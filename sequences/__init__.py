"""The script engine: sequences, their immutable versions, the V8 runtime and the JS API.

Other apps use `sequences.api` only; everything else here is internal.
"""
