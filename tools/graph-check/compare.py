#!/usr/bin/env python3
"""Check TrellisGraph (Sources/TrellisGraph) against networkx and direct computations.

Command line (from anywhere; paths are relative to the repository root):

    python3 tools/graph-check/compare.py [--bin PATH] [--build] [--keep DIR] [-v]

    --bin PATH   the graph-check driver (default: $GRAPHCHECK_BIN, else /tmp/graphcheck)
    --build      compile the driver to PATH first:
                   swiftc -O -swift-version 6 -parse-as-library \\
                       Sources/TrellisGraph/*.swift tools/graph-check/main.swift -o PATH
    --keep DIR   write the edge-list files into DIR (kept) instead of a temporary folder
    -v           print every case as it is checked

Exit status: 0 when every value agrees, 1 on any mismatch (each one is printed),
2 when it cannot run (no driver, no networkx, the driver fails).

For every graph it writes an edge-list file (`#node id`, `u v w`, `#tie u v w`,
`#group id label`), runs `PATH FILE --layout 800 600` and compares, per node, to 1e-9
(absolute, or relative for values above 1):
  degree, weighted degree          G.degree(), G.degree(weight="weight")
  betweenness (both normalisations) nx.betweenness_centrality(G, normalized=True/False)
  clustering                        nx.clustering(G)
  density                           nx.density(G) (null when N < 2)
  components, component index       nx.connected_components, sorted, by size then first id
  isolates                          nx.isolates(G), sorted
  node/edge counts, insertion and sorted node order
  E-I index, unweighted and weighted: a direct computation over G's edges
  reciprocity: a direct computation of DOMAIN.md's definition (unordered pairs with ties
      both ways / unordered pairs with any tie), which is not nx.overall_reciprocity
and, for the layout: every node placed, finite, within [margin, size - margin]; nodes at
distinct points; isolates in rows below every other node; byte-identical output on a
second run and on a shuffled copy of the file (other line order, edges reversed).
Graphs: Zachary's karate club (also: betweenness of node 0 ≈ 0.4376, as published),
Davis southern women (weighted projection onto the women), Florentine families, path,
star, complete, two components with isolates, self-loops and repeated edges, empty /
one-node / isolates-only graphs, 20 gnp_random_graph graphs (seeds 1-20, several
disconnected), a 400-node and an 800-node gnp graph (the latter exercises the layout's
grid repulsion), and hand-computed reciprocity and E-I cases.
"""

import argparse
import json
import math
import os
import random
import subprocess
import sys
import tempfile
import time

try:
    import networkx as nx
    from networkx.algorithms import bipartite
except ImportError:  # pragma: no cover
    print("compare.py: networkx is not installed", file=sys.stderr)
    sys.exit(2)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TOL = 1e-9
WIDTH, HEIGHT = 800, 600


class Case:
    def __init__(self, name, graph, groups=None, ties=None, expect=None, raw_lines=None):
        self.name = name
        self.graph = graph            # nx.Graph, node labels = ids (str), edge attr weight
        self.groups = groups or {}    # id -> label (some nodes may have none)
        self.ties = ties or []        # [(u, v, w)] directed, as written (repeats, self-loops)
        self.expect = expect or {}    # extra hand-computed expectations: key -> value
        self.raw_lines = raw_lines    # write these edge lines instead of graph's edges


# --------------------------------------------------------------------------- graphs

def relabel(g):
    """String ids without whitespace, weights defaulted to 1."""
    mapping = {v: str(v).replace(" ", "_") for v in g.nodes}
    h = nx.Graph()
    h.add_nodes_from(mapping[v] for v in g.nodes)
    for u, v, d in g.edges(data=True):
        h.add_edge(mapping[u], mapping[v], weight=d.get("weight", 1))
    return h, mapping


def random_ties(ids, rng, count):
    ties = []
    for _ in range(count):
        u, v = rng.choice(ids), rng.choice(ids)
        ties.append((u, v, rng.randint(1, 3)))
        if rng.random() < 0.35:
            ties.append((v, u, 1))  # make some pairs mutual
    return ties


