#!/usr/bin/env python3
"""Load every graph export of `trellis report graph` with the tools researchers use and
compare what they read with the JSON report.

    python3 tools/check_research_formats.py DIR

DIR holds the outputs of one ledger and one period:
    graph.json          --format json
    graph.graphml       --format graphml
    graph.gexf          --format gexf
    sliced.json         --slice term --format json
    sliced.gexf         --slice term --format gexf
    graph.dot           --format dot
    edges.csv, nodes.csv  --format csv --nodes nodes.csv --out edges.csv
    coverage.csv, summary.csv, participation.csv, documents.csv, outcomes.csv

Checks, each naming the file and what differs:
  - networkx reads GraphML, GEXF (static and sliced) and the CSVs; python-igraph reads the
    GraphML and builds a graph from the CSVs with Graph.DataFrame (vertex names = org ids);
    Graphviz `dot -Tjson` lays out the DOT file (its own `layout`) without error, and
    pydot reads it for networkx (`nx.nx_pydot.read_dot`).
  - node and edge counts, node ids, labels (display names), and per node degree,
    weighted_degree, component and betweenness equal the JSON report's; integer attributes
    are read as integers (networkx, pandas) and the degree igraph computes matches.
  - sliced GEXF: each edge has one `<attvalue for="weight" start end>` per slice it is in
    (Gephi's dynamic weight), equal to that slice's JSON edge weight; networkx reads the
    edge's spells and its static weight, the sum over the slices.
  - CSVs carry their scope columns and no bare `members`/`overdue`/`meetings` column.
Prints one line per check and "N passed, N failed"; exit 1 on any failure.
"""
from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import networkx as nx

failures: list[str] = []
passed = 0


def check(ok: bool, what: str) -> None:
    global passed
    if ok:
        passed += 1
        print(f"ok    {what}")
    else:
        failures.append(what)
        print(f"FAIL  {what}")


def same_nodes(tool: str, got: dict[str, dict], want: dict[str, dict], keys=("degree", "weighted_degree", "component")) -> None:
    check(sorted(got) == sorted(want), f"{tool}: node ids are the JSON's ({len(got)} vs {len(want)})")
    bad = [(i, k, got[i].get(k), want[i][k]) for i in want if i in got for k in keys if got[i].get(k) != want[i][k]]
    check(not bad, f"{tool}: {', '.join(keys)} equal the JSON's" + (f" (first difference {bad[0]})" if bad else ""))
    types = [(i, k, type(got[i].get(k)).__name__) for i in got for k in keys if k in got[i] and not isinstance(got[i][k], int)]
    check(not types, f"{tool}: {', '.join(keys)} are integers" + (f" (first {types[0]})" if types else ""))
    bt = [i for i in want if i in got and abs(float(got[i].get("betweenness", -1)) - want[i]["betweenness"]) > 1e-12]
    check(not bt, f"{tool}: betweenness equals the JSON's" + (f" (first {bt[0]})" if bt else ""))
    lb = [i for i in want if i in got and got[i].get("label") != want[i]["name"]]
    check(not lb, f"{tool}: label is the display name" + (f" (first {lb[0]})" if lb else ""))


