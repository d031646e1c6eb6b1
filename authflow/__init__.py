"""authflow: the Django project and the login orchestration.

Sub-packages, one concept each:
  directory/       users, roles, groups and claims (who can log in)
  applications/    relying parties and their step configuration
  authenticators/  the catalogue of authenticator plugins a step may offer
  flows/           login flows: starting, resuming, applying a script's effects
  configuration/   configuration as code (`manage.py apply` / `export`)
The script engine itself lives in the top-level `sequences` package.
"""
