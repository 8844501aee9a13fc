#!/usr/bin/env python3
"""Optional HTTPS (issue 25): with HOMELABCMD_TLS_CERT/KEY the hub serves TLS
itself with a certificate made here by openssl; `homelabcmd health` passes
against it (and fails once it is gone); plain HTTP on that port gets no reply;
a half-given pair or a file that is not PEM stops the hub at start."""
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from hlc import HUB_BIN, Hub  # noqa: E402


class TlsTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="hlc-tls-")
        cls.cert, cls.key = os.path.join(cls.tmp, "cert.pem"), os.path.join(cls.tmp, "key.pem")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-keyout", cls.key, "-out", cls.cert,
                        "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"],
                       check=True, capture_output=True, timeout=60)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def health(self, *args, env=None):
        e = {k: v for k, v in os.environ.items() if not k.startswith("HOMELABCMD_")}
        e.update(env or {})
        return subprocess.run([HUB_BIN, "health", *args], capture_output=True, text=True,
                              timeout=30, env=e)

    def test_https(self):
        env = {"HOMELABCMD_TLS_CERT": self.cert, "HOMELABCMD_TLS_KEY": self.key}
        hub = Hub(env=env).start(wait=False)
        try:
            ctx = ssl.create_default_context(cafile=self.cert)
            url = f"https://127.0.0.1:{hub.port}/api/v1/system/health"
            body, deadline = None, time.time() + 20
            while body is None and time.time() < deadline:
                try:
                    with urllib.request.urlopen(url, context=ctx, timeout=5) as r:
                        body = json.load(r)
                except OSError:
                    time.sleep(0.1)
            self.assertEqual(body["status"], "healthy", hub.log())
            req = urllib.request.Request(f"https://127.0.0.1:{hub.port}/api/v1/servers",
                                         headers={"X-API-Key": hub.api_key})
            with urllib.request.urlopen(req, context=ctx, timeout=5) as r:
                self.assertEqual(json.load(r)["total"], 0)
            # the container's HEALTHCHECK: the hub's own settings, then an explicit URL
            res = self.health(env={**env, "HOMELABCMD_LISTEN": f"0.0.0.0:{hub.port}"})
            self.assertEqual(res.returncode, 0, res.stdout + res.stderr)
            self.assertIn("https://127.0.0.1", res.stdout)
            # a base URL names the health route by itself (here over plain HTTP: no answer)
            res = self.health("--url", f"http://127.0.0.1:{hub.port}")
            self.assertEqual(res.returncode, 1)
            self.assertIn(f"http://127.0.0.1:{hub.port}/api/v1/system/health", res.stdout)
            # an explicit https URL verifies the certificate: unknown CA -> unhealthy
            self.assertEqual(self.health("--url", url).returncode, 1)
            # plain HTTP to the TLS port gets no HTTP answer
            self.assertEqual(self.health("--url", url.replace("https", "http")).returncode, 1)
        finally:
            self.assertEqual(hub.stop(), 0, hub.log())
            hub.cleanup()
        res = self.health(env={**env, "HOMELABCMD_LISTEN": f"127.0.0.1:{hub.port}"})
        self.assertEqual(res.returncode, 1)
        self.assertIn("unhealthy", res.stdout)

    def test_bad_settings_stop_the_hub(self):
        for env in ({"HOMELABCMD_TLS_CERT": self.cert},
                    {"HOMELABCMD_TLS_CERT": self.cert, "HOMELABCMD_TLS_KEY": "/etc/hostname"}):
            hub = Hub(env=env).start(wait=False)
            try:
                self.assertNotEqual(hub.proc.wait(20), 0)
            finally:
                hub.cleanup()

    def test_health_usage(self):
        self.assertEqual(self.health("--url").returncode, 2)
        self.assertEqual(self.health("--url", "ftp://x/").returncode, 2)


if __name__ == "__main__":
    unittest.main(verbosity=2)
