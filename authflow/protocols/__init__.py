"""Protocol endpoints: how applications send users here and get them back (OpenID Connect first)."""
