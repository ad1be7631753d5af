"""Outbound mail: rendering digests and notices, MIME, sending through SES."""
