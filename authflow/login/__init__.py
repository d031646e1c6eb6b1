"""The login pages: a flow's commands shown in the browser, and the browser's answers taken back.

views.py     the HTTP entry points (start a flow, show or answer its page, the error page)
targets.py   where a flow was started from and returns to (an OpenID Connect request, or a page of ours)
steps.py     a step's page, through the authenticator the user chose
prompts.py   the pages of prompt() templates
binding.py   a flow belongs to the browser that started it
"""
