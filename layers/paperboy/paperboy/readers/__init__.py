"""Readers: their settings, store, subscription lifecycle, schedule, tokens and limits."""