def random_groups(ids, rng, labels=("A", "B", "C"), missing=0.1):
    return {v: rng.choice(labels) for v in ids if rng.random() >= missing}


def cases():
    out = []

    g0 = nx.karate_club_graph()
    g, m = relabel(g0)
    groups = {m[v]: d["club"].replace(" ", "_") for v, d in g0.nodes(data=True)}
    rng = random.Random(34)
    out.append(Case("karate", g, groups, random_ties(list(g.nodes), rng, 60),
                    expect={"betweenness_0_4dp": 0.4376}))

    d0 = nx.davis_southern_women_graph()
    women = d0.graph["top"]
    g, m = relabel(bipartite.weighted_projected_graph(d0, women))
    ids = list(g.nodes)
    out.append(Case("davis_women", g, {v: ("early" if i < 9 else "late") for i, v in enumerate(ids)},
                    random_ties(ids, random.Random(18), 30)))

    g, m = relabel(nx.florentine_families_graph())
    rng = random.Random(15)
    out.append(Case("florentine", g, random_groups(list(g.nodes), rng), random_ties(list(g.nodes), rng, 25)))

    g, _ = relabel(nx.path_graph(10))
    out.append(Case("path10", g, {v: str(int(v) % 2) for v in g.nodes}))
    g, _ = relabel(nx.star_graph(10))
    out.append(Case("star11", g, {v: ("hub" if v == "0" else "leaf") for v in g.nodes}))
    g, _ = relabel(nx.complete_graph(8))
    out.append(Case("complete8", g, {v: "same" for v in g.nodes},
                    ties=[(u, v, 1) for u in g.nodes for v in g.nodes if u != v],
                    expect={"reciprocity": 1.0, "ei_index": -1.0}))

    g = nx.Graph()
    g.add_nodes_from(["iso-c", "iso-a", "iso-b"])
    g.add_edges_from([("t1", "t2"), ("t2", "t3"), ("t3", "t1"), ("t3", "t4")], weight=2)
    g.add_edges_from([("p1", "p2"), ("p2", "p3")], weight=1.5)
    out.append(Case("two_components_isolates", g, {"t1": "x", "t2": "x", "t3": "y", "p1": "x", "p2": "y"},
                    [("t1", "t2", 1), ("t2", "t1", 1), ("p1", "p2", 1)]))

    # Self-loops are ignored (the node stays), repeated edges in either direction sum.
    lines = ["a b 1", "b a 2", "a a 5", "b c 1.25", "c b 0.5", "d d 1", "c e 3", "e c 3"]
    g = nx.Graph()
    g.add_nodes_from(["a", "b", "c", "d", "e"])
    g.add_edge("a", "b", weight=3)
    g.add_edge("b", "c", weight=1.75)
    g.add_edge("c", "e", weight=6)
    out.append(Case("selfloops_duplicates", g, {"a": "1", "b": "1", "c": "2", "e": "2"},
                    raw_lines=lines,
                    # E-I: ab internal (w 3), bc external (w 1.75), ce internal (w 6)
                    expect={"ei_index": (1 - 2) / 3, "ei_index_weighted": (1.75 - 9) / 10.75,
                            "edge_count": 3, "isolates": ["d"]}))

    out.append(Case("empty", nx.Graph()))
    g = nx.Graph()
    g.add_node("solo")
    out.append(Case("one_node", g))
    g = nx.Graph()
    g.add_nodes_from(["z", "y", "x", "w"])
    out.append(Case("isolates_only", g))
    g = nx.Graph()
    g.add_edge("u", "v", weight=4)
    out.append(Case("one_edge", g))

    # DOMAIN.md reciprocity by hand: pairs {a,b} {a,c} {c,d}; mutual {a,b} {c,d} -> 2/3.
    # (networkx's overall_reciprocity counts edges: 4 of 5 -> 0.8.)
    g = nx.Graph()
    g.add_edges_from([("a", "b"), ("a", "c"), ("c", "d")])
    hand = [("a", "b", 1), ("b", "a", 1), ("a", "c", 2), ("c", "d", 1), ("d", "c", 1),
            ("d", "c", 1), ("e", "e", 1)]
    out.append(Case("reciprocity_hand", g, {"a": "g1", "b": "g1", "c": "g2", "d": "g2"}, hand,
                    expect={"reciprocity": 2 / 3, "ei_index": -1 / 3}))
    out.append(Case("no_ties", g, {}, [], expect={"reciprocity": None, "ei_index": None,
                                                   "ei_index_weighted": None}))

    for seed in range(1, 21):
        rng = random.Random(1000 + seed)
        n = rng.choice([6, 12, 25, 40, 60, 90, 120])
        p = rng.choice([0.02, 0.05, 0.1, 0.2, 0.5])
        g, _ = relabel(nx.gnp_random_graph(n, p, seed=seed))
        for u, v in g.edges:
            g[u][v]["weight"] = rng.randint(1, 9) if rng.random() < 0.7 else round(rng.uniform(0.1, 5), 3)
        ids = list(g.nodes)
        out.append(Case(f"gnp_{seed}_n{n}_p{p}", g, random_groups(ids, rng), random_ties(ids, rng, n)))

    for n, p, seed in [(400, 0.012, 7), (800, 0.006, 8)]:
        g, _ = relabel(nx.gnp_random_graph(n, p, seed=seed))
        rng = random.Random(seed)
        ids = list(g.nodes)
        out.append(Case(f"gnp_{seed}_n{n}_p{p}", g, random_groups(ids, rng), random_ties(ids, rng, n)))
    return out


