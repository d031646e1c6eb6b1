"""Secrets scripts use (getSecretByName): kept encrypted, written by administrators, never shown back."""
