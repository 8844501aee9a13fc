"""Shared harness for HomelabCmd integration tests: the real hub, over HTTP.

Hub() starts $HLC_BUILD_DIR/server/homelabcmd on a free 127.0.0.1 port with a
temporary data directory, waits for /api/v1/system/health, and stops it by PID.
Only the Python standard library is used, so the tests run on a bare Debian.
"""
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

BUILD_DIR = os.environ.get("HLC_BUILD_DIR", os.path.join(os.path.dirname(__file__), "../../build"))
SOURCE_DIR = os.environ.get("HLC_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "../.."))
HUB_BIN = os.path.join(BUILD_DIR, "server", "homelabcmd")
API_KEY = "test-key-0123456789abcdef0123456789abcdef"


def free_port(host="127.0.0.1"):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class Response:
    def __init__(self, status, body, headers):
        self.status = status
        self.raw = body
        self.headers = headers

    @property
    def json(self):
        return json.loads(self.raw) if self.raw else None

    def __repr__(self):
        return f"<Response {self.status} {self.raw[:300]!r}>"


class Hub:
    """The real hub binary. Use as a context manager or call start()/stop()."""

    def __init__(self, data_dir=None, env=None, api_key=API_KEY, args=(), nofile=None):
        self.own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="hlc-hub-")
        self.api_key = api_key
        self.extra_env = dict(env or {})
        self.args = list(args)
        self.nofile = nofile  # the hub's RLIMIT_NOFILE (soft and hard), e.g. a unit's 1024
        self.proc = None
        self.port = None
        self.log_path = os.path.join(self.data_dir, "hub.log")

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("HOMELABCMD_", "SLACK_"))}
        if self.api_key is not None:
            env["HOMELABCMD_API_KEY"] = self.api_key
        env["HOMELABCMD_DATA_DIR"] = self.data_dir
        env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=0")
        env.update(self.extra_env)
        return env

    def start(self, wait=True):
        self.port = free_port()
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [HUB_BIN, "serve", "--listen", f"127.0.0.1:{self.port}", *self.args],
            env=self.env(), stdout=log, stderr=subprocess.STDOUT, preexec_fn=self._limits)
        log.close()
        if wait:
            self.wait_ready()
        return self

    def _limits(self):
        if self.nofile:
            import resource
            resource.setrlimit(resource.RLIMIT_NOFILE, (self.nofile, self.nofile))

    def wait_ready(self, timeout=20):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"hub exited with {self.proc.returncode}:\n{self.log()}")
            try:
                r = self.get("/api/v1/system/health", key=None)
                if r.status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        raise RuntimeError("hub did not become healthy:\n" + self.log())

    def stop(self, sig=signal.SIGTERM, timeout=20):
        """Stops the hub by PID and returns its exit code."""
        if not self.proc or self.proc.poll() is not None:
            return self.proc.returncode if self.proc else None
        self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait()

    def kill9(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return ""

    def cleanup(self):
        self.kill9()
        if self.own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        code = self.stop()
        log = self.log()
        self.cleanup()
        # A sanitizer report in the hub's log fails the test that ran it.
        if "ERROR: AddressSanitizer" in log or "runtime error:" in log or "LeakSanitizer" in log:
            raise AssertionError("sanitizer report in hub log:\n" + log[-6000:])
        if exc[0] is None and code not in (0, None):
            raise AssertionError(f"hub exited with {code} on SIGTERM:\n{log[-3000:]}")
        return False

    # ---- HTTP ----------------------------------------------------------
    def request(self, method, path, body=None, key="default", headers=None, raw=None, timeout=30):
        data = raw
        hdrs = dict(headers or {})
        if body is not None:
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        if key == "default":
            key = self.api_key
        if key is not None:
            hdrs["X-API-Key"] = key
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return Response(r.status, r.read(), dict(r.headers))
        except urllib.error.HTTPError as e:
            return Response(e.code, e.read(), dict(e.headers))

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body=body, **kw)

    def put(self, path, body=None, **kw):
        return self.request("PUT", path, body=body, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)



def wait_for(pred, timeout=30, step=0.2):
    """pred()'s first true value within timeout seconds, else its last value."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return pred()

def assert_error(tc, resp, status, code=None, field=None):
    """Asserts the TRD error form {"detail":{"code","message","field"}}."""
    tc.assertEqual(resp.status, status, resp)
    detail = resp.json["detail"]
    tc.assertIsInstance(detail["message"], str)
    tc.assertTrue(detail["message"])
    if code:
        tc.assertEqual(detail["code"], code, resp)
    if field:
        tc.assertEqual(detail.get("field"), field, resp)
    return detail


def spool_entries(spool):
    """The agent's committed spool files, oldest first. The agent writes each one
    under a hidden temporary name and renames it, so a listing taken while it
    writes can hold a '.…tmp' that is not (yet) an entry."""
    return sorted(n for n in os.listdir(spool) if n.endswith(".json") and not n.startswith("."))
