#!/usr/bin/env python3
"""An independent implementation of DOMAIN.md's participation and coverage figures, straight
from the NDJSON events (no Trellis code, no read models), to hold `trellis report` against.

    python3 tools/reference/figures.py participation EVENTS.ndjson FROM TO
    python3 tools/reference/figures.py coverage EVENTS.ndjson ON [WINDOW_DAYS]
    python3 tools/reference/figures.py graph EVENTS.ndjson FROM TO

Prints JSON shaped like `trellis report participation|coverage --format json` (networks,
members, rates). Events are taken in file order as log order; retractions are applied first.
"""
import json
import sys
from datetime import date, timedelta


def load(path):
    events = [json.loads(l) for l in open(path, encoding="utf-8") if l.strip()]
    for seq, e in enumerate(events, 1):
        e["seq"] = seq
        e["day"] = e["occurred_at"][:10]
    retracted_ids = {e["data"]["event_id"] for e in events if e["type"] == "EventRetracted"}
    return [e for e in events if e.get("id") not in retracted_ids and e["type"] != "EventRetracted"]


def membership(events):
    """(network, org) -> [(day, seq, joined)] sorted by (day, seq)."""
    m = {}
    for e in events:
        if e["type"] in ("MemberJoined", "MemberLeft"):
            d = e["data"]
            m.setdefault((d["network_id"], d["org_id"]), []).append((e["day"], e["seq"], e["type"] == "MemberJoined"))
    for v in m.values():
        v.sort()
    return m


def member_on(hist, day):
    state = False
    for d, _, joined in hist:
        if d <= day:
            state = joined
        else:
            break
    return state


def member_during(hist, start, end):
    """Member on any day of [start, end)."""
    if member_on(hist, start):
        return True
    return any(joined and start <= d < end for d, _, joined in hist)


def participation(events, start, end):
    meetings = {e["data"]["meeting_id"]: (e["data"]["network_id"], e["day"]) for e in events if e["type"] == "MeetingHeld"}
    records = {}
    for e in events:
        if e["type"] == "AttendanceRecorded":
            d = e["data"]
            records[(d["meeting_id"], d["org_id"], d.get("person_id", ""))] = d["status"]  # latest in log order wins
    status = {}
    for (m, o, _), s in records.items():
        status.setdefault((m, o), set()).add(s)
    mem = membership(events)
    networks = sorted({n for (n, _) in mem} | {e["data"]["network_id"] for e in events if e["type"] == "NetworkFormed"})
    out = []
    for n in networks:
        members = sorted(o for (nn, o), h in mem.items() if nn == n and member_during(h, start, end))
        rows = []
        for o in members:
            exp = pres = apol = 0
            for m, (mn, day) in meetings.items():
                if mn != n or not (start <= day < end) or not member_on(mem[(n, o)], day):
                    continue
                exp += 1
                s = status.get((m, o), set())
                if "present" in s:
                    pres += 1
                elif "apologies" in s:
                    apol += 1
            rows.append({"org_id": o, "expected": exp, "present": pres, "apologies": apol, "absent": exp - pres - apol,
                         "rate": pres / exp if exp else None})
        rated = [r["rate"] for r in rows if r["rate"] is not None]
        texp = sum(r["expected"] for r in rows)
        out.append({"network_id": n, "members": rows,
                    "participation_rate": sum(rated) / len(rated) if rated else None,
                    "attendance_rate": sum(r["present"] for r in rows) / texp if texp else None})
    return {"from": start, "to": end, "networks": out}


