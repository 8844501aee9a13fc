"""A small network of namespaces for discovery tests and the benchmark: a
"hub" namespace holding a bridge with the first address of a private /24,
and one namespace per peer joined to the bridge by a veth pair whose
peer-side MAC is chosen by the caller. Every address is in 10.x inside these
namespaces only; the host's own network is never touched. Peers can answer
ping, reset or drop TCP, drop everything, or listen on port 22 (a tiny
Python listener that may send an SSH identification line).

Use as a context manager; everything is deleted on exit (processes by PID,
then the namespaces, which takes the veths and the bridge with them)."""
import os
import shutil
import subprocess
import sys
import time

LISTENER = r"""
import socket, sys, select
banner = sys.argv[1].encode() if len(sys.argv) > 1 and sys.argv[1] else b""
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("0.0.0.0", 22)); s.listen(64)
print("ready", flush=True)
held = []
while True:
    c, _ = s.accept()
    if banner:
        c.sendall(banner + b"\r\n")
    held.append(c)
    if len(held) > 64:
        held.pop(0).close()
"""


def sh(*args, check=True):
    return subprocess.run(args, check=check, capture_output=True, text=True)


class Lab:
    def __init__(self, tag, net="10.77.0"):
        self.tag = f"{tag}{os.getpid() % 100000}"
        self.net = net
        self.hub_ns = f"{self.tag}-hub"
        self.peers = {}  # ns name -> last octet
        self.procs = []
        self.etc = f"/etc/netns/{self.hub_ns}"

    def __enter__(self):
        sh("ip", "netns", "add", self.hub_ns)
        self.ns(self.hub_ns, "ip", "link", "set", "lo", "up")
        self.ns(self.hub_ns, "ip", "link", "add", "br0", "type", "bridge")
        self.ns(self.hub_ns, "ip", "addr", "add", f"{self.net}.1/24", "dev", "br0")
        self.ns(self.hub_ns, "ip", "link", "set", "br0", "up")
        # ip netns exec bind-mounts these over /etc/hosts and /etc/resolv.conf
        # for the hub's namespace: names come from the test, and DNS asks a
        # loopback port nobody listens on (an answer at once, never outside).
        os.makedirs(self.etc, exist_ok=True)
        with open(os.path.join(self.etc, "resolv.conf"), "w") as f:
            f.write("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
        self.hosts({})
        return self

    def hosts(self, names):
        with open(os.path.join(self.etc, "hosts"), "w") as f:
            f.write("127.0.0.1 localhost\n")
            for ip, name in names.items():
                f.write(f"{ip} {name}\n")

    def ns(self, ns, *args, check=True):
        return sh("ip", "netns", "exec", ns, *args, check=check)

    def peer(self, octet, mac, ping=True, tcp="reset", ssh_banner=None, udp="reset"):
        """One host at .octet. ping: answers echo requests. tcp: "reset"
        (closed ports answer RST), "drop" (silence), or "listen" (port 22
        accepts; ssh_banner is sent first when given). ping=False, tcp="drop"
        is a host that answers no ping or TCP; with udp="drop" it answers
        nothing at all (but ARP, as any host does): a resolver that hangs."""
        name = f"{self.tag}-p{octet}"
        sh("ip", "netns", "add", name)
        self.peers[name] = octet
        h = f"h{self.tag[-6:]}{octet}"[:15]
        sh("ip", "link", "add", h, "netns", self.hub_ns, "type", "veth", "peer", "name", "eth0",
           "netns", name)
        self.ns(self.hub_ns, "ip", "link", "set", h, "master", "br0", "up")
        self.ns(name, "ip", "link", "set", "lo", "up")
        self.ns(name, "ip", "link", "set", "eth0", "address", mac)
        self.ns(name, "ip", "addr", "add", f"{self.net}.{octet}/24", "dev", "eth0")
        self.ns(name, "ip", "link", "set", "eth0", "up")
        if not ping:
            self.ns(name, "iptables", "-A", "INPUT", "-p", "icmp", "--icmp-type", "echo-request",
                    "-j", "DROP")
        if tcp == "drop":
            self.ns(name, "iptables", "-A", "INPUT", "-p", "tcp", "-j", "DROP")
        if udp == "drop":
            self.ns(name, "iptables", "-A", "INPUT", "-p", "udp", "-j", "DROP")
        if tcp == "listen":
            p = subprocess.Popen(["ip", "netns", "exec", name, sys.executable, "-c", LISTENER,
                                  ssh_banner or ""], stdout=subprocess.PIPE, text=True)
            self.procs.append(p)
            assert p.stdout.readline().strip() == "ready"
        return name

    def count_from_hub(self, name):
        """Adds an iptables rule in peer `name` counting IPv4 packets from the hub."""
        self.ns(name, "iptables", "-I", "INPUT", "1", "-s", f"{self.net}.1", "-j", "ACCEPT")

    def packets_from_hub(self, name):
        out = self.ns(name, "iptables", "-L", "INPUT", "1", "-v", "-n", "-x").stdout.split()
        return int(out[0])

    def __exit__(self, *exc):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
            p.stdout.close()
        for name in list(self.peers) + [self.hub_ns]:
            sh("ip", "netns", "del", name, check=False)
        shutil.rmtree(self.etc, ignore_errors=True)
        try:
            os.rmdir("/etc/netns")  # only when nothing else is left in it
        except OSError:
            pass
        return False


def wait_gone(ns, timeout=5):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if ns not in sh("ip", "netns", "list").stdout:
            return True
        time.sleep(0.1)
    return False
