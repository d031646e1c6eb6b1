"""Single sign-on sessions: who is signed in in which browser, since when, and to which applications.

A session starts when a login flow signs a browser in and ends when the user
signs out, ends it on the account page, a script terminates it
(`terminateUserSession`), another user signs in in that browser, or it was
idle or open too long.  Other apps use `authflow.sso.service`.
"""
