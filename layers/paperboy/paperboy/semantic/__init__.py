"""Sentence vectors: embedding papers and topics, and the reader's profile vector."""
