#!/usr/bin/env python3
"""Config-pack compliance checks: the hub against Ansible's check mode, the
tool an operator would otherwise use, on the same sshd machines in the same run.

  hub       POST /api/v1/servers/{id}/compliance/check for the three shipped
            packs (base, developer-lite, developer-max, extends flattened) on
            every machine, 8 requests in flight; one SSH exec per machine and
            pack over the hub's pooled sessions
  ansible   ansible-playbook --check --diff of the equivalent playbook (built
            from the same resolved packs: copy, file, apt, systemd_service,
            lineinfile, and `sysctl -n` for the sysctl keys, since
            ansible.posix is not part of ansible-core), forks = machines,
            pipelining on, fact gathering off, SSH ControlPersist

Both run warm: the hub's sessions are open and Ansible's ControlMaster
connections are up (a first, untimed run of each). Printed: wall time, local
CPU (the hub process plus this bench's HTTP client; ansible-playbook and every
process it started, ssh clients included) and the CPU of the whole machine
(the targets' sshd, sh and python run on the same cores), then the ratios.
Also: one machine's check of all three packs in a row on a warm session.
Goals (issue 22): hub >= 10x faster in wall time, >= 20x cheaper in local
CPU; one machine's 3 packs <= 1 s warm (seed: < 10 s a machine).

The machines are real OpenSSH sshd on 127.0.0.150.. (tests/integration/sshd.py)
sharing this host's filesystem and package database (so both tools read the
same /etc and dpkg state); systemctl is sshd.py's stand-in. Ansible needs
python3-apt on the targets for the apt module (this host's).

Env: HLC_BUILD_DIR (a Release build), HLC_BENCH_MACHINES (20).
"""
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from hlc import Hub  # noqa: E402
import sshd  # noqa: E402

N = int(os.environ.get("HLC_BENCH_MACHINES", "20"))
PACKS = ["base", "developer-lite", "developer-max"]
TICK = os.sysconf("SC_CLK_TCK")


def proc_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        v = f.read().rsplit(")", 1)[1].split()
    return (int(v[11]) + int(v[12])) / TICK


def machine_cpu():
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return (sum(v) - v[3] - v[4]) / TICK  # all but idle and iowait


def self_cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def children_cpu():
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def q(s):
    return json.dumps(s)  # a JSON string is a valid YAML flow scalar


def playbook(packs):
    """The equivalent Ansible playbook for the resolved packs: each item once
    (developer-max holds base's and developer-lite's items too), as an
    operator writing one playbook for the three would."""
    tasks = []
    pkgs = {}
    seen = set()
    for p in packs:
        for it in p["items"]:
            key = (it["kind"], it["check"], it["target"], it.get("value"))
            if key in seen:
                continue
            seen.add(key)
            k, c, t = it["kind"], it["check"], it["target"]
            if k == "file" and c == "present" and "content" in it:
                args = {"dest": t, "content": it["content"]}
                for a in ("mode", "owner", "group"):
                    if a in it:
                        args[a] = it[a]
                tasks.append(("ansible.builtin.copy", args, None))
            elif k == "file" and c == "absent":
                tasks.append(("ansible.builtin.file", {"path": t, "state": "absent"}, None))
            elif k == "package":  # one apt task per state, as an operator writes it
                pkgs.setdefault("present" if c == "installed" else "absent", []).append(t)
            elif k == "service":
                a = {"name": t}
                if c in ("enabled", "disabled"):
                    a["enabled"] = c == "enabled"
                else:
                    a["state"] = "started" if c == "running" else "stopped"
                tasks.append(("ansible.builtin.systemd_service", a, None))
            elif c == "sysctl":
                tasks.append(("ansible.builtin.command", {"argv": ["/usr/sbin/sysctl", "-n", t]},
                              it["value"]))
            elif c == "line":
                a = {"path": t, "line": it["value"]}
                if "match" in it:
                    a["regexp"] = it["match"]
                tasks.append(("ansible.builtin.lineinfile", a, None))
    for state, names in pkgs.items():
        tasks.append(("ansible.builtin.apt", {"name": names, "state": state}, None))
    out = ["- hosts: all", "  gather_facts: false", "  tasks:"]
    for i, (mod, args, want) in enumerate(tasks):
        out.append(f"    - name: item {i}")
        out.append(f"      {mod}:")
        for k, v in args.items():
            out.append(f"        {k}: {q(v) if not isinstance(v, list) else json.dumps(v)}")
        out.append("      ignore_errors: true")
        if want is not None:  # command is skipped in check mode unless told otherwise
            out.append("      check_mode: false")
            out.append("      register: r")
            out.append(f"      changed_when: r.stdout.split() | join(' ') != {q(want)}")
    return "\n".join(out) + "\n", len(tasks)


