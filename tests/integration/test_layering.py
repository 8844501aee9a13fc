"""The room plan, held by the includes (STYLE.md "The house").

Every #include "..." in the C sources is mapped to the room that owns the
header, and the arrows are checked:

- libraries (base, crypto, poller, executor, packs, agent-lite) never include
  a server header, and base includes nothing of the project's but its own;
- inside server/src: domain rooms never include api/ or http/ headers (the
  HTTP layer is reached only from api/), store/ and bus/ and json/ include no
  room above them, and the domain rooms' include graph has no cycle (domain
  rooms that react to each other do it through the bus);
- hub/ (start-up wiring and CLI verbs) is included by nobody but main.c and
  itself, except hub.h, the running hub's shared struct.

A new room is picked up by its folder; a new arrow that breaks the plan fails
here with the file and the include that broke it.
"""
import os
import re
import unittest

SRC = os.environ.get("HLC_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
SERVER = os.path.join(SRC, "server", "src")
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)

LIBRARIES = ["base", "crypto", "poller", "executor", "packs", "agent-lite"]
# Rooms of server/src that are not domain rooms.
PLUMBING = {"http", "api", "store", "bus", "json", "hub"}
# What each plumbing room may include (besides itself and library headers).
ALLOWED = {
    "json": set(),
    "bus": set(),
    "store": {"json"},
    "http": {"json", "hub"},
    "api": None,  # anything: handlers call the domain, the store and http
    "hub": None,  # the composition root wires everything
}


def sources(root):
    for dirpath, _, files in os.walk(root):
        for f in files:
            if f.endswith((".c", ".h")):
                yield os.path.join(dirpath, f)


def includes(path):
    with open(path, encoding="utf-8", errors="replace") as fh:
        return INCLUDE.findall(fh.read())


def server_rooms():
    """header file name -> room, and the list of rooms."""
    owner = {}
    rooms = sorted(d for d in os.listdir(SERVER) if os.path.isdir(os.path.join(SERVER, d)))
    for room in rooms:
        for path in sources(os.path.join(SERVER, room)):
            if path.endswith(".h"):
                owner[os.path.basename(path)] = room
    return owner, rooms


def room_of(path):
    rel = os.path.relpath(path, SERVER).split(os.sep)
    return rel[0] if len(rel) > 1 else None  # None: main.c


class LayeringTest(unittest.TestCase):
    def test_libraries_never_include_server_headers(self):
        owner, _ = server_rooms()
        # base's own headers: whatever base/include/hlc holds
        base_own = {"hlc/" + f for f in os.listdir(os.path.join(SRC, "base", "include", "hlc"))}
        self.assertIn("hlc/base.h", base_own)
        bad = []
        for lib in LIBRARIES:
            root = os.path.join(SRC, lib)
            if not os.path.isdir(root):
                continue
            for path in sources(root):
                for inc in includes(path):
                    name = os.path.basename(inc)
                    if not inc.startswith("hlc/") and name in owner:
                        bad.append(f"{os.path.relpath(path, SRC)} includes {inc}")
                    if lib == "base" and inc.startswith("hlc/") and inc not in base_own:
                        bad.append(f"{os.path.relpath(path, SRC)} (base) includes {inc}")
        self.assertEqual(bad, [])

    def test_server_arrows(self):
        owner, rooms = server_rooms()
        self.assertTrue({"http", "api", "store", "bus", "hub"} <= set(rooms), rooms)
        bad = []
        graph = {r: set() for r in rooms if r not in PLUMBING}
        for path in sources(SERVER):
            src_room = room_of(path)
            if src_room is None:
                continue
            for inc in includes(path):
                dst = owner.get(os.path.basename(inc))
                if dst is None or dst == src_room:
                    continue
                where = f"{os.path.relpath(path, SRC)} includes {inc} ({dst}/)"
                if dst == "hub" and os.path.basename(inc) != "hub.h" and src_room != "api":
                    bad.append(where + ": hub/ is the composition root")
                    continue
                if src_room in PLUMBING:
                    allowed = ALLOWED[src_room]
                    if allowed is not None and dst not in allowed:
                        bad.append(where + f": {src_room}/ may include only {sorted(allowed)}")
                    continue
                # a domain room
                if dst in ("api", "http"):
                    bad.append(where + ": the domain never calls into the HTTP layer")
                elif dst not in PLUMBING:
                    graph[src_room].add(dst)
        self.assertEqual(bad, [])

        # No cycle among domain rooms (depth-first search with colours).
        state, stack, cycles = {}, [], []

        def visit(n):
            state[n] = 1
            stack.append(n)
            for m in sorted(graph.get(n, ())):
                if state.get(m) == 1:
                    cycles.append(" -> ".join(stack[stack.index(m):] + [m]))
                elif m not in state:
                    visit(m)
            stack.pop()
            state[n] = 2

        for n in sorted(graph):
            if n not in state:
                visit(n)
        self.assertEqual(cycles, [], "domain rooms include each other in a circle")

    def test_the_checker_sees_a_bad_arrow(self):
        """The mapping finds real rooms and headers (a check that maps nothing
        would pass anything)."""
        owner, _ = server_rooms()
        self.assertEqual(owner.get("store.h"), "store")
        self.assertEqual(owner.get("http.h"), "http")
        self.assertEqual(owner.get("bus.h"), "bus")
        self.assertEqual(owner.get("alerts.h"), "alerts")
        self.assertIn("store.h", includes(os.path.join(SERVER, "alerts", "alerts.c")))


if __name__ == "__main__":
    unittest.main(verbosity=2)
