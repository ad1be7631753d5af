"""The SES pacer keeps a worker under its share of the send rate."""

from paperboy.digests.pacing import TokenBucket


class FakeTime:
    def __init__(self):
        self.now = 0.0

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_sends_are_spaced_at_the_configured_rate():
    fake = FakeTime()
    bucket = TokenBucket(5.0, clock=fake.clock, sleep=fake.sleep)
    for _ in range(11):
        bucket.take()
    assert abs(fake.now - 2.0) < 1e-9  # the first is free, then 10 at 5 per second


def test_idle_time_is_not_banked_beyond_the_burst():
    fake = FakeTime()
    bucket = TokenBucket(2.0, clock=fake.clock, sleep=fake.sleep)
    fake.now = 100.0
    bucket.take()
    bucket.take()
    assert abs(fake.now - 100.5) < 1e-9
