"""The relay process that makes the pack's per-resource calls for the preflight (preflight/call_relay.py):
its answers are the pack's own, the pack's errors come back with their status, and a relay that
dies is reported instead of waited for."""

from __future__ import annotations

import socket
import textwrap

import pytest
from pulumi.runtime.proto import analyzer_pb2

from preflight.call_relay import AnalyzerCallRelay, RelayCallError
from preflight.judge import _request
from tests.conftest import cached_run, judge_program


def test_relayed_answers_are_the_packs_own(pack):
    run = cached_run("staging", preview=True)
    resources = [r for r in run.resources if r.custom][:40]
    relay = AnalyzerCallRelay(pack.port)
    try:
        numbers = [(r, relay.send("Remediate", _request(r, None, remediate=True)),
                    relay.send("Analyze", _request(r, None, remediate=False))) for r in resources]
        for resource, remediate, analyze in numbers:
            assert relay.answer(remediate, analyzer_pb2.RemediateResponse) == \
                pack.stub.Remediate(_request(resource, None, remediate=True))
            assert relay.answer(analyze, analyzer_pb2.AnalyzeResponse) == \
                pack.stub.Analyze(_request(resource, None, remediate=False))
    finally:
        relay.close()
    assert relay.process.returncode == 0


def test_an_unreachable_pack_is_an_error_naming_the_call_and_its_status():
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]  # closed again before the call: nothing listens there
    relay = AnalyzerCallRelay(str(port))
    try:
        number = relay.send("Analyze", analyzer_pb2.AnalyzeRequest(type="aws:s3/bucket:Bucket"))
        with pytest.raises(RelayCallError, match="Analyze failed with gRPC status 14"):
            relay.answer(number, analyzer_pb2.AnalyzeResponse)
    finally:
        relay.close()


def test_a_relay_that_dies_is_reported_not_waited_for():
    with socket.socket() as silent:  # accepts connections and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        relay = AnalyzerCallRelay(str(silent.getsockname()[1]))
        number = relay.send("Analyze", analyzer_pb2.AnalyzeRequest(type="aws:s3/bucket:Bucket"))
        relay.process.kill()
        with pytest.raises(RuntimeError, match="call relay ended before answering Analyze"):
            relay.answer(number, analyzer_pb2.AnalyzeResponse)
        relay.close()


# How the test analyzers below serve: as a pack does, printing the port it listens on.
SERVE = textwrap.dedent('''

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    analyzer_pb2_grpc.add_AnalyzerServicer_to_server({servicer}(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    sys.stdout.write(f"{{port}}\\n")
    sys.stdout.flush()
    server.wait_for_termination()
''')

# An analyzer that implements Analyze only, as an older or minimal pack might.
BARE_PACK = textwrap.dedent('''
    import sys
    from concurrent import futures

    import grpc
    from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc


    class Bare(analyzer_pb2_grpc.AnalyzerServicer):
        def GetAnalyzerInfo(self, request, context):
            return analyzer_pb2.AnalyzerInfo(name="bare", version="1.0.0")

        def Analyze(self, request, context):
            return analyzer_pb2.AnalyzeResponse(diagnostics=[analyzer_pb2.AnalyzeDiagnostic(
                policyName="seen", policyPackName="bare", message="seen " + request.type,
                enforcementLevel=analyzer_pb2.ADVISORY)])

''') + SERVE.format(servicer="Bare")


def test_a_pack_without_remediate_or_analyze_stack_is_skipped_there_as_the_engine_does(tmp_path):
    """sdk/go/common/resource/plugin/analyzer_plugin.go: codes.Unimplemented from Remediate or
    AnalyzeStack means the analyzer has nothing to say there; Analyze still judges every resource."""
    run, judgement, _ = judge_program(tmp_path, BARE_PACK, textwrap.dedent('''
        import pulumi_aws as aws
        aws.s3.Bucket("docs")
        aws.sqs.Queue("jobs")
    '''))
    types = {r.urn: r.type for r in run.engine_resources}
    assert {urn: [d.message for d in verdict.diagnostics] for urn, verdict in judgement.by_resource.items()} \
        == {urn: [f"seen {type_}"] for urn, type_ in types.items()}
    assert judgement.stack.diagnostics == []


# A pack that notes every call as it arrives, and how many were being served at once.
ORDER_PACK = textwrap.dedent('''
    import json
    import sys
    import threading
    import time
    from concurrent import futures

    import grpc
    from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

    lock = threading.Lock()
    received, active, most = [], [0], [0]


    def served(method, urn):
        with lock:
            received.append([method, urn])
            active[0] += 1
            most[0] = max(most[0], active[0])
        time.sleep(0.002)  # long enough for an overlapping call to show
        with lock:
            active[0] -= 1


    class Recorder(analyzer_pb2_grpc.AnalyzerServicer):
        def GetAnalyzerInfo(self, request, context):
            return analyzer_pb2.AnalyzerInfo(name="recorder", version="1.0.0")

        def Remediate(self, request, context):
            served("Remediate", request.urn)
            return analyzer_pb2.RemediateResponse()

        def Analyze(self, request, context):
            served("Analyze", request.urn)
            return analyzer_pb2.AnalyzeResponse()

        def AnalyzeStack(self, request, context):
            log = json.dumps({"received": received, "most": most[0]})
            return analyzer_pb2.AnalyzeResponse(diagnostics=[analyzer_pb2.AnalyzeDiagnostic(
                policyName="log", policyPackName="recorder", message=log,
                enforcementLevel=analyzer_pb2.ADVISORY)])

''') + SERVE.format(servicer="Recorder")


def test_the_pack_gets_one_call_at_a_time_in_the_order_they_were_made(tmp_path):
    """pkg/resource/deploy/step_generator.go: the engine analyzes each registration in its step,
    Remediate then Analyze, before the next; the pack never serves two at once."""
    import json

    run, judgement, pack = judge_program(tmp_path, ORDER_PACK, textwrap.dedent('''
        import pulumi_aws as aws
        for i in range(15):
            aws.sqs.Queue(f"jobs-{i}")
    '''))
    (log,) = [d.message for d in judgement.stack.diagnostics]
    served = json.loads(log)
    made = [[method, urn] for method, urn in pack.calls if method in ("Remediate", "Analyze")]
    assert served["received"] == made
    assert sorted(made) == sorted([m, r.urn] for r in run.engine_resources for m in ("Remediate", "Analyze"))
    assert all(made[i][1] == made[i + 1][1] and (made[i][0], made[i + 1][0]) == ("Remediate", "Analyze")
               for i in range(0, len(made), 2))
    assert served["most"] == 1
