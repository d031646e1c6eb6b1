"""The login pages: a flow's pending command rendered for a browser, and its answers taken back."""
