"""The fault campaign at CI size: faults everywhere, and still no digest lost or sent twice."""

from local_stack import campaign


def test_a_seeded_fault_campaign_loses_and_duplicates_nothing():
    report = campaign.run(seed=11, readers=16, days=2, commands=12)
    assert sum(report.faults_injected.values()) > 20
    assert report.periods_due > 20
    assert report.lost_digests == []
    assert report.duplicated_digests == []
    assert report.repeated_papers == []
    assert report.lost_commands == []
    assert report.commands_applied + report.commands_dead_lettered >= report.commands_sent