# --------------------------------------------------------------------------- expected

def fmt_weight(w):
    if isinstance(w, int) or (isinstance(w, float) and w.is_integer() and abs(w) < 2**53):
        return str(int(w))
    return repr(float(w))


def edge_file(case, shuffled=False):
    g = case.graph
    node_lines = [f"#node {v}" for v in g.nodes]
    if case.raw_lines is not None:
        edge_lines = list(case.raw_lines)
    else:
        edge_lines = [f"{u} {v} {fmt_weight(d.get('weight', 1))}" for u, v, d in g.edges(data=True)]
    tie_lines = [f"#tie {u} {v} {fmt_weight(w)}" for u, v, w in case.ties]
    group_lines = [f"#group {v} {label}" for v, label in case.groups.items()]
    if shuffled:
        rng = random.Random(len(node_lines) * 7919 + len(edge_lines))
        def flip(line):
            f = line.split()
            return " ".join([f[1], f[0]] + f[2:])
        edge_lines = [flip(l) for l in edge_lines]
        everything = node_lines + edge_lines + tie_lines + group_lines
        rng.shuffle(everything)
        return "# shuffled\n" + "\n".join(everything) + "\n"
    return "\n".join(["# " + case.name] + node_lines + edge_lines + tie_lines + group_lines) + "\n"


def expected(case):
    g = case.graph
    ids = list(g.nodes)
    comps = [sorted(c) for c in nx.connected_components(g)]
    comps.sort(key=lambda c: (-len(c), c[0]))
    e = {
        "node_count": g.number_of_nodes(),
        "edge_count": g.number_of_edges(),
        "sorted_nodes": sorted(ids),
        "degree": dict(g.degree()),
        "weighted_degree": dict(g.degree(weight="weight")),
        "betweenness": nx.betweenness_centrality(g, normalized=True),
        "betweenness_raw": nx.betweenness_centrality(g, normalized=False),
        "clustering": nx.clustering(g),
        "density": nx.density(g) if len(ids) >= 2 else None,
        "components": comps,
        "component": {v: k for k, c in enumerate(comps) for v in c},
        "isolates": sorted(nx.isolates(g)),
        "node_metrics_consistent": True,
    }
    if case.raw_lines is None:
        e["nodes"] = ids  # insertion order: the #node lines come first
    # E-I index, directly: each undirected edge once, edges with an ungrouped end left out.
    ext = inn = 0
    wext = winn = 0.0
    for u, v, d in g.edges(data=True):
        if u in case.groups and v in case.groups:
            if case.groups[u] == case.groups[v]:
                inn += 1
                winn += d.get("weight", 1)
            else:
                ext += 1
                wext += d.get("weight", 1)
    e["ei_index"] = (ext - inn) / (ext + inn) if ext + inn else None
    e["ei_index_weighted"] = (wext - winn) / (wext + winn) if ext + inn and wext + winn else None
    # Reciprocity, DOMAIN.md: unordered pairs with ties both ways / unordered pairs with a tie.
    directed = {(u, v) for u, v, _ in case.ties if u != v}
    pairs = {frozenset(t) for t in directed}
    mutual = {frozenset((u, v)) for u, v in directed if (v, u) in directed}
    e["reciprocity"] = len(mutual) / len(pairs) if pairs else None
    return e


