"""The management REST API under /api/v1/: what an administrator does, for scripts, pipelines and the console."""
