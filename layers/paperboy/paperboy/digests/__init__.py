"""Digests: which readers are due, the queues between functions, ranking and sending."""