# --------------------------------------------------------------------------- comparing

class Checker:
    def __init__(self):
        self.failures = []
        self.values = 0

    def fail(self, case, what, got, want):
        self.failures.append(f"{case}: {what}: got {got!r}, want {want!r}")

    def number(self, case, what, got, want):
        self.values += 1
        if want is None or got is None:
            if got is not want and got != want:
                self.fail(case, what, got, want)
            return
        if isinstance(got, bool) or not isinstance(got, (int, float)):
            self.fail(case, what, got, want)
        elif not math.isclose(got, want, rel_tol=TOL, abs_tol=TOL):
            self.fail(case, what, got, want)

    def exact(self, case, what, got, want):
        self.values += 1
        if got != want:
            self.fail(case, what, got, want)

    def per_node(self, case, what, got, want, numeric=True):
        if not isinstance(got, dict) or set(got) != set(want):
            self.fail(case, what + " (node set)", sorted(got) if isinstance(got, dict) else got, sorted(want))
            return
        for v in want:
            if numeric:
                self.number(case, f"{what}[{v}]", got[v], want[v])
            else:
                self.exact(case, f"{what}[{v}]", got[v], want[v])


def run(binary, path, extra=()):
    p = subprocess.run([binary, path, *extra], capture_output=True)
    if p.returncode != 0:
        print(f"compare.py: {binary} {path} failed ({p.returncode}): {p.stderr.decode()}", file=sys.stderr)
        sys.exit(2)
    return p.stdout


