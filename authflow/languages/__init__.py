"""The language of the pages: which one a request gets (choice.py), the switcher (views.py)."""
