"""The server's counters as the throughput benchmark reads them: per service and operation,
per onboarding, and where ours and the floor differ."""

from __future__ import annotations

from bench.server_ops import counts, differences, per_onboarding

# As `temporal server start-dev --metrics-port` serves them (labels as it sets them).
SCRAPE = """\
# HELP persistence_requests persistence_requests counter
# TYPE persistence_requests counter
persistence_requests{namespace="ns",operation="UpdateWorkflowExecution",service_name="history"} 95
persistence_requests{namespace="sys",operation="UpdateWorkflowExecution",service_name="history"} 5
# HELP service_requests service_requests counter
# TYPE service_requests counter
service_requests{namespace="ns",operation="RecordActivityTaskHeartbeat",service_name="frontend"} 15
service_requests{namespace="ns",operation="RecordActivityTaskHeartbeat",service_name="history"} 15
# HELP service_latency service_latency histogram
# TYPE service_latency histogram
service_latency_bucket{operation="StartWorkflowExecution",service_name="frontend",le="+Inf"} 10
service_latency_sum{operation="StartWorkflowExecution",service_name="frontend"} 0.5
service_latency_count{operation="StartWorkflowExecution",service_name="frontend"} 10
"""


def test_counts_are_per_service_and_operation_over_every_namespace() -> None:
    assert counts(SCRAPE) == {
        "persistence_requests history UpdateWorkflowExecution": 100.0,
        "service_requests frontend RecordActivityTaskHeartbeat": 15.0,
        "service_requests history RecordActivityTaskHeartbeat": 15.0,
    }


def test_per_onboarding_is_what_the_run_added_divided_by_its_onboardings() -> None:
    before = {"a": 10.0, "b": 5.0}
    after = {"a": 25.0, "b": 5.0, "c": 3.0}
    assert per_onboarding(before, after, 10) == {"a": 1.5, "c": 0.3}


def test_differences_name_what_only_one_side_asks_and_skip_the_window_edge() -> None:
    ours = {"hb": 1.5, "update": 9.5, "timer": 0.52}
    floor = {"update": 9.5, "timer": 0.5}
    lines = differences(ours, floor)
    assert len(lines) == 1
    assert "hb" in lines[0] and "1.50" in lines[0] and "0.00" in lines[0]
