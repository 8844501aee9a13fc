"""Network discovery against real hosts: network namespaces joined by veth
pairs to a bridge in the hub's namespace (all in 10.77.0.0/24, inside the
namespaces this test makes). The hub runs inside its namespace and is asked
for 10.77.0.0/25; the test knows the truth of every peer:

  .11  answers ping; port 22 speaks an SSH identification line
  .12  answers ping; drops all TCP              (found only by ICMP)
  .13  drops echo requests; port 22 accepts, says nothing
  .14  answers nothing at all (but ARP, as any host); later the resolver
  .15  answers ping; closed ports reset
  .130 outside the /25, on the same link: counts every packet from the hub

and asserts exactly the live set, the MACs, the vendor from oui.txt, ssh and
its banner, the reverse-DNS name, registered_as, in ICMP mode and in TCP
mode; that .130 saw no packet and the hub never resolved its MAC; and the
422s for bad and too large subnets; and that a second discovery while one
runs gets 409."""
import json
import os
import subprocess
import sys
import unittest

sys.path.insert(0, os.path.dirname(__file__))
from netlab import Lab  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
BANNER = "SSH-2.0-HLCTest_1.0 netns"
OUI = "/usr/share/ieee-data/oui.txt"


def last_oui():
    """The prefix of the registry's last unicast "(hex)" line, so one host's
    vendor is found only when the whole file is read."""
    last = "02-4C-00"
    try:
        with open(OUI, encoding="utf-8", errors="replace") as f:
            for line in f:
                # (a multicast first octet cannot be a link's address)
                if line[8:].lstrip().startswith("(hex)") and not int(line[:2], 16) & 1:
                    last = line[:8].upper()
    except OSError:
        pass
    return last


LAST = last_oui()
MACS = {11: "00:22:72:00:00:11", 12: "02:4c:00:00:00:12", 13: "02:4c:00:00:00:13",
        14: "02:4c:00:00:00:14", 15: LAST.lower().replace("-", ":") + ":00:00:15",
        130: "02:4c:00:00:01:30"}


def oui_vendor(prefix):
    try:
        with open(OUI, encoding="utf-8", errors="replace") as f:
            for line in f:
                if line[:8].upper() == prefix and line[8:].lstrip().startswith("(hex)"):
                    return line.split("(hex)", 1)[1].strip()
    except OSError:
        return None
    return None


class DiscoverTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        with Lab("hlcd") as lab:
            lab.peer(11, MACS[11], tcp="listen", ssh_banner=BANNER)
            lab.peer(12, MACS[12], tcp="drop")
            lab.peer(13, MACS[13], ping=False, tcp="listen")
            lab.peer(14, MACS[14], ping=False, tcp="drop", udp="drop")
            lab.peer(15, MACS[15])
            outside = lab.peer(130, MACS[130], tcp="listen", ssh_banner=BANNER)
            lab.count_from_hub(outside)
            lab.hosts({"10.77.0.11": "alpha.lab.example", "10.77.0.130": "outside.lab.example"})
            r = subprocess.run(["ip", "netns", "exec", lab.hub_ns, sys.executable, "-u",
                                os.path.join(HERE, "discover_ns.py"), "10.77.0.0/25",
                                "10.77.0.13/32", "--register", "10.77.0.15",
                                "--slow-dns", "10.77.0.14"],
                               capture_output=True, text=True, timeout=120)
            if r.returncode != 0:
                raise AssertionError(f"helper failed:\n{r.stdout}\n{r.stderr}")
            cls.out = json.loads(r.stdout.strip().splitlines()[-1])
            cls.outside_packets = lab.packets_from_hub(outside)
            cls.outside_neigh = lab.ns(lab.hub_ns, "ip", "neigh", "show", "10.77.0.130").stdout
            cls.neigh14 = lab.ns(lab.hub_ns, "ip", "neigh", "show", "10.77.0.14").stdout

    def hosts(self, mode, subnet="10.77.0.0/25"):
        res = self.out[mode][subnet]
        self.assertEqual(res["status"], 200, res)
        return res["body"], {h["ip"]: h for h in res["body"]["hosts"]}

    def check_common(self, body, hosts):
        self.assertEqual(body["subnet"], "10.77.0.0/25")
        self.assertEqual(body["probed"], 126)
        self.assertEqual([h["ip"] for h in body["hosts"]], sorted(hosts, key=lambda a: int(a.split(".")[3])))
        # the hub's own address answers too; it has no neighbour entry
        self.assertIsNone(hosts["10.77.0.1"]["mac"])
        for octet in (11, 13, 15):
            self.assertEqual(hosts[f"10.77.0.{octet}"]["mac"], MACS[octet])
        a = hosts["10.77.0.11"]
        self.assertTrue(a["ssh"])
        self.assertEqual(a["ssh_banner"], BANNER)
        self.assertEqual(a["hostname"], "alpha.lab.example")
        self.assertEqual(a["vendor"], oui_vendor("00-22-72"))
        self.assertIsNone(a["registered_as"])
        c = hosts["10.77.0.13"]
        self.assertTrue(c["ssh"])
        self.assertIsNone(c["ssh_banner"])  # accepts, says nothing
        self.assertIsNone(c["vendor"])      # a locally administered MAC
        self.assertIsNone(c["hostname"])
        e = hosts["10.77.0.15"]
        self.assertEqual(e["vendor"], oui_vendor(LAST))  # the registry's last entry
        self.assertFalse(e["ssh"])
        self.assertIsNone(e["ssh_banner"])
        self.assertEqual(e["registered_as"], "known-box")

    def test_icmp_mode(self):
        body, hosts = self.hosts("icmp")
        self.assertEqual(body["probe"], "icmp")
        self.assertEqual(set(hosts), {"10.77.0.1", "10.77.0.11", "10.77.0.12", "10.77.0.13",
                                      "10.77.0.15"})
        self.check_common(body, hosts)
        b = hosts["10.77.0.12"]  # ping only
        self.assertEqual(b["mac"], MACS[12])
        self.assertFalse(b["ssh"])
        print(f"icmp /25: {body['duration_ms']} ms, timed_out {body['timed_out']}")

    def test_tcp_mode(self):
        body, hosts = self.hosts("tcp")
        self.assertEqual(body["probe"], "tcp")
        # .12 drops TCP and is not pinged: it cannot be seen this way
        self.assertEqual(set(hosts), {"10.77.0.1", "10.77.0.11", "10.77.0.13", "10.77.0.15"})
        self.check_common(body, hosts)
        print(f"tcp /25: {body['duration_ms']} ms, timed_out {body['timed_out']}")

    def test_single_address(self):
        for mode in ("icmp", "tcp"):
            body, hosts = self.hosts(mode, "10.77.0.13/32")
            self.assertEqual(body["probed"], 1)
            self.assertEqual(list(hosts), ["10.77.0.13"])
            self.assertTrue(hosts["10.77.0.13"]["ssh"])

    def test_nothing_outside_the_subnet(self):
        self.assertEqual(self.outside_packets, 0)
        self.assertNotIn("lladdr", self.outside_neigh)
        # the silent host answered ARP, so the hub knows its MAC, but it is not live
        self.assertIn(MACS[14], self.neigh14)
        for mode in ("icmp", "tcp"):
            self.assertNotIn("10.77.0.14", self.hosts(mode)[1])

    def test_hanging_resolver_is_given_up(self):
        res = self.out["slow_dns"]
        self.assertEqual(res["status"], 200, res)
        body = res["body"]
        hosts = {h["ip"]: h for h in body["hosts"]}
        self.assertEqual(set(hosts), {"10.77.0.1", "10.77.0.11", "10.77.0.12", "10.77.0.13",
                                      "10.77.0.15"})
        # the lookups were abandoned at the limit (waiting out the resolver's
        # 10 s per name would have named nobody more and said timed_out false)
        self.assertTrue(body["timed_out"])
        print(f"hanging resolver: answered in {body['duration_ms']} ms")
        self.assertEqual(hosts["10.77.0.11"]["hostname"], "alpha.lab.example")  # /etc/hosts
        self.assertEqual(hosts["10.77.0.11"]["mac"], MACS[11])

    def test_one_at_a_time(self):
        self.assertEqual(self.out["concurrent"], [[200, None], [409, "DISCOVERY_RUNNING"]])

    def test_refusals(self):
        errs = self.out["errors"]
        for bad in ("10.0.0.0/21", "10.0.0.0/8"):
            self.assertEqual(errs[bad]["status"], 422)
            d = errs[bad]["body"]["detail"]
            self.assertEqual((d["code"], d["field"]), ("SUBNET_TOO_LARGE", "subnet"))
            self.assertIn("/22", d["message"])
        for bad in ("10.0.0.0", "10.0.0.256/24", "fd00::/64", "", "(none)"):
            self.assertEqual(errs[bad]["status"], 422, bad)
            d = errs[bad]["body"]["detail"]
            self.assertEqual((d["code"], d["field"]), ("VALIDATION_ERROR", "subnet"))


if __name__ == "__main__":
    unittest.main(verbosity=2)