def check_layout(ck, case, got, g):
    name = case.name
    layout = got.get("layout")
    margin = got.get("layout_margin")
    ids = list(g.nodes)
    if not isinstance(layout, dict) or set(layout) != set(ids):
        ck.fail(name, "layout nodes", sorted(layout) if isinstance(layout, dict) else layout, sorted(ids))
        return
    ck.values += 1
    for v, xy in layout.items():
        ok = (isinstance(xy, list) and len(xy) == 2 and all(isinstance(c, (int, float)) for c in xy)
              and all(math.isfinite(c) for c in xy)
              and margin - 1e-9 <= xy[0] <= WIDTH - margin + 1e-9
              and margin - 1e-9 <= xy[1] <= HEIGHT - margin + 1e-9)
        if not ok:
            ck.fail(name, f"layout[{v}] within [{margin}, size-{margin}]", xy, "inside")
    points = sorted((xy[0], xy[1]) for xy in layout.values())
    for a, b in zip(points, points[1:]):
        if math.dist(a, b) < 1e-6 and len(points) > 1:
            ck.fail(name, "layout: two nodes at one point", a, "distinct")
            break
    isolates = set(nx.isolates(g))
    others = [layout[v][1] for v in ids if v not in isolates]
    if isolates and others:
        lowest = max(others)
        top_iso = min(layout[v][1] for v in isolates)
        if not top_iso > lowest + 5:
            ck.fail(name, "layout: isolates in rows below the rest", (top_iso, lowest), "gap > 5px")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    ap.add_argument("--bin", default=os.environ.get("GRAPHCHECK_BIN", "/tmp/graphcheck"))
    ap.add_argument("--build", action="store_true")
    ap.add_argument("--keep")
    ap.add_argument("-v", action="store_true")
    args = ap.parse_args()

    if args.build:
        sources = sorted(os.path.join(ROOT, "Sources", "TrellisGraph", f)
                         for f in os.listdir(os.path.join(ROOT, "Sources", "TrellisGraph")) if f.endswith(".swift"))
        cmd = ["swiftc", "-O", "-swift-version", "6", "-parse-as-library", *sources,
               os.path.join(ROOT, "tools", "graph-check", "main.swift"), "-o", args.bin]
        p = subprocess.run(cmd, capture_output=True, text=True)
        if p.returncode != 0 or p.stderr.strip():
            print("compare.py: build failed or warned:\n" + p.stderr, file=sys.stderr)
            sys.exit(2)
    if not os.access(args.bin, os.X_OK):
        print(f"compare.py: no driver at {args.bin} (use --build or --bin)", file=sys.stderr)
        sys.exit(2)

    workdir = args.keep or tempfile.mkdtemp(prefix="graph-check-")
    os.makedirs(workdir, exist_ok=True)
    ck = Checker()
    all_cases = cases()
    t0 = time.time()
    for case in all_cases:
        path = os.path.join(workdir, case.name + ".txt")
        with open(path, "w") as f:
            f.write(edge_file(case))
        shuffled_path = os.path.join(workdir, case.name + ".shuffled.txt")
        with open(shuffled_path, "w") as f:
            f.write(edge_file(case, shuffled=True))
        extra = ["--layout", str(WIDTH), str(HEIGHT)]
        out = run(args.bin, path, extra)
        try:
            got = json.loads(out)
        except ValueError as e:
            ck.fail(case.name, "output is JSON", str(e), "valid")
            continue
        want = expected(case)
        for key, value in want.items():
            if key in ("degree", "component"):
                ck.per_node(case.name, key, got.get(key), value, numeric=False)
            elif key in ("weighted_degree", "betweenness", "betweenness_raw", "clustering"):
                ck.per_node(case.name, key, got.get(key), value)
            elif key in ("density", "ei_index", "ei_index_weighted", "reciprocity"):
                ck.number(case.name, key, got.get(key), value)
            else:
                ck.exact(case.name, key, got.get(key), value)
        for key, value in case.expect.items():
            if key == "betweenness_0_4dp":
                ck.exact(case.name, "betweenness[0] to 4 dp", round(got["betweenness"]["0"], 4), value)
            elif isinstance(value, float) or value is None:
                ck.number(case.name, key + " (hand)", got.get(key), value)
            else:
                ck.exact(case.name, key + " (hand)", got.get(key), value)
        check_layout(ck, case, got, case.graph)
        # Deterministic: a second run, and a shuffled file, give the same coordinates.
        ck.values += 2
        if run(args.bin, path, extra) != out:
            ck.fail(case.name, "second run byte-identical", "differs", "identical")
        got2 = json.loads(run(args.bin, shuffled_path, extra))
        for key in ("layout", "degree", "betweenness", "betweenness_raw", "clustering",
                    "components", "isolates", "density", "reciprocity", "ei_index"):
            if json.dumps(got2.get(key), sort_keys=True) != json.dumps(got.get(key), sort_keys=True):
                ck.fail(case.name, f"shuffled input: {key} identical", "differs", "identical")
        if args.v:
            print(f"  {case.name}: {case.graph.number_of_nodes()} nodes, "
                  f"{case.graph.number_of_edges()} edges, ok so far: {not ck.failures}")

    dt = time.time() - t0
    if ck.failures:
        for f in ck.failures[:200]:
            print("MISMATCH", f)
        print(f"compare.py: {len(ck.failures)} mismatches in {ck.values} values, {len(all_cases)} graphs")
        sys.exit(1)
    print(f"compare.py: all {ck.values} values agree (tolerance {TOL}) over {len(all_cases)} graphs "
          f"in {dt:.1f} s")


if __name__ == "__main__":
    main()
