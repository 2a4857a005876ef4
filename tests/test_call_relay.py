"""The relay process that makes the pack's per-resource calls for the preflight (preflight/call_relay.py):
its answers are the pack's own, the pack's errors come back with their status, and a relay that
dies is reported instead of waited for."""

from __future__ import annotations

import socket
import textwrap

import pytest
from pulumi.runtime.proto import analyzer_pb2

from preflight.call_relay import AnalyzerCallRelay, RelayCallError
from preflight.judge import StreamingJudge, _request
from preflight.policy_pack_client import PolicyPackProcess
from preflight.program_runner import run_program, script_program
from tests.conftest import cached_run, stack_config


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


    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    analyzer_pb2_grpc.add_AnalyzerServicer_to_server(Bare(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    sys.stdout.write(f"{port}\\n")
    sys.stdout.flush()
    server.wait_for_termination()
''')


def test_a_pack_without_remediate_or_analyze_stack_is_skipped_there_as_the_engine_does(tmp_path):
    """sdk/go/common/resource/plugin/analyzer_plugin.go: codes.Unimplemented from Remediate or
    AnalyzeStack means the analyzer has nothing to say there; Analyze still judges every resource."""
    (tmp_path / "pack").mkdir()
    (tmp_path / "pack" / "__main__.py").write_text(BARE_PACK)
    (tmp_path / "program.py").write_text(textwrap.dedent('''
        import pulumi_aws as aws
        aws.s3.Bucket("docs")
        aws.sqs.Queue("jobs")
    '''))
    config = stack_config("staging")
    with PolicyPackProcess(tmp_path / "pack") as pack:
        pack.configure({})
        judge = StreamingJudge(pack, config)
        run = run_program(script_program(tmp_path / "program.py"), config, on_register=judge.submit)
        judgement = judge.finish(run)
    types = {r.urn: r.type for r in run.engine_resources}
    assert {urn: [d.message for d in verdict.diagnostics] for urn, verdict in judgement.by_resource.items()} \
        == {urn: [f"seen {type_}"] for urn, type_ in types.items()}
    assert judgement.stack.diagnostics == []
