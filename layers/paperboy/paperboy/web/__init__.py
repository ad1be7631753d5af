"""The web pages: confirm, unsubscribe, the sign-up form."""
