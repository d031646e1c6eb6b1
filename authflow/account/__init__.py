"""The account page: a signed-in user sees their sign-on sessions and ends the ones they do not want."""