def main(d: Path) -> int:
    report = json.loads((d / "graph.json").read_text(encoding="utf-8"))
    want = {n["id"]: n for n in report["nodes"]}
    edges = {(e["source"], e["target"]): e for e in report["edges"]}
    names = [n["name"] for n in report["nodes"]]
    print(f"JSON: {len(want)} nodes, {len(edges)} edges, {len(names) - len(set(names))} repeated display names")

    # GraphML: networkx and igraph.
    g = nx.read_graphml(d / "graph.graphml")
    same_nodes("networkx GraphML", {n: dict(a) for n, a in g.nodes(data=True)}, want)
    check(g.number_of_edges() == len(edges), "networkx GraphML: edge count")
    ew = [k for k, e in edges.items() if g.edges[k]["weight"] != e["weight"] or not isinstance(g.edges[k]["weight"], int)]
    check(not ew, "networkx GraphML: integer edge weights equal the JSON's")
    check(g.graph.get("period_from") == report["from"] and g.graph.get("period_to") == report["to"], "networkx GraphML: period")

    import igraph as ig
    ih = ig.Graph.Read_GraphML(str(d / "graph.graphml"))
    check(ih.vcount() == len(want) and ih.ecount() == len(edges), "igraph GraphML: vertex and edge counts")
    check(sorted(ih.vs["id"]) == sorted(want), "igraph GraphML: vertex `id` attribute holds the org ids")
    check("name" not in ih.vs.attributes(), "igraph GraphML: no `name` attribute to collide with vertex names")
    deg = dict(zip(ih.vs["id"], ih.degree()))
    check(all(deg[i] == want[i]["degree"] for i in want), "igraph GraphML: computed degree equals the JSON's")
    check(all(int(a) == want[i]["weighted_degree"] for i, a in zip(ih.vs["id"], ih.vs["weighted_degree"])),
          "igraph GraphML: weighted_degree equals the JSON's")

    # GEXF, static.
    gx = nx.read_gexf(d / "graph.gexf")
    same_nodes("networkx GEXF", {n: dict(a) for n, a in gx.nodes(data=True)}, want)
    check(gx.number_of_edges() == len(edges), "networkx GEXF: edge count")
    ew = [k for k, e in edges.items() if gx.edges[k]["weight"] != e["weight"]]
    check(not ew, "networkx GEXF: edge weights equal the JSON's")

    # GEXF, sliced by term: dynamic weights per spell.
    sliced = json.loads((d / "sliced.json").read_text(encoding="utf-8"))
    gs = nx.read_gexf(d / "sliced.gexf")
    per_edge: dict[tuple, list] = {}
    for s in sliced["slices"]:
        last = s["to"]  # exclusive; GEXF spells end on the last day (inclusive)
        import datetime as dt
        end = (dt.date.fromisoformat(last) - dt.timedelta(days=1)).isoformat()
        for e in s["edges"]:
            per_edge.setdefault((e["source"], e["target"]), []).append((float(e["weight"]), s["from"], end))
    check(gs.graph.get("mode") == "dynamic" and gs.number_of_edges() == len(per_edge), "networkx sliced GEXF: dynamic, one edge per pair with a tie in some slice")
    bad = [k for k, v in per_edge.items() if sorted(gs.edges[k].get("spells", [])) != sorted((a, b) for _, a, b in v)]
    check(not bad, "networkx sliced GEXF: edge spells are the slices it had a tie in")
    bad = [k for k, v in per_edge.items() if gs.edges[k].get("weight") != sum(w for w, _, _ in v)]
    check(not bad, "networkx sliced GEXF: static weight is the sum over the slices")
    # The dynamic weights as Gephi reads them: attvalues for the dynamic edge attribute `weight`.
    import xml.etree.ElementTree as ET
    ns = {"x": "http://gexf.net/1.3"}
    root = ET.parse(d / "sliced.gexf").getroot()
    dyn = [a.get("id") for at in root.iterfind("x:graph/x:attributes", ns) if at.get("class") == "edge" and at.get("mode") == "dynamic"
           for a in at.iterfind("x:attribute", ns)]
    check(dyn == ["weight"], f"sliced GEXF: the dynamic edge attribute is `weight` ({dyn})")
    got = {}
    for e in root.iterfind("x:graph/x:edges/x:edge", ns):
        got[(e.get("source"), e.get("target"))] = sorted((float(a.get("value")), a.get("start"), a.get("end"))
                                                         for a in e.iterfind("x:attvalues/x:attvalue", ns) if a.get("for") == "weight")
    bad = [k for k, v in per_edge.items() if got.get(k) != sorted(v)]
    check(not bad, "sliced GEXF: per-spell `weight` attvalues equal each slice's JSON weight" + (f" (first {bad[0]}: {got.get(bad[0])} vs {per_edge[bad[0]]})" if bad else ""))

    # DOT: Graphviz lays it out with its own layout hint; attribute values as in the JSON.
    run = subprocess.run(["dot", "-Tjson", str(d / "graph.dot")], capture_output=True, text=True, timeout=600)
    check(run.returncode == 0, "Graphviz dot -Tjson accepts the DOT file" + (f": {run.stderr.strip()[:300]}" if run.returncode else ""))
    if run.returncode == 0:
        gv = json.loads(run.stdout)
        objs = {o["name"]: o for o in gv.get("objects", [])}
        check(sorted(objs) == sorted(want), "Graphviz: node names are the org ids")
        check(len(gv.get("edges", [])) == len(edges), "Graphviz: edge count")
        bad = [i for i in want if i in objs and (int(objs[i]["degree"]) != want[i]["degree"] or float(objs[i]["betweenness"]) != want[i]["betweenness"]
                                                  or objs[i]["label"] != want[i]["name"])]
        check(not bad, "Graphviz: label, degree and betweenness equal the JSON's")
        check(gv.get("layout") == "sfdp", f"Graphviz: layout hint {gv.get('layout')!r}")

    # DOT through pydot into networkx (pydot keeps the quotes of quoted values).
    try:
        gp = nx.nx_pydot.read_dot(d / "graph.dot")
    except Exception as exc:  # noqa: BLE001 - what pydot says is the finding
        check(False, f"pydot/networkx read_dot refuses the DOT file: {type(exc).__name__}: {exc}")
    else:
        unq = lambda v: v[1:-1] if isinstance(v, str) and len(v) >= 2 and v[0] == v[-1] == '"' else v  # noqa: E731
        check(sorted(gp.nodes) == sorted(want) and gp.number_of_edges() == len(edges), "pydot/networkx read_dot: node ids and edge count")
        bad = [i for i in want if int(unq(gp.nodes[i].get("degree"))) != want[i]["degree"]
               or float(unq(gp.nodes[i].get("betweenness"))) != want[i]["betweenness"] or unq(gp.nodes[i].get("label")) != want[i]["name"]]
        check(not bad, "pydot/networkx read_dot: label, degree and betweenness equal the JSON's")

    # CSV: pandas, igraph's Graph.DataFrame, networkx.
    import pandas as pd
    e = pd.read_csv(d / "edges.csv")
    n = pd.read_csv(d / "nodes.csv")
    check(list(e.columns[:2]) == ["source", "target"] and n.columns[0] == "id" and "name" not in n.columns, "CSV: edges start source,target; nodes start id; no `name` column")
    for c in ("degree", "weighted_degree", "component"):
        check(str(n[c].dtype).startswith("int"), f"pandas nodes.csv: {c} is an integer column ({n[c].dtype})")
    check(str(e["weight"].dtype).startswith("int"), "pandas edges.csv: weight is an integer column")
    check(set(["period_from", "period_to", "ties", "scope_networks"]) <= set(e.columns) and set(e["period_from"]) == {report["from"]}
          and set(e["period_to"]) == {report["to"]}, "CSV: edges say their period, ties and networks")
    try:
        gd = ig.Graph.DataFrame(e, directed=False, vertices=n, use_vids=False)
    except Exception as exc:  # noqa: BLE001 - what igraph says is the finding
        check(False, f"igraph Graph.DataFrame(edges, vertices=nodes) refuses the CSVs: {exc}")
    else:
        check(gd.vcount() == len(want) and gd.ecount() == len(edges), "igraph Graph.DataFrame(edges, vertices=nodes): counts")
        check(all(gd.degree(i) == want[i]["degree"] for i in want), "igraph Graph.DataFrame: degree('org id') equals the JSON's")
    gn = nx.from_pandas_edgelist(e, "source", "target", edge_attr=["weight"])
    gn.add_nodes_from(n["id"])
    check(all(gn.degree(i) == want[i]["degree"] for i in want), "networkx from_pandas_edgelist: degree equals the JSON's")
    rows = {r["id"]: r for r in n.to_dict("records")} if "id" in n.columns else {}
    same_nodes("pandas nodes.csv", {i: {k: (v.item() if hasattr(v, "item") else v) for k, v in r.items()} for i, r in rows.items()}, want)

    # The other CSVs: one name per concept, scope columns present.
    for name, must in [("coverage.csv", ["member_count", "overdue_count", "overdue_review_ids", "on", "window_from"]),
                       ("summary.csv", ["member_count", "meeting_count", "overdue_count", "period_from", "period_to"]),
                       ("participation.csv", ["period_from", "period_to"]), ("documents.csv", ["period_from", "period_to"]),
                       ("outcomes.csv", ["period_from", "period_to"])]:
        cols = list(pd.read_csv(d / name, nrows=0).columns)
        check(all(c in cols for c in must) and not {"members", "overdue", "meetings"} & set(cols), f"{name}: columns {must}, no bare members/overdue/meetings")
    docs = pd.read_csv(d / "documents.csv")
    check(str(docs["member"].dtype) == "bool", f"pandas documents.csv: member is boolean ({docs['member'].dtype})")

    print(f"{passed} passed, {len(failures)} failed")
    return 0 if not failures else 1


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(64)
    sys.exit(main(Path(sys.argv[1])))
