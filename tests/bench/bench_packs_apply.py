#!/usr/bin/env python3
"""Applying config packs: the hub against Ansible applying the equivalent
playbook for real, on the same fresh sshd machines in the same run.

  hub       POST /api/v1/servers/{id}/packs/{name}/apply {"dry_run": false} on
            every machine, auto-approved, 8 requests in flight: per machine a
            check, the plan, one apply exec (sudo -n through the logging
            stand-in: the SSH user is not root) and the check again
  ansible   ansible-playbook of the equivalent playbook (copy, file, lineinfile,
            copy + command sysctl -p), forks = machines, pipelining on, fact
            gathering off, SSH ControlPersist; writes as the SSH user directly

Each machine gets its own pack naming files in its own folder (the machines
share this host's filesystem), so both tools make the same changes: 6 files
written (mode 0640), 1 removed, 2 lines edited, 1 sysctl drop-in applied with
`sysctl -p` (packtargets.py's stand-in). "Fresh": every machine is put back to
the same starting state before each tool's run; both run warm (sessions and
ControlMaster connections up). Packages and units are left out: Ansible's apt
and systemd modules would reach this host's real dpkg and systemd. Printed:
wall time, local CPU, whole-machine CPU, the ratios (goal: hub >= 10x faster
in wall time), and that a second hub apply changed nothing.

Env: HLC_BUILD_DIR (a Release build), HLC_BENCH_MACHINES (20); HLC_BENCH_FULL=1
repeats each side 3 times and prints the best.
"""
import json
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
sys.path.insert(0, HERE)
from hlc import Hub  # noqa: E402
import packtargets  # noqa: E402
import sshd  # noqa: E402
from bench_packs import children_cpu, machine_cpu, proc_cpu, self_cpu, q  # noqa: E402

N = int(os.environ.get("HLC_BENCH_MACHINES", "20"))
ROUNDS = 3 if os.environ.get("HLC_BENCH_FULL") == "1" else 1
FILES = [f"conf{k}.conf" for k in range(6)]
SUDO = "#!/bin/sh\necho \"$$ sudo $*\" >> \"$HLC_MACHINE/commands.log\"\n" \
       "[ \"$1\" = -n ] || exit 1\nshift\nexec \"$@\"\n"


def content(k):
    return "".join(f"setting_{k}_{j} = {j * 7}\n" for j in range(40))


def pack(i, d):
    files = "".join(f"  - {{path: {d}/{f}, content: {q(content(k))}, mode: \"0640\"}}\n"
                    for k, f in enumerate(FILES))
    return (f"name: bench-{i}\nfiles:\n{files}  - {{path: {d}/stale.conf, absent: true}}\n"
            f"settings:\n  sysctl: {{vm.swappiness: \"10\", net.core.somaxconn: \"4096\"}}\n"
            f"  lines:\n    - {{path: {d}/environment, line: \"EDITOR=vim\", match: \"^EDITOR=\"}}\n"
            f"    - {{path: {d}/environment, line: \"LANG=C.UTF-8\"}}\n")


def playbook():
    t = []
    for k, f in enumerate(FILES):
        t.append(("ansible.builtin.copy", {"dest": "{{ d }}/" + f, "content": content(k),
                                           "mode": "0640"}))
    t.append(("ansible.builtin.file", {"path": "{{ d }}/stale.conf", "state": "absent"}))
    t.append(("ansible.builtin.lineinfile", {"path": "{{ d }}/environment", "line": "EDITOR=vim",
                                             "regexp": "^EDITOR="}))
    t.append(("ansible.builtin.lineinfile", {"path": "{{ d }}/environment",
                                             "line": "LANG=C.UTF-8"}))
    t.append(("ansible.builtin.copy", {"dest": "{{ s }}",
                                       "content": "vm.swappiness = 10\nnet.core.somaxconn = 4096\n",
                                       "mode": "0644"}))
    out = ["- hosts: all", "  gather_facts: false", "  tasks:"]
    for i, (mod, args) in enumerate(t):
        out += [f"    - name: item {i}", f"      {mod}:"]
        out += [f"        {k}: {q(v)}" for k, v in args.items()]
        if i == len(t) - 1:
            out.append("      register: sc")
    out += ["    - name: sysctl -p", "      ansible.builtin.command:",
            "        argv: [sysctl, -p, \"{{ s }}\"]", "      when: sc.changed"]
    return "\n".join(out) + "\n"


