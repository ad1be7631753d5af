"""`make bench`: Paperboy's benchmarks (never run as unit tests: these machines are noisy)."""
