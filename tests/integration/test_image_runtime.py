#!/usr/bin/env python3
"""The Docker image's runtime stage, built as deploy/Dockerfile builds it but
without a container engine (none can run here): debootstrap --variant=minbase
bookworm from the package mirror, then `apt-get install --no-install-recommends`
of exactly deploy/runtime-packages.txt inside it, the image's user with the
Dockerfile's UID/GID, the built hub, agent and dashboard copied where the
Dockerfile puts them. Then, in a chroot as that user: ldd finds every library
of both binaries, the hub starts with the image's environment, its
HEALTHCHECK (`homelabcmd health`) passes, the API answers with the key, the
dashboard and /api/docs' files are served, and the health check fails once
the hub is stopped.

What this does not prove: the image build itself (docker build), the
debian:12-slim base (minbase is close: both are Debian 12 with required
packages only) and the container's own namespaces."""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from hlc import API_KEY, BUILD_DIR, SOURCE_DIR, free_port  # noqa: E402

DEPLOY = os.path.join(SOURCE_DIR, "deploy")
# The image ships a Release build: a sanitizer build links libasan, which the
# image does not have. tests/run.sh builds build-release before this runs.
IMAGE_BUILD = os.environ.get("HLC_IMAGE_BUILD_DIR") or (
    os.path.join(SOURCE_DIR, "build-release")
    if os.path.exists(os.path.join(SOURCE_DIR, "build-release", "server", "homelabcmd")) else BUILD_DIR)


def mirror():
    """The first Debian URI apt uses on this machine."""
    with open("/etc/apt/sources.list.d/debian.sources") as f:
        for line in f:
            if line.startswith("URIs:"):
                return line.split()[1]
    raise RuntimeError("no URIs in debian.sources")


def runtime_packages():
    with open(os.path.join(DEPLOY, "runtime-packages.txt")) as f:
        return [l.strip() for l in f if l.strip() and not l.startswith("#")]


def dockerfile_ids():
    with open(os.path.join(DEPLOY, "Dockerfile")) as f:
        text = f.read()
    uid = re.search(r"^ARG HLC_UID=(\d+)$", text, re.M).group(1)
    gid = re.search(r"^ARG HLC_GID=(\d+)$", text, re.M).group(1)
    # the runtime stage really reads the package list and uses these ids
    assert "runtime-packages.txt | xargs apt-get install -y --no-install-recommends" in text
    assert 'USER ${HLC_UID}:${HLC_GID}' in text and 'CMD ["homelabcmd", "health"]' in text
    return int(uid), int(gid)


class ImageRuntimeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="hlc-image-")
        cls.root = os.path.join(cls.tmp, "root")
        cls.mounted = []
        t0 = time.time()
        subprocess.run([os.path.join(SOURCE_DIR, "tests", "fresh", "minbase.sh"), cls.root,
                        mirror()],
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=420)
        cls.debootstrap_s = time.time() - t0
        shutil.copy("/etc/resolv.conf", os.path.join(cls.root, "etc/resolv.conf"))
        cls.sh("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "
               "--no-install-recommends " + " ".join(runtime_packages()) +
               " >/dev/null && rm -rf /var/lib/apt/lists/*")
        cls.uid, cls.gid = dockerfile_ids()
        cls.sh(f"groupadd --gid {cls.gid} homelabcmd && useradd --uid {cls.uid} --gid {cls.gid} "
               "--home-dir /data --no-create-home --shell /usr/sbin/nologin homelabcmd && "
               f"mkdir -p /data && chown {cls.uid}:{cls.gid} /data && chmod 0700 /data")
        bindir = os.path.join(cls.root, "usr/local/bin")
        for b in ("server/homelabcmd", "agent-lite/homelabcmd-agent"):
            path = os.path.join(IMAGE_BUILD, b)
            needed = subprocess.run(["readelf", "-d", path], capture_output=True, text=True).stdout
            assert "libasan" not in needed and "libubsan" not in needed, \
                f"{path} is a sanitizer build; set HLC_IMAGE_BUILD_DIR to a Release build"
            shutil.copy(path, bindir)
        www = os.path.join(SOURCE_DIR, "www", "dist")
        assert os.path.isdir(www), "build the dashboard first (npm run build in www/)"
        shutil.copytree(www, os.path.join(cls.root, "usr/share/homelabcmd/www"))
        proc = os.path.join(cls.root, "proc")
        subprocess.run(["mount", "-t", "proc", "proc", proc], check=True)
        cls.mounted.append(proc)
        cls.setup_s = time.time() - t0
        print(f"\nimage root: debootstrap {cls.debootstrap_s:.0f} s, ready in {cls.setup_s:.0f} s",
              file=sys.stderr)

    @classmethod
    def tearDownClass(cls):
        for m in reversed(cls.mounted):
            subprocess.run(["umount", "-l", m], check=False)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    @classmethod
    def sh(cls, script):
        subprocess.run(["/usr/sbin/chroot", cls.root, "/bin/sh", "-c", script], check=True, timeout=420)

    def as_user(self, argv, env, **kw):
        """argv in the chroot as the image's user, with only the image's environment."""
        return subprocess.run(["/usr/sbin/chroot", f"--userspec={self.uid}:{self.gid}", self.root, *argv],
                              env=env, **kw)

    def image_env(self, port):
        # the Dockerfile's ENV, the port a free one (the chroot shares the host's network)
        return {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "HOMELABCMD_DATA_DIR": "/data", "HOMELABCMD_LISTEN": f"127.0.0.1:{port}",
                "HOMELABCMD_WWW_DIR": "/usr/share/homelabcmd/www", "HOMELABCMD_API_KEY": API_KEY}

    def test_hub_runs_in_the_runtime_root(self):
        # what is installed is exactly the list plus what it depends on
        env0 = {"PATH": "/usr/bin:/bin"}
        for b in ("homelabcmd", "homelabcmd-agent"):
            res = self.as_user(["ldd", f"/usr/local/bin/{b}"], env0, capture_output=True, text=True,
                               timeout=60)
            self.assertEqual(res.returncode, 0, res.stderr)
            self.assertNotIn("not found", res.stdout, f"{b}:\n{res.stdout}")
        port = free_port()
        env = self.image_env(port)
        log = open(os.path.join(self.tmp, "hub.log"), "wb")
        hub = subprocess.Popen(["/usr/sbin/chroot", f"--userspec={self.uid}:{self.gid}", self.root,
                                "homelabcmd", "serve"], env=env, stdout=log, stderr=subprocess.STDOUT)
        log.close()
        try:
            res, deadline = None, time.time() + 30
            while time.time() < deadline:
                res = self.as_user(["homelabcmd", "health"], env, capture_output=True, text=True,
                                   timeout=30)
                if res.returncode == 0 or hub.poll() is not None:
                    break
                time.sleep(0.2)
            with open(os.path.join(self.tmp, "hub.log")) as f:
                hub_log = f.read()
            self.assertEqual(res.returncode, 0, res.stdout + hub_log)
            self.assertIn("healthy", res.stdout)
            # the API with the key, the dashboard, the docs' vendored files
            req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/servers",
                                         headers={"X-API-Key": API_KEY})
            with urllib.request.urlopen(req, timeout=10) as r:
                self.assertEqual(r.status, 200)
            for path in ("/", "/api/docs", "/api-docs/swagger-ui-bundle.js", "/api/openapi.json"):
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
                    self.assertEqual(r.status, 200, path)
            # the hub's files in /data belong to the image's user
            st = os.stat(os.path.join(self.root, "data", "homelabcmd.db"))
            self.assertEqual((st.st_uid, st.st_gid), (self.uid, self.gid))
            # the backup verb works in the image too (the operator's `docker exec`)
            res = self.as_user(["homelabcmd", "backup", "/data/backup.db"], env,
                               capture_output=True, text=True, timeout=60)
            self.assertEqual(res.returncode, 0, res.stderr)
        finally:
            hub.send_signal(signal.SIGTERM)
            try:
                code = hub.wait(20)
            except subprocess.TimeoutExpired:
                hub.kill()
                code = hub.wait()
        self.assertEqual(code, 0)
        res = self.as_user(["homelabcmd", "health"], env, capture_output=True, text=True, timeout=30)
        self.assertEqual(res.returncode, 1, res.stdout)


if __name__ == "__main__":
    unittest.main(verbosity=2)
