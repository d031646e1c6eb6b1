"""Pages people see in the browser (the login pages join these)."""
