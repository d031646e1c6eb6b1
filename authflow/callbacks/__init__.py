"""Callbacks scripts (the Smile CDR dialect): what a login grants, shaped by the application's script."""
