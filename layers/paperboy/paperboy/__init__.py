"""Paperboy's domain: papers, readers, ranking, rendering and mail. Knows nothing about Lambda."""
