#!/usr/bin/env python3
"""Self-test for check_rules.py: each case must pass or fail (at the expected line) as stated."""
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
n = 0


def ev(typ, data, day='2023-01-10'):
    global n
    n += 1
    return {'id': f't-{n}', 'type': typ, 'occurred_at': day, 'data': data}


BASE = [
    ev('OrganisationRegistered', {'org_id': 'a', 'name': 'A Trust', 'kind': 'mat', 'schools': 3}),
    ev('OrganisationRegistered', {'org_id': 'b', 'name': 'B Trust', 'kind': 'sat'}),
    ev('OrganisationRegistered', {'org_id': 'c', 'name': 'C Trust', 'kind': 'mat'}),
    ev('PersonRegistered', {'person_id': 'pa', 'org_id': 'a', 'name': 'Ann'}),
    ev('NetworkFormed', {'network_id': 'n', 'name': 'Net', 'convenor_org_id': 'a'}),
    ev('MemberJoined', {'network_id': 'n', 'org_id': 'a'}),
    ev('MemberJoined', {'network_id': 'n', 'org_id': 'b'}),
    ev('MeetingHeld', {'meeting_id': 'm', 'network_id': 'n', 'title': 'Autumn 1 network meeting'}),
    ev('DocumentShared', {'document_id': 'd', 'org_id': 'a', 'network_id': 'n', 'title': 'SoD', 'kind': 'policy'}),
    ev('ReviewCommitted', {'review_id': 'r', 'network_id': 'n', 'reviewer_org_ids': ['a', 'c'],
                           'reviewee_org_id': 'b', 'areas': ['governance'], 'due_by': '2023-04-01'}),
]
B = len(BASE)


def ids(k):
    return BASE[k]['id']


CASES = [
    ('valid base', [], None),
    ('attendance ok, person of org', [ev('AttendanceRecorded', {'meeting_id': 'm', 'org_id': 'a', 'person_id': 'pa', 'status': 'present'})], None),
    ('person of another org', [ev('AttendanceRecorded', {'meeting_id': 'm', 'org_id': 'b', 'person_id': 'pa', 'status': 'present'})], B + 1),
    ('unknown meeting', [ev('AttendanceRecorded', {'meeting_id': 'zz', 'org_id': 'a', 'status': 'present'})], B + 1),
    ('retracted meeting', [ev('EventRetracted', {'event_id': ids(7), 'reason': 'dup'}),
                           ev('AttendanceRecorded', {'meeting_id': 'm', 'org_id': 'a', 'status': 'present'})], B + 2),
    ('retracted meeting id stays used', [ev('EventRetracted', {'event_id': ids(7), 'reason': 'dup'}),
                                         ev('MeetingHeld', {'meeting_id': 'm', 'network_id': 'n', 'title': 'x'})], B + 2),
    ('join twice', [ev('MemberJoined', {'network_id': 'n', 'org_id': 'a'})], B + 1),
    ('rejoin after retracted join', [ev('EventRetracted', {'event_id': ids(5), 'reason': 'wrong network'}),
                                     ev('MemberJoined', {'network_id': 'n', 'org_id': 'a'})], None),
    ('leave after retracted join', [ev('EventRetracted', {'event_id': ids(5), 'reason': 'wrong network'}),
                                    ev('MemberLeft', {'network_id': 'n', 'org_id': 'a'})], B + 2),
    ('retracted leave keeps member', [(left := ev('MemberLeft', {'network_id': 'n', 'org_id': 'a'})),
                                      ev('EventRetracted', {'event_id': left['id'], 'reason': 'error'}),
                                      ev('MemberJoined', {'network_id': 'n', 'org_id': 'a'})], B + 3),
    ('leave non-member', [ev('MemberLeft', {'network_id': 'n', 'org_id': 'c'})], B + 1),
    ('adopt own document', [ev('DocumentAdopted', {'document_id': 'd', 'org_id': 'a'})], B + 1),
    ('adopt ok', [ev('DocumentAdopted', {'document_id': 'd', 'org_id': 'b'})], None),
    ('complete twice', [ev('ReviewCompleted', {'review_id': 'r', 'outcomes': [{'area': 'governance', 'judgement': 'secure'}]}),
                        ev('ReviewCompleted', {'review_id': 'r', 'outcomes': [{'area': 'governance', 'judgement': 'secure'}]})], B + 2),
    ('withdraw after completion', [ev('ReviewCompleted', {'review_id': 'r', 'outcomes': [{'area': 'finance', 'judgement': 'concern', 'actions': 2}]}),
                                   ev('ReviewWithdrawn', {'review_id': 'r'})], B + 2),
    ('share before completion', [ev('ReviewOutcomeShared', {'review_id': 'r', 'audience': 'network'})], B + 1),
    ('reviewee among reviewers', [ev('ReviewCommitted', {'review_id': 'r2', 'network_id': 'n', 'reviewer_org_ids': ['a', 'b'],
                                                         'reviewee_org_id': 'b', 'areas': ['finance'], 'due_by': '2023-04-01'})], B + 1),
    ('retract a retraction', [(r1 := ev('EventRetracted', {'event_id': ids(8), 'reason': 'x'})),
                              ev('EventRetracted', {'event_id': r1['id'], 'reason': 'x'})], B + 2),
    ('retract twice', [ev('EventRetracted', {'event_id': ids(8), 'reason': 'x'}),
                       ev('EventRetracted', {'event_id': ids(8), 'reason': 'x'})], B + 2),
    ('retract unknown', [ev('EventRetracted', {'event_id': 'nope', 'reason': 'x'})], B + 1),
    ('unknown data field', [ev('MemberLeft', {'network_id': 'n', 'org_id': 'a', 'why': 'x'})], B + 1),
    ('erased person referenced', [ev('PersonErased', {'person_id': 'pa'}),
                                  ev('AttendanceRecorded', {'meeting_id': 'm', 'org_id': 'a', 'person_id': 'pa', 'status': 'present'})], B + 2),
    ('bad occurred_at', [dict(ev('MemberLeft', {'network_id': 'n', 'org_id': 'a'}), occurred_at='2023-02-30')], B + 1),
    ('duplicate id', [dict(ev('MemberLeft', {'network_id': 'n', 'org_id': 'a'}), id=ids(0))], B + 1),
]


def run(lines):
    with tempfile.NamedTemporaryFile('w', suffix='.ndjson', delete=False) as f:
        for e in lines:
            f.write(json.dumps(e, ensure_ascii=False, separators=(',', ':')) + '\n')
    try:
        return subprocess.run([sys.executable, os.path.join(HERE, 'check_rules.py'), f.name],
                              capture_output=True, text=True)
    finally:
        os.unlink(f.name)


failures = 0
for name, extra, bad_line in CASES:
    r = run(BASE + extra)
    if bad_line is None:
        ok = r.returncode == 0
    else:
        ok = r.returncode == 1 and f'line {bad_line}:' in r.stderr
    if not ok:
        failures += 1
        print(f'FAIL {name}: rc={r.returncode} {r.stderr.strip()}')
    else:
        print(f'ok   {name}' + (f' ({r.stderr.strip()})' if bad_line else ''))
sys.exit(1 if failures else 0)