def post(url, key, path, body):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(), method="POST",
                                 headers={"X-API-Key": key, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.status, json.loads(r.read())


def hub_round(hub, ids, inflight=8):
    jobs = [(i, p) for i in ids for p in PACKS]
    lock = threading.Lock()
    bad = []

    def worker():
        while True:
            with lock:
                if not jobs:
                    return
                sid, pack = jobs.pop()
            st, body = post(hub.url, hub.api_key, f"/api/v1/servers/{sid}/compliance/check",
                            {"pack": pack})
            if st != 200 or len(body["items"]) == 0:
                bad.append((sid, pack, st))
    th = [threading.Thread(target=worker) for _ in range(inflight)]
    for t in th:
        t.start()
    for t in th:
        t.join()
    if bad:
        raise SystemExit(f"hub checks failed: {bad[:3]}")


def main():
    work = tempfile.mkdtemp(prefix="hlc-bench-packs-")
    key = os.path.join(work, "id_ed25519")
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", key], check=True)
    with open(key + ".pub") as f:
        ans_pub = f.read().strip()
    hub = Hub().start()
    fleet = None
    try:
        hub_pub = hub.get("/api/v1/ssh/public-key").json["public_key"]
        fleet = sshd.Fleet(N, [hub_pub, ans_pub], first_ip=150).start()
        ids = []
        for i, m in enumerate(fleet.machines):
            m.set_unit("systemd-timesyncd", "active")
            m.set_enabled("systemd-timesyncd", "enabled")
            r = hub.post("/api/v1/servers", {"server_id": f"p{i}", "hostname": m.host,
                                             "ssh_port": m.port, "ssh_user": sshd.USER})
            assert r.status == 201, r
            ids.append(f"p{i}")
        packs = [hub.get(f"/api/v1/packs/{p}").json for p in PACKS]
        items = sum(len(p["items"]) for p in packs)

        # ---- hub -----------------------------------------------------------
        hub_round(hub, ids)  # warm: sessions open
        pid = hub.proc.pid
        c0, s0, m0, t0 = proc_cpu(pid), self_cpu(), machine_cpu(), time.monotonic()
        hub_round(hub, ids)
        hub_wall = time.monotonic() - t0
        hub_cpu = proc_cpu(pid) - c0 + self_cpu() - s0
        hub_mcpu = machine_cpu() - m0
        one = []
        for _ in range(5):
            t = time.monotonic()
            for p in PACKS:
                st, _ = post(hub.url, hub.api_key, "/api/v1/servers/p0/compliance/check",
                             {"pack": p})
                assert st == 200
            one.append(time.monotonic() - t)
        one.sort()

        # ---- ansible -------------------------------------------------------
        if not shutil.which("ansible-playbook"):
            print("ansible-playbook not installed (apt-get install ansible-core): hub only")
            ans = None
        else:
            text, ntasks = playbook(packs)
            with open(os.path.join(work, "play.yml"), "w") as f:
                f.write(text)
            with open(os.path.join(work, "hosts.ini"), "w") as f:
                f.write("[all]\n")
                for i, m in enumerate(fleet.machines):
                    f.write(f"p{i} ansible_host={m.host} ansible_port={m.port} "
                            f"ansible_user={sshd.USER} ansible_ssh_private_key_file={key} "
                            "ansible_python_interpreter=/usr/bin/python3\n")
            env = dict(os.environ, ANSIBLE_PIPELINING="True", ANSIBLE_HOST_KEY_CHECKING="False",
                       ANSIBLE_LOCAL_TEMP=os.path.join(work, "atmp"),
                       ANSIBLE_REMOTE_TMP="/tmp/.hlc-bench-ansible",
                       ANSIBLE_SSH_ARGS="-o ControlMaster=auto -o ControlPersist=120s "
                                        "-o UserKnownHostsFile=/dev/null",
                       ANSIBLE_CONTROL_PATH_DIR=os.path.join(work, "cp"),
                       ANSIBLE_NOCOLOR="1", ANSIBLE_RETRY_FILES_ENABLED="False")
            cmd = ["ansible-playbook", "-i", os.path.join(work, "hosts.ini"),
                   os.path.join(work, "play.yml"), "--check", "--diff", "-f", str(N)]
            with open(os.path.join(work, "warm.yml"), "w") as f:
                f.write("- hosts: all\n  gather_facts: false\n  tasks:\n"
                        "    - ansible.builtin.command: 'true'\n")
            log = open(os.path.join(work, "ansible.log"), "w")
            # warm: ControlMaster connections up and the remote tmp made
            subprocess.run(cmd[:3] + [os.path.join(work, "warm.yml"), "-f", str(N)], env=env,
                           stdout=log, stderr=subprocess.STDOUT)
            k0, m0, t0 = children_cpu(), machine_cpu(), time.monotonic()
            rc = subprocess.run(cmd, env=env, stdout=log, stderr=subprocess.STDOUT).returncode
            ans_wall = time.monotonic() - t0
            ans_cpu = children_cpu() - k0
            ans_mcpu = machine_cpu() - m0
            log.close()
            with open(os.path.join(work, "ansible.log")) as f:
                alog = f.read().splitlines()
            recap = [l for l in alog if l.startswith("p") and "ok=" in l]
            fatal = sorted({l.split("=>", 1)[-1][:160] for l in alog if l.startswith("fatal:")})
            for l in fatal[:5]:
                print("  ansible task error (ignored, as the hub reports an error item):", l)
            ans = (ans_wall, ans_cpu, ans_mcpu, rc, ntasks, recap[-1] if recap else "no recap")

        print(f"config packs: {N} machines x 3 packs ({items} items after extends), warm, "
              "shared 2-core machine (figures are noisy while other work runs)")
        print(f"  hub      wall {hub_wall:7.2f} s  local CPU {hub_cpu:7.2f} s  "
              f"machine CPU {hub_mcpu:7.2f} s  ({3 * N} checks, 8 in flight)")
        if ans:
            aw, ac, am, rc, nt, recap = ans
            print(f"  ansible  wall {aw:7.2f} s  local CPU {ac:7.2f} s  machine CPU {am:7.2f} s  "
                  f"({nt} tasks a host, forks {N}, exit {rc}; last recap: {recap.strip()})")
            print(f"  ratio    wall {aw / hub_wall:6.1f}x  local CPU {ac / max(hub_cpu, 1e-3):6.1f}x  "
                  f"machine CPU {am / max(hub_mcpu, 1e-3):6.1f}x   (goals: >= 10x wall, >= 20x CPU)")
        print(f"  one machine, 3 packs in a row (warm): best {one[0] * 1000:.0f} ms, "
              f"median {one[2] * 1000:.0f} ms (goal <= 1000 ms)")
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
