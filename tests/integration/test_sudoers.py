"""deploy/sudoers.homelabcmd against the command lines the hub really builds.

visudo must parse the snippet (a broken file in /etc/sudoers.d stops every
sudo on the machine). Then the hub, asked to queue every whitelisted action
for a machine whose SSH user is not root, builds its command lines (queued
only: nothing runs anywhere); each `sudo -n` part of them must be allowed by
exactly one rule of the snippet, and hostile variants of them by none. The
rules' argument patterns are matched here as sudo matches them: `^...$` is a
regular expression over the arguments joined by single spaces, anything else
is the literal argument list (with sudoers' backslash escapes undone)."""
import os
import re
import shlex
import shutil
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from hlc import Hub  # noqa: E402

ROOT = os.environ.get("HLC_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
SNIPPET = os.path.join(ROOT, "deploy", "sudoers.homelabcmd")


def rules():
    """(program path, argument spec) of every Cmnd_Alias entry."""
    with open(SNIPPET) as f:
        text = f.read().replace("\\\n", " ")
    out = []
    for line in text.splitlines():
        m = re.match(r"\s*Cmnd_Alias\s+\w+\s*=\s*(.*)$", line)
        if not m:
            continue
        # Entries are comma-separated; a comma inside an argument is escaped or
        # sits inside a regex like "nofollow,nonblock" (followed by no space).
        for entry in re.split(r",\s+(?=/)", m.group(1).strip()):
            path, _, args = entry.strip().partition(" ")
            out.append((path, args.strip()))
    return out


def allowed(rule_args, args):
    joined = " ".join(args)
    if rule_args.startswith("^") and rule_args.endswith("$"):
        return re.fullmatch(rule_args[1:-1], joined) is not None
    literal = re.sub(r"\\(.)", r"\1", rule_args)
    return literal == joined


def matching(table, argv):
    """The rules that allow argv (program name first, as the hub writes it)."""
    return [r for r in table if os.path.basename(r[0]) == argv[0] and allowed(r[1], argv[1:])]


def sudo_parts(command):
    """Each `sudo -n ...` invocation of a built shell line, as argv, with the
    VAR=value words sudo passes to the environment dropped."""
    parts = []
    for m in re.finditer(r"sudo -n ((?:[^;&']|'[^']*')+)", command):
        argv = shlex.split(m.group(1))
        while argv and re.match(r"^[A-Z_]+=", argv[0]):
            argv.pop(0)
        parts.append(argv)
    return parts


class SudoersTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.hub = Hub().start()
        r = cls.hub.post("/api/v1/servers", {"server_id": "box", "hostname": "127.0.0.1",
                                             "ssh_user": "homelabcmd"})
        assert r.status == 201, r

    @classmethod
    def tearDownClass(cls):
        cls.hub.stop()
        cls.hub.cleanup()

    def test_visudo_parses_the_snippet(self):
        visudo = shutil.which("visudo") or "/usr/sbin/visudo"
        self.assertTrue(os.path.exists(visudo), "visudo missing: tests/run.sh installs sudo")
        r = subprocess.run([visudo, "-cf", SNIPPET], capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)

    def test_every_built_line_is_allowed_and_variants_are_not(self):
        table = rules()
        self.assertGreaterEqual(len(table), 5, table)
        queued = [
            ("restart_service", "nginx.service"), ("start_service", "getty@tty1.service"),
            ("stop_service", "a:b-c_d"), ("container_start", "web-1"),
            ("container_stop", "db_main"), ("container_restart", "a.b"),
            ("clear_logs", "journal"), ("clear_logs", "/var/log/nginx/access.log.1"),
            ("clear_logs", "/var/log/syslog"), ("apply_updates", None)]
        seen = set()
        for action, target in queued:
            body = {"server_id": "box", "action_type": action}
            if target:
                body["target"] = target
            r = self.hub.post("/api/v1/actions", body)
            self.assertEqual((r.status, r.json["status"]), (201, "pending"), r)
            parts = sudo_parts(r.json["command"])
            self.assertTrue(parts, r.json["command"])
            for argv in parts:
                with self.subTest(action=action, argv=argv):
                    self.assertEqual(len(matching(table, argv)), 1, (argv, table))
                    seen.add(argv[0])
                    # One word more, one word less, or a word changed: refused.
                    for bad in (argv + ["--now"], argv[:-1], argv[:-1] + ["/etc/shadow"],
                                argv[:-1] + [argv[-1] + ";reboot"]):
                        if bad != argv:
                            self.assertEqual(matching(table, bad), [], bad)
        self.assertEqual(seen, {"systemctl", "docker", "journalctl", "dd", "apt-get"})
        # The file the hub empties is reached without following a symlink, and only
        # under /var/log, by path components the hub itself accepts.
        dd = ["dd", "if=/dev/null", "of=/var/log/x.log", "oflag=nofollow,nonblock",
              "conv=nocreat", "status=none"]
        self.assertEqual(len(matching(table, dd)), 1)
        for of in ("/etc/shadow", "/var/log/../etc/shadow", "/var/log/.hidden", "/var/log/",
                   "/var/log/a//b.log", "/var/logx/a.log"):
            self.assertEqual(matching(table, dd[:2] + ["of=" + of] + dd[3:]), [], of)
        self.assertEqual(matching(table, dd[:3] + ["oflag=nonblock"] + dd[4:]), [])
        self.assertEqual(matching(table, ["truncate", "-c", "-s", "0", "/var/log/x.log"]), [])


if __name__ == "__main__":
    unittest.main()