def reset(machines, dirs, sysdir, user):
    for m, d in zip(machines, dirs):
        for f in FILES:
            p = os.path.join(d, f)
            if os.path.exists(p):
                os.unlink(p)
        for name, text in (("stale.conf", "old\n"), ("environment", "PATH=/bin\nEDITOR=nano\n")):
            p = os.path.join(d, name)
            with open(p, "w") as fh:
                fh.write(text)
            os.chown(p, user.pw_uid, user.pw_gid)
        packtargets.set_sysctl(m, "vm.swappiness", "60")
        packtargets.set_sysctl(m, "net.core.somaxconn", "4096")
        subprocess.run(["chown", "-R", f"{user.pw_uid}:{user.pw_gid}",
                        os.path.join(m.dir, "state")], check=True)
    for f in os.listdir(sysdir):
        os.unlink(os.path.join(sysdir, f))


def post(url, key, path, body):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"X-API-Key": key, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=120) as r:
        return r.status, json.loads(r.read())


def hub_round(hub, n, inflight=8):
    jobs = list(range(n))
    lock = threading.Lock()
    changes, bad = [], []

    def worker():
        while True:
            with lock:
                if not jobs:
                    return
                i = jobs.pop()
            st, body = post(hub.url, hub.api_key, f"/api/v1/servers/b{i}/packs/bench-{i}/apply",
                            {"dry_run": False})
            if st != 200 or body.get("status") != "completed" or not body.get("compliant"):
                bad.append((i, st, body.get("status"), body.get("failure_reason"),
                            body.get("stderr")))
            changes.append(body.get("changes"))
    th = [threading.Thread(target=worker) for _ in range(inflight)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    if bad:
        raise SystemExit(f"hub applies failed: {bad[:3]}")
    return changes


def verify(dirs):
    for d in dirs:
        for k, f in enumerate(FILES):
            with open(os.path.join(d, f)) as fh:
                assert fh.read() == content(k), (d, f)
        assert not os.path.exists(os.path.join(d, "stale.conf"))
        with open(os.path.join(d, "environment")) as fh:
            assert fh.read() == "PATH=/bin\nEDITOR=vim\nLANG=C.UTF-8\n", d


def main():
    sshd.ensure_users()
    user = pwd.getpwnam(sshd.USER)
    work = tempfile.mkdtemp(prefix="hlc-bench-apply-")
    os.chmod(work, 0o755)
    sysdir = os.path.join(work, "sysctl.d")
    os.makedirs(sysdir)
    os.chown(sysdir, user.pw_uid, user.pw_gid)
    key = os.path.join(work, "id_ed25519")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
    with open(key + ".pub") as f:
        ans_pub = f.read().strip()
    hub = Hub(env={"HOMELABCMD_SYSCTL_DIR": sysdir})
    os.makedirs(os.path.join(hub.data_dir, "packs"))
    dirs = []
    for i in range(N):
        d = os.path.join(work, f"m{i}")
        os.makedirs(d)
        os.chown(d, user.pw_uid, user.pw_gid)
        dirs.append(d)
        with open(os.path.join(hub.data_dir, "packs", f"bench-{i}.yaml"), "w") as f:
            f.write(pack(i, d))
    hub.start()
    fleet = None
    try:
        hub_pub = hub.get("/api/v1/ssh/public-key").json["public_key"]
        fleet = sshd.Fleet(N, [hub_pub, ans_pub], first_ip=180).start()
        for i, m in enumerate(fleet.machines):
            packtargets.install(m)
            p = os.path.join(m.dir, "bin", "sudo")
            with open(p, "w") as f:
                f.write(SUDO)
            os.chmod(p, 0o755)
            r = hub.post("/api/v1/servers", {"server_id": f"b{i}", "hostname": m.host,
                                             "ssh_port": m.port, "ssh_user": sshd.USER})
            assert r.status == 201, r
        hub.put("/api/v1/config", {"remediation": {"auto_approve_enabled": True,
                                                   "auto_approve_actions": ["apply_pack"]}})
        # ---- hub -----------------------------------------------------------
        reset(fleet.machines, dirs, sysdir, user)
        hub_round(hub, N)  # warm: sessions open (and a first apply)
        best = None
        pid = hub.proc.pid
        for _ in range(ROUNDS):
            reset(fleet.machines, dirs, sysdir, user)
            c0, s0, m0, t0 = proc_cpu(pid), self_cpu(), machine_cpu(), time.monotonic()
            changes = hub_round(hub, N)
            run = (time.monotonic() - t0, proc_cpu(pid) - c0 + self_cpu() - s0,
                   machine_cpu() - m0, sum(changes))
            verify(dirs)
            best = run if not best or run[0] < best[0] else best
        again = hub_round(hub, N)
        hub_wall, hub_cpu, hub_mcpu, hub_changes = best

        # ---- ansible -------------------------------------------------------
        ans = None
        if not shutil.which("ansible-playbook"):
            print("ansible-playbook not installed (apt-get install ansible-core): hub only")
        else:
            with open(os.path.join(work, "play.yml"), "w") as f:
                f.write(playbook())
            with open(os.path.join(work, "hosts.ini"), "w") as f:
                f.write("[all]\n")
                for i, m in enumerate(fleet.machines):
                    f.write(f"b{i} ansible_host={m.host} ansible_port={m.port} "
                            f"ansible_user={sshd.USER} ansible_ssh_private_key_file={key} "
                            f"ansible_python_interpreter=/usr/bin/python3 d={dirs[i]} "
                            f"s={sysdir}/90-ansible-b{i}.conf\n")
            env = dict(os.environ, ANSIBLE_PIPELINING="True", ANSIBLE_HOST_KEY_CHECKING="False",
                       ANSIBLE_LOCAL_TEMP=os.path.join(work, "atmp"),
                       ANSIBLE_REMOTE_TMP="/tmp/.hlc-bench-ansible",
                       ANSIBLE_SSH_ARGS="-o ControlMaster=auto -o ControlPersist=120s "
                                        "-o UserKnownHostsFile=/dev/null",
                       ANSIBLE_CONTROL_PATH_DIR=os.path.join(work, "cp"),
                       ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="False")
            inv = os.path.join(work, "hosts.ini")
            cmd = ["ansible-playbook", "-i", inv, os.path.join(work, "play.yml"), "-f", str(N)]
            with open(os.path.join(work, "warm.yml"), "w") as f:
                f.write("- hosts: all\n  gather_facts: false\n  tasks:\n"
                        "    - ansible.builtin.command: 'true'\n")
            log = open(os.path.join(work, "ansible.log"), "w")
            subprocess.run(["ansible-playbook", "-i", inv, os.path.join(work, "warm.yml"), "-f",
                            str(N)], env=env, stdout=log, stderr=subprocess.STDOUT)
            for _ in range(ROUNDS):
                reset(fleet.machines, dirs, sysdir, user)
                k0, m0, t0 = children_cpu(), machine_cpu(), time.monotonic()
                rc = subprocess.run(cmd, env=env, stdout=log, stderr=subprocess.STDOUT).returncode
                run = (time.monotonic() - t0, children_cpu() - k0, machine_cpu() - m0, rc)
                if rc == 0:
                    verify(dirs)
                ans = run if not ans or run[0] < ans[0] else ans
            log.close()
            with open(os.path.join(work, "ansible.log")) as f:
                recap = [l for l in f.read().splitlines() if l.startswith("b") and "ok=" in l]
        print(f"config pack apply: {N} fresh machines, 10 changes each (6 files, 1 removal, "
              f"2 lines, 1 sysctl drop-in), warm, best of {ROUNDS}; shared 2-core machine")
        print(f"  hub      wall {hub_wall:7.2f} s  local CPU {hub_cpu:7.2f} s  "
              f"machine CPU {hub_mcpu:7.2f} s  ({N} applies, 8 in flight, {hub_changes} changes; "
              f"second apply: {sum(c or 0 for c in again)} changes)")
        if ans:
            aw, ac, am, rc = ans
            print(f"  ansible  wall {aw:7.2f} s  local CPU {ac:7.2f} s  machine CPU {am:7.2f} s  "
                  f"(forks {N}, exit {rc}; last recap: {recap[-1].strip() if recap else '-'})")
            print(f"  ratio    wall {aw / hub_wall:6.1f}x  local CPU {ac / max(hub_cpu, 1e-3):6.1f}x  "
                  f"machine CPU {am / max(hub_mcpu, 1e-3):6.1f}x   (goal: >= 10x wall)")
    finally:
        if fleet:
            fleet.stop()
        hub.stop()
        hub.cleanup()
        if fleet:
            shutil.rmtree(fleet.base, ignore_errors=True)
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree("/tmp/.hlc-bench-ansible", ignore_errors=True)


if __name__ == "__main__":
    main()