def coverage(events, on, window):
    lo = (date.fromisoformat(on) - timedelta(days=window)).isoformat()
    mem = membership(events)
    reviews = {}
    for e in events:
        d = e["data"]
        if e["type"] == "ReviewCommitted":
            reviews[d["review_id"]] = {"network": d["network_id"], "reviewers": d["reviewer_org_ids"], "reviewee": d["reviewee_org_id"],
                                       "due": d["due_by"], "committed": e["day"], "completed": None, "withdrawn": None, "shared": None}
    for e in events:
        d = e["data"]
        r = reviews.get(d.get("review_id"))
        if r is None:
            continue
        if e["type"] == "ReviewCompleted":
            r["completed"] = e["day"]
        elif e["type"] == "ReviewWithdrawn":
            r["withdrawn"] = e["day"]
        elif e["type"] == "ReviewOutcomeShared" and r["shared"] is None:
            r["shared"] = e["day"]
    out = []
    for n in sorted({n for (n, _) in mem}):
        members = sorted(o for (nn, o), h in mem.items() if nn == n and member_on(h, on))
        done = [r for r in reviews.values() if r["network"] == n and r["completed"] and lo < r["completed"] <= on]
        reviewed = {r["reviewee"] for r in done} & set(members)
        reviewer = {o for r in done for o in r["reviewers"]} & set(members)
        overdue = sorted(k for k, r in reviews.items() if r["network"] == n and r["due"] < on
                         and not (r["completed"] and r["completed"] <= on) and not (r["withdrawn"] and r["withdrawn"] <= on))
        shared = [r for r in done if r["shared"] and r["shared"] <= on]
        out.append({"network_id": n, "members": len(members), "reviewed": len(reviewed), "reviewer": len(reviewer),
                    "coverage": len(reviewed) / len(members) if members else None,
                    "reviewer_coverage": len(reviewer) / len(members) if members else None,
                    "overdue": overdue, "outcome_sharing_rate": len(shared) / len(done) if done else None})
    return {"on": on, "window_days": window, "networks": out}


def graph(events, start, end):
    """Nodes, weighted undirected edges per kind, isolates, density and review reciprocity."""
    mem = membership(events)
    nodes = sorted({o for (n, o), h in mem.items() if member_during(h, start, end)})
    node_set = set(nodes)
    meetings = {e["data"]["meeting_id"]: e["day"] for e in events if e["type"] == "MeetingHeld"}
    records = {}
    for e in events:
        if e["type"] == "AttendanceRecorded":
            d = e["data"]
            records[(d["meeting_id"], d["org_id"], d.get("person_id", ""))] = d["status"]
    present = {}
    for (m, o, _), st in records.items():
        if st == "present" and m in meetings and start <= meetings[m] < end:
            present.setdefault(m, set()).add(o)
    w = {}
    def add(a, b, kind, n=1):
        if a == b or a not in node_set or b not in node_set:
            return
        key = (min(a, b), max(a, b))
        w.setdefault(key, {"co_attendance": 0, "document": 0, "review": 0})[kind] += n
    for m, orgs in present.items():
        orgs = sorted(orgs)
        for i, a in enumerate(orgs):
            for b in orgs[i + 1:]:
                add(a, b, "co_attendance")
    docs = {e["data"]["document_id"]: e["data"]["org_id"] for e in events if e["type"] == "DocumentShared"}
    for e in events:
        if e["type"] == "DocumentAdopted" and e["data"]["document_id"] in docs and start <= e["day"] < end:
            add(e["data"]["org_id"], docs[e["data"]["document_id"]], "document")
    reviews = {e["data"]["review_id"]: e["data"] for e in events if e["type"] == "ReviewCommitted"}
    directed = set()
    for e in events:
        if e["type"] == "ReviewCompleted" and e["data"]["review_id"] in reviews and start <= e["day"] < end:
            r = reviews[e["data"]["review_id"]]
            for rv in r["reviewer_org_ids"]:
                add(rv, r["reviewee_org_id"], "review")
                if rv in node_set and r["reviewee_org_id"] in node_set and rv != r["reviewee_org_id"]:
                    directed.add((rv, r["reviewee_org_id"]))
    edges = [{"source": a, "target": b, "weight": sum(k.values()), **k} for (a, b), k in sorted(w.items())]
    touched = {x for e in edges for x in (e["source"], e["target"])}
    n = len(nodes)
    pairs = {(min(a, b), max(a, b)) for a, b in directed}
    both = {(min(a, b), max(a, b)) for a, b in directed if (b, a) in directed}
    return {"node_count": n, "edge_count": len(edges), "edges": edges,
            "isolates": [o for o in nodes if o not in touched],
            "density": 2 * len(edges) / (n * (n - 1)) if n > 1 else None,
            "reciprocity": len(both) / len(pairs) if pairs else None}


if __name__ == "__main__":
    what, path = sys.argv[1], sys.argv[2]
    ev = load(path)
    if what == "participation":
        print(json.dumps(participation(ev, sys.argv[3], sys.argv[4]), indent=1))
    elif what == "graph":
        print(json.dumps(graph(ev, sys.argv[3], sys.argv[4]), indent=1))
    else:
        print(json.dumps(coverage(ev, sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 365), indent=1))
