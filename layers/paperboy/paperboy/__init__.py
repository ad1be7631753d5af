"""Paperboy's domain: papers, readers, ranking, rendering and mail. Knows nothing about Lambda.

Its public surface: the subpackages by bounded context, each naming its own in `__all__`, and the
modules every function shares. Nothing is imported here: each function loads only what it uses.
"""

__all__ = [
    "admin",
    "clock",
    "digests",
    "mail",
    "papers",
    "readers",
    "semantic",
    "settings",
    "telemetry",
    "web",
    "wiring",
]
