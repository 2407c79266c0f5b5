"""The local runtime's mechanisms, on a small fixture app synthesized by CDK: Step Functions with Lambda tasks
(Map, Retry on a custom error, Catch -> FAILED), EventBridge rule -> Lambda, SQS event source with partial
batch failures and a DLQ, and schedules fired on demand."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid

import pytest
import requests

from tests.support import REPO, RunningPlatform, start_platform, wait_for

FIXTURE = REPO / "tests" / "fixtures" / "local_app"


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> RunningPlatform:
    outdir = tmp_path_factory.mktemp("fixture-cdk")
    subprocess.run(
        [sys.executable, str(FIXTURE / "app.py")],
        check=True,
        capture_output=True,
        env={**os.environ, "CDK_OUTDIR": str(outdir)},
    )
    running = start_platform(
        tmp_path_factory.mktemp("fixture-state"),
        "--template",
        str(outdir / "Maestro.template.json"),
        "--functions-root",
        str(FIXTURE / "functions"),
    )
    yield running
    assert running.stop() == 0, running.log_path.read_text()[-3000:]


def records(platform: RunningPlatform, pk: str) -> list[dict]:
    table = platform.aws("dynamodb").list_tables()["TableNames"]
    name = next(t for t in table if "Records" in t)
    items = platform.aws("dynamodb").query(
        TableName=name, KeyConditionExpression="pk = :p", ExpressionAttributeValues={":p": {"S": pk}}
    )["Items"]
    return items


def state_machine_arn(platform: RunningPlatform) -> str:
    machines = platform.aws("stepfunctions").list_state_machines()["stateMachines"]
    return next(m["stateMachineArn"] for m in machines if "Squares" in m["name"])


def run_execution(platform: RunningPlatform, payload: dict, timeout_s: float = 60) -> dict:
    sfn = platform.aws("stepfunctions")
    arn = sfn.start_execution(
        stateMachineArn=state_machine_arn(platform), name=str(uuid.uuid4()), input=json.dumps(payload)
    )["executionArn"]
    return wait_for(
        lambda: (d := sfn.describe_execution(executionArn=arn))["status"] != "RUNNING" and d,
        timeout_s=timeout_s,
        interval_s=0.25,
    )


def test_state_machine_map_runs_real_handlers_and_retries_custom_errors(platform: RunningPlatform) -> None:
    # Given items where two fail once with FlakyError (the state machine retries that error by name)
    items = [{"value": 1}, {"value": 2, "fail_first": True}, {"value": 3}, {"value": 4, "fail_first": True}]
    # When the execution runs in moto's engine
    execution = run_execution(platform, {"items": items})
    # Then every item was squared by the real handler, the flaky ones on their second attempt
    assert execution["status"] == "SUCCEEDED", execution
    assert json.loads(execution["output"])["squares"] == [1, 4, 9, 16]
    assert sorted(i["sk"]["S"] for i in records(platform, "attempt")) == ["2", "4"]


def test_state_machine_catch_ends_failed_with_the_handlers_error(platform: RunningPlatform) -> None:
    execution = run_execution(platform, {"items": [{"value": 5}, {"value": "boom"}]})
    assert execution["status"] == "FAILED"
    assert execution.get("error") == "ValueError"
    assert "boom is not a number" in execution.get("cause", "")


def test_event_rule_delivers_matching_events_to_its_lambda(platform: RunningPlatform) -> None:
    events = platform.aws("events")
    events.put_events(
        Entries=[
            {
                "Source": "test.app",
                "DetailType": "ThingHappened",
                "Detail": json.dumps({"n": 1}),
                "EventBusName": "fixture-bus",
            },
            {"Source": "other.app", "DetailType": "Ignored", "Detail": "{}", "EventBusName": "fixture-bus"},
        ]
    )
    got = wait_for(lambda: records(platform, "event:ThingHappened"))
    assert json.loads(got[0]["detail"]["S"]) == {"n": 1}
    time.sleep(0.5)
    assert records(platform, "event:Ignored") == []


def test_sqs_event_source_deletes_successes_and_dead_letters_reported_failures(
    platform: RunningPlatform,
) -> None:
    sqs = platform.aws("sqs")
    urls = sqs.list_queues()["QueueUrls"]
    work = next(u for u in urls if "Work" in u and "Dlq" not in u and "shadow" not in u)
    dlq = next(u for u in urls if "WorkDlq" in u)
    for i in range(7):
        sqs.send_message(QueueUrl=work, MessageBody=json.dumps({"id": i, "fail": i == 3}))
    wait_for(lambda: len(records(platform, "sqs")) == 6)
    assert sorted(int(i["sk"]["S"]) for i in records(platform, "sqs")) == [0, 1, 2, 4, 5, 6]
    # The failing message is received twice (maxReceiveCount 2), then moves to the DLQ.
    dead = wait_for(
        lambda: sqs.receive_message(QueueUrl=dlq, WaitTimeSeconds=1).get("Messages"), timeout_s=30
    )
    assert json.loads(dead[0]["Body"]) == {"id": 3, "fail": True}
    assert len(records(platform, "sqs-failed")) == 2


def test_a_fault_on_a_queue_consumer_returns_its_batch_which_is_then_processed_once(
    platform: RunningPlatform,
) -> None:
    # Faults used to reach only Step Functions' invocations; every path into a function now honours them.
    faults = f"{platform.url}/_local/faults"
    requests.post(
        faults, params={"function": "recorder", "error": "Runtime.ExitError", "times": 1}, timeout=5
    )
    sqs = platform.aws("sqs")
    work = next(
        u for u in sqs.list_queues()["QueueUrls"] if "Work" in u and "Dlq" not in u and "shadow" not in u
    )
    sqs.send_message(QueueUrl=work, MessageBody=json.dumps({"id": 100, "fail": False}))
    wait_for(lambda: any(i["sk"]["S"] == "100" for i in records(platform, "sqs")), timeout_s=30)
    listed = requests.get(faults, timeout=5).json()["faults"]
    requests.delete(faults, timeout=5)
    assert [f["fired"] for f in listed if f["function"] == "recorder"] == [1]
    assert [i["sk"]["S"] for i in records(platform, "sqs")].count("100") == 1


def test_schedule_rules_fire_on_demand_with_a_scheduled_event(platform: RunningPlatform) -> None:
    listed = requests.get(f"{platform.url}/_local/schedules", timeout=5).json()["schedules"]
    ((rule, expression),) = listed.items()
    assert expression == "cron(0 3 * * ? *)"
    fired = requests.post(f"{platform.url}/_local/schedules/fire", params={"rule": rule}, timeout=10)
    assert fired.status_code == 200 and fired.json()["targets"] == 1
    got = wait_for(lambda: records(platform, "event:Scheduled Event"))
    assert got[0]["source"]["S"] == "aws.events"
    unknown = requests.post(f"{platform.url}/_local/schedules/fire", params={"rule": "nope"}, timeout=10)
    assert unknown.status_code == 404


def test_functions_sized_for_several_vcpus_run_in_their_own_processes_and_fail_as_lambda_does(
    platform: RunningPlatform,
) -> None:
    lam = platform.aws("lambda")

    def invoke(event: dict) -> tuple[dict, str | None]:
        reply = lam.invoke(FunctionName="fixture-heavy", Payload=json.dumps(event).encode())
        return json.loads(reply["Payload"].read()), reply.get("FunctionError")

    first, error = invoke({})
    assert error is None and first["memory_mb"] == 3008 and 0 < first["remaining_ms"] <= 2000
    assert first["pid"] != platform.process.pid  # not the platform's process
    failed, error = invoke({"raise": "no such row"})
    assert (failed["errorType"], error) == ("LookupError", "Unhandled")
    assert invoke({})[0]["pid"] == first["pid"]  # a handled error keeps the environment

    timed_out, _ = invoke({"sleep_s": 10})
    assert timed_out["errorType"] == "Sandbox.Timedout"
    crashed, _ = invoke({"exit": True})
    assert crashed["errorType"] == "Runtime.ExitError"
    fresh, error = invoke({})  # both sandboxes were replaced
    assert error is None and fresh["pid"] != first["pid"]
