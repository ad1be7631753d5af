"""Inbound mail: parsing a message, reading commands and consent, the inbox."""
