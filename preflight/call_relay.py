"""The pack's per-resource calls (Remediate, Analyze), made from a process of their own.

The engine calls the pack from its own process; the preflight runs the Pulumi program in its own
process, and a Python process has one interpreter lock. Issued from the program's process, each of
the two gRPC calls per resource cost the program about a quarter of a millisecond of interpreter
time (call set-up, the channel's polling thread, completion handling), and the calls fell behind
whenever the program held the lock: at 5,000 resources the pack was still being called seconds after
the program ended. So the program's process only serializes each request and writes it to a pipe;
this relay, a second Python process, passes the bytes to the pack over gRPC unparsed (no
serializers) and writes each answer back, numbered.

The relay makes one call at a time, in the order it was given them, as the engine's step generator
does: the pack sees Remediate then Analyze for one resource, then the next resource's, never two at
once (a pack that keeps state between calls sees what it would see under `pulumi preview`). On its
own process that still outpaces the program.

Frames, both ways: a 9-byte header (big-endian payload length, call number, then the method's index
in METHODS on the way in, the gRPC status code on the way out) and the payload: the serialized
request, the serialized response, or an error's details in UTF-8.

    python -m preflight.call_relay PORT
"""

from __future__ import annotations

import struct
import subprocess
import sys
import threading
from typing import IO, Any, Optional

try:
    import fcntl
except ImportError:  # not on Windows; the pipes keep their default size
    fcntl = None

HEADER = struct.Struct(">IIB")
METHODS = ("Remediate", "Analyze")
OK = 0
UNKNOWN = 2  # grpc.StatusCode.UNKNOWN: the relay could not make the call
UNIMPLEMENTED = 12  # grpc.StatusCode.UNIMPLEMENTED


def _read_frame(stream: IO[bytes]) -> Optional[tuple[int, int, bytes]]:
    header = stream.read(HEADER.size)
    if len(header) < HEADER.size:
        return None
    length, number, code = HEADER.unpack(header)
    payload = stream.read(length)
    if len(payload) < length:
        return None
    return number, code, payload


def _widen_pipe(fd: int) -> None:
    """A 1 MiB pipe (Linux; 64 KiB by default, a dozen Analyze answers), so neither side waits on the
    other while the program holds its interpreter."""
    if fcntl is not None and hasattr(fcntl, "F_SETPIPE_SZ"):
        try:
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, 1 << 20)
        except OSError:  # above /proc/sys/fs/pipe-max-size: keep the default
            pass


class RelayCallError(Exception):
    """The pack answered a relayed call with an error status."""

    def __init__(self, method: str, code: int, details: str):
        super().__init__(f"{method} failed with gRPC status {code}: {details}")
        self.method, self.code, self.details = method, code, details


class AnalyzerCallRelay:
    """The program's side: `send` a request (any thread), `answer` its response later."""

    def __init__(self, port: str):
        self.process = subprocess.Popen([sys.executable, "-m", "preflight.call_relay", port],
                                        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.process.stdin is not None and self.process.stdout is not None
        self._stdin, self._stdout = self.process.stdin, self.process.stdout
        for stream in (self._stdin, self._stdout):
            _widen_pipe(stream.fileno())
        self._send_lock = threading.Lock()
        self._answered = threading.Condition()
        self._answers: dict[int, tuple[int, bytes]] = {}
        self._methods: dict[int, str] = {}
        self._next = 0
        self._ended = False
        self._reader = threading.Thread(target=self._read, name="preflight-relay-answers", daemon=True)
        self._reader.start()

    def send(self, method: str, request: Any) -> int:
        """Queue one call; returns its number."""
        payload = request.SerializeToString()
        with self._send_lock:
            if self._stdin.closed:
                raise RuntimeError(f"the call relay is closed; {method} was not sent")
            number = self._next
            self._next += 1
            self._methods[number] = method
            try:
                self._stdin.write(HEADER.pack(len(payload), number, METHODS.index(method)) + payload)
                self._stdin.flush()
            except BrokenPipeError:
                raise RuntimeError(f"the call relay ended (exit code {self.process.poll()}) before "
                                   f"{method} could be sent") from None
        return number

    def _read(self) -> None:
        while (frame := _read_frame(self._stdout)) is not None:
            number, code, payload = frame
            with self._answered:
                self._answers[number] = (code, payload)
                self._answered.notify_all()
        with self._answered:
            self._ended = True
            self._answered.notify_all()

    def answer(self, number: int, response_type: Any) -> Any:
        """The response to call `number` (waits for it); RelayCallError if the pack refused it."""
        with self._answered:
            while number not in self._answers:
                if self._ended:
                    raise RuntimeError(f"the call relay ended before answering {self._methods[number]} "
                                       f"(exit code {self.process.poll()})")
                self._answered.wait()
            code, payload = self._answers.pop(number)
        if code != OK:
            raise RelayCallError(self._methods[number], code, payload.decode(errors="replace"))
        return response_type.FromString(payload)

    def close(self) -> None:
        """No more calls: the relay answers what it has, then ends."""
        with self._send_lock:
            if not self._stdin.closed:
                try:
                    self._stdin.close()
                except BrokenPipeError:  # the relay already ended; answer() says so
                    pass
        self._reader.join()
        self.process.wait()

    def kill(self) -> None:
        """Drop whatever is unanswered (the program failed)."""
        self.process.kill()
        self.close()


def main(port: str) -> None:
    import grpc

    channel = grpc.insecure_channel(f"127.0.0.1:{port}")
    # No serializers: requests and responses pass through as bytes.
    methods = [channel.unary_unary(f"/pulumirpc.Analyzer/{name}") for name in METHODS]
    out = sys.stdout.buffer
    while (frame := _read_frame(sys.stdin.buffer)) is not None:
        number, method, payload = frame
        try:
            code, answer = OK, methods[method](payload)
        except grpc.RpcError as error:
            status = error.code() if isinstance(error, grpc.Call) else grpc.StatusCode.UNKNOWN
            details = error.details() if isinstance(error, grpc.Call) else str(error)
            code, answer = status.value[0], (details or "").encode()
        except Exception as error:  # noqa: BLE001 - reported to the caller, never a silent hang
            code, answer = UNKNOWN, f"{type(error).__name__}: {error}".encode()
        out.write(HEADER.pack(len(answer), number, code) + answer)
        out.flush()
    channel.close()


if __name__ == "__main__":
    main(sys.argv[1])
