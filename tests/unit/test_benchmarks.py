"""The benchmark's cost model and goal checks (the figures themselves come from `make bench`)."""

from __future__ import annotations

from typing import Any

from benchmarks import __main__ as bench_cli
from benchmarks import coldstart, digests

FAN = {
    "digests_sent": 1000,
    "our_cpu_ms_per_digest": 5.0,
    "dynamodb_calls": {
        "dynamodb.GetItem": 1000,
        "dynamodb.PutItem": 1000,
        "dynamodb.Query": 50,
        "dynamodb.TransactWriteItems": 1000,
    },
    "dynamodb_calls_per_digest": 3.05,
    "sqs_calls_per_digest": 0.1,
    "memory_gb": {"SendDigests": 1.0, "MailEvents": 0.5, "FetchPapers": 0.5, "PlanDigests": 1.769},
    "invocations_per_digest": 0.11,
    "log_bytes_per_digest": 900,
    "per_delivery_event": {"our_cpu_ms": 3.0, "dynamodb_calls": 1.0, "log_bytes": 700},
    "alarms": 9,
    "custom_metrics_seen": 14,
}


def _cold_start(**handlers: tuple[int, float]) -> dict[str, Any]:
    """Cold-start figures: each handler's median in ms and its ratio to the same run's floor."""
    return {
        "runs": 5,
        "floor_ms": 400,
        "handlers": {
            name: {"cold_start_ms": ms, "ratio_to_floor": ratio, "libraries_ratio_to_floor": 1.3}
            for name, (ms, ratio) in handlers.items()
        },
    }


def _results(**changes: Any) -> dict[str, Any]:
    results = {
        "ranking_and_rendering": [{"digests_per_second_per_core": 2500}],
        "versus_arxiv_sanity_lite": {"ms_per_user": 4.0, "ours_ms_per_digest": 0.3, "ratio": 13.3},
        "fan_out": {"dynamodb_calls_per_digest": 3.05},
        "cost_per_1000_readers_month": digests.cost_model(FAN),
        "cold_start": _cold_start(SendDigests=(600, 1.4), Embed=(2500, 6.0)),
        "ses_limited_fan_out": {"waiting_for_ses_rate_share": 0.8},
        "embedding": {"batch_of_100_share_of_timeout": 0.15},
        "planner": {"modelled_seconds_to_queue_300k_hour": 90.0},
    }
    results.update(changes)
    return results


def test_a_thousand_readers_cost_three_dollars_of_ses_a_month_and_the_rest_is_priced_per_call() -> None:
    cost = digests.cost_model(FAN)
    assert cost["usd"]["ses"] == 3.0
    # 1 read + 1 write + a two-item transaction (4 write units) per digest, plus the planner's queries.
    expected_dynamodb = 30 * (1.05 * 0.125 + 5 * 0.625) / 1000
    assert abs(cost["usd"]["dynamodb"] - expected_dynamodb) < 1e-4
    slower = cost["share_if_ses_answers_in"]
    assert slower["60 ms"] < slower["150 ms"] < slower["300 ms"]
    heavier = digests.cost_model({**FAN, "memory_gb": {**FAN["memory_gb"], "SendDigests": 2.0}})
    assert heavier["usd"]["lambda"] > 1.9 * cost["usd"]["lambda"]
    # Fixed costs do not grow with readers: nine alarms, four metrics beyond the free ten.
    assert cost["fixed_usd_month"]["alarms"] == 0.9
    assert cost["fixed_usd_month"]["custom_metrics"] == 1.2


def test_bench_fails_when_any_goal_is_missed(monkeypatch: Any) -> None:
    assert all(digests.checks(_results()).values())
    slow_start = _results(cold_start=_cold_start(Web=(1200, 1.4), SendDigests=(600, 1.4)))
    assert digests.checks(slow_start) == {**digests.checks(_results()), "cold_start_ms": False}
    # Fast on a fast machine is not enough: a handler at 1.6 times the floor of the same run misses.
    heavy_start = _results(cold_start=_cold_start(Web=(640, 1.6), SendDigests=(600, 1.5)))
    assert digests.checks(heavy_start) == {**digests.checks(_results()), "cold_start_ratio_to_floor": False}
    busy = _results(ses_limited_fan_out={"waiting_for_ses_rate_share": 0.1})
    assert not digests.checks(busy)["waiting_for_ses_rate_share"]
    slow_model = _results(embedding={"batch_of_100_share_of_timeout": 0.7})
    assert not digests.checks(slow_model)["embed_batch_of_100_share_of_timeout"]
    near_baseline = _results(versus_arxiv_sanity_lite={"ratio": 9.9})
    assert not digests.checks(near_baseline)["times_cheaper_than_arxiv_sanity_lite"]
    slow_planner = _results(planner={"modelled_seconds_to_queue_300k_hour": 400.0})
    assert not digests.checks(slow_planner)["modelled_seconds_to_queue_300k_hour"]

    monkeypatch.setattr(digests, "run", lambda **_: {**slow_start, "fan_out": FAN | slow_start["fan_out"]})
    monkeypatch.setattr(digests, "table", lambda results: "")
    assert bench_cli.main([]) == 1


def test_embedding_is_priced_per_day_and_topic_vectors_per_digest() -> None:
    cost = digests.cost_model(FAN, {"ms_per_paper": 400.0, "embed_memory_mb": 1769, "model_load_ms": 1200})
    # 60 papers x 0.4 s + a 1.2 s load at 1.73 GB, a request and 3 write units per paper, 30 days.
    seconds = 1.2 + 60 * 0.4
    expected = 30 * (seconds * 1769 / 1024 * 0.0000166667 + 0.2e-6 + 60 * 3 * 0.625e-6)
    assert abs(cost["fixed_usd_month"]["embedding_papers"] - round(expected, 2)) < 1e-9
    # Three topics' vectors (3 x 400 bytes) in the profile the digest's transaction rewrites.
    assert cost["usd"]["topic_vectors"] == round(30_000 * 2 * 1200 / 1024 * 0.625e-6, 4)


def test_the_cold_start_line_names_the_floor_and_each_handler_s_ratio_to_it() -> None:
    line = coldstart.summary(_cold_start(Web=(640, 1.6), SendDigests=(600, 1.5)))
    assert "floor of 400 ms" in line
    assert "Web 640 (1.6×; its libraries alone 1.3×)" in line
    assert "SendDigests 600 (1.5×; its libraries alone 1.3×)" in line


def test_the_digest_speed_run_fails_when_a_digest_is_not_ten_times_cheaper_than_arxiv_sanity_lite(
    monkeypatch: Any,
) -> None:
    row = {
        "readers": 1000,
        "digests_per_second_per_core": 3000,
        "per_digest_ms": 0.33,
        "ranking_us_per_reader": 60.0,
        "index_build_ms": 90.0,
        "traced_peak_mib": 0.3,
        "max_rss_mib": 150.0,
    }
    sanity = {"tags_per_user": 1.76, "papers_indexed": 200, "ms_per_user": 3.3, "ours_ms_per_digest": 0.33}
    for ratio, code in ((10.0, 0), (9.9, 1)):
        results = {"ranking_and_rendering": [row], "versus_arxiv_sanity_lite": {**sanity, "ratio": ratio}}
        monkeypatch.setattr(digests, "digest_speed", lambda quick, results=results: results)
        assert bench_cli.main(["--digests-only"]) == code
