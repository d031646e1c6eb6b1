"""The organisation's look on the login pages: per application and a default (display name, logo, a checked
theme of four colours, footer links).  services.py is the app's API."""
