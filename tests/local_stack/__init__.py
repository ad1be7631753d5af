"""Paperboy's local stack: the whole system on this machine, with no AWS account and no network."""
