"""GET /api/v1/events: the dashboard's server-sent-events stream against the real
hub. A heartbeat's sample reaches an open stream within a second; the key works
as the header or ?key=; a wrong or missing key is 401 in the TRD form; at most 32
streams (503 past that, and a slot frees when a client leaves); a comment line
keeps an idle stream alive; SIGTERM ends open streams and the hub exits 0."""
import os
import socket
import sys
import time
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from hlc import API_KEY, Hub, assert_error  # noqa: E402
from test_agent import heartbeat  # noqa: E402


class Stream:
    """A raw HTTP/1.1 client reading the event stream as it arrives."""

    def __init__(self, hub, path="/api/v1/events", key=API_KEY, header=True):
        self.sock = socket.create_connection(("127.0.0.1", hub.port), timeout=5)
        extra = f"X-API-Key: {key}\r\n" if header and key else ""
        self.sock.sendall(f"GET {path} HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n{extra}\r\n".encode())
        self.buf = b""
        self.head = self._read_until(b"\r\n\r\n", 5).decode()
        self.status = int(self.head.split()[1])

    def _read_until(self, marker, timeout):
        end = time.time() + timeout
        while marker not in self.buf:
            left = end - time.time()
            if left <= 0:
                raise TimeoutError(f"no {marker!r} in {self.buf[-500:]!r}")
            self.sock.settimeout(left)
            chunk = self.sock.recv(4096)
            if not chunk:
                raise EOFError(self.buf[-500:])
            self.buf += chunk
        i = self.buf.index(marker) + len(marker)
        out, self.buf = self.buf[:i], self.buf[i:]
        return out

    def text(self, timeout):
        """Everything that arrives within timeout (chunked framing and all)."""
        end = time.time() + timeout
        while time.time() < end:
            self.sock.settimeout(max(0.01, end - time.time()))
            try:
                chunk = self.sock.recv(4096)
            except socket.timeout:
                break
            if not chunk:
                break
            self.buf += chunk
        out, self.buf = self.buf.decode(), b""
        return out

    def wait_for(self, needle, timeout):
        return self._read_until(needle.encode(), timeout).decode()

    def eof(self, timeout):
        end = time.time() + timeout
        while time.time() < end:
            self.sock.settimeout(max(0.01, end - time.time()))
            try:
                if not self.sock.recv(4096):
                    return True
            except socket.timeout:
                return False
            except OSError:
                return True
        return False

    def close(self):
        self.sock.close()


def open_stream(hub, timeout=10, **kw):
    """A stream, retrying while dead clients of an earlier test still hold slots."""
    deadline = time.time() + timeout
    while True:
        s = Stream(hub, **kw)
        if s.status != 503 or time.time() > deadline:
            return s
        s.close()
        time.sleep(0.2)


class EventsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.hub = Hub().start()

    @classmethod
    def tearDownClass(cls):
        code = cls.hub.stop()
        log = cls.hub.log()
        cls.hub.cleanup()
        assert "Sanitizer" not in log and "runtime error:" not in log, log[-4000:]
        assert code == 0, log[-2000:]

    def post_sample(self, sid):
        r = self.hub.post("/api/v1/agents/heartbeat", heartbeat(sid))
        self.assertEqual(r.status, 200, r)

    def test_sample_reaches_an_open_stream_within_a_second(self):
        s = open_stream(self.hub)
        try:
            self.assertEqual(s.status, 200, s.head)
            self.assertIn("content-type: text/event-stream", s.head.lower())
            s.wait_for("retry: 2000", 2)
            # From the acknowledgement (the sample is committed) to the event;
            # the POST itself (a first heartbeat registers the machine) may take
            # longer under the sanitizers on a loaded machine.
            self.post_sample("ev-box")
            t0 = time.time()
            got = s.wait_for('"id":"ev-box"}', 1.0)
            self.assertLess(time.time() - t0, 1.0)
            self.assertIn("event: sample", got)
            self.assertIn('data: {"kind":"sample","id":"ev-box"}', got)
            # A second machine's sample, and ids go up.
            self.post_sample("ev-other")
            got2 = s.wait_for('"id":"ev-other"}', 1.0)
            ids = [int(line[4:]) for line in (got + got2).splitlines() if line.startswith("id: ")]
            self.assertEqual(len(ids), 2, got + got2)
            self.assertEqual(ids[1], ids[0] + 1)
        finally:
            s.close()

    def test_key_in_the_query_string_for_eventsource(self):
        s = open_stream(self.hub, path=f"/api/v1/events?key={API_KEY}", header=False)
        try:
            self.assertEqual(s.status, 200, s.head)
            s.wait_for("retry:", 2)
            self.post_sample("ev-query")
            s.wait_for('"id":"ev-query"}', 1.0)
        finally:
            s.close()

    def test_refused_keys_and_methods(self):
        assert_error(self, self.hub.get("/api/v1/events", key=None), 401, code="UNAUTHORIZED")
        assert_error(self, self.hub.get("/api/v1/events", key="wrong-key"), 401, code="UNAUTHORIZED")
        assert_error(self, self.hub.get("/api/v1/events?key=wrong-key", key=None), 401, code="UNAUTHORIZED")
        assert_error(self, self.hub.get("/api/v1/events?key=" + "k" * 600, key=None), 401, code="UNAUTHORIZED")
        assert_error(self, self.hub.post("/api/v1/events", {}), 405)

    def test_at_most_32_streams_and_a_slot_frees(self):
        streams = []
        try:
            for _ in range(32):
                s = open_stream(self.hub)
                self.assertEqual(s.status, 200, s.head)
                streams.append(s)
            r = self.hub.get("/api/v1/events")
            assert_error(self, r, 503, code="TOO_MANY_STREAMS")
            # Every one of them still gets events.
            self.post_sample("ev-many")
            for s in streams:
                s.wait_for('"id":"ev-many"}', 2.0)
            streams.pop().close()
            time.sleep(0.1)  # its FIN reaches the hub (EventSource retries after 2 s)
            # The first retry gets the departed client's slot (issue #19: it
            # used to get 503 until the hub next wrote to the stream).
            s = Stream(self.hub)
            streams.append(s)
            self.assertEqual(s.status, 200, s.head)
        finally:
            for s in streams:
                s.close()

    def test_idle_stream_gets_a_keepalive(self):
        s = open_stream(self.hub)
        try:
            s.wait_for("retry:", 2)
            s.wait_for(": keepalive", 17)  # every 15 s
        finally:
            s.close()


class ShutdownTest(unittest.TestCase):
    def test_sigterm_ends_open_streams_and_exits_cleanly(self):
        hub = Hub().start()
        try:
            streams = [Stream(hub) for _ in range(3)]
            for s in streams:
                s.wait_for("retry:", 2)
            t0 = time.time()
            code = hub.stop()
            self.assertEqual(code, 0, hub.log()[-2000:])
            self.assertLess(time.time() - t0, 10)
            for s in streams:
                self.assertTrue(s.eof(2), "stream still open after the hub stopped")
                s.close()
            log = hub.log()
            self.assertNotIn("Sanitizer", log)
            self.assertNotIn("suspended connections", log)
        finally:
            hub.cleanup()


if __name__ == "__main__":
    unittest.main()
