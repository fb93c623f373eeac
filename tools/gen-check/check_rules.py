#!/usr/bin/env python3
"""Check a Trellis NDJSON event stream against the append rules of DOMAIN.md, in log order.

Usage: check_rules.py [FILE|-]

Honours retraction semantics: a retracted event is ignored as if never appended (a retracted
MemberJoined means the organisation is not a member; a retracted creation event means the
entity no longer exists), while every id it used stays used. Exits 1 on the first violation,
printing its line number; otherwise prints counts per type and per academic year and a few
realism statistics.
"""
import bisect
import collections
import datetime
import json
import re
import sys

ID_RE = re.compile(r'^[A-Za-z0-9._:-]{1,128}$')
TS_RE = re.compile(r'^(\d{4})-(\d{2})-(\d{2})(?:T(\d{2}):(\d{2}):(\d{2})(\.\d+)?Z)?$')
DATE_RE = re.compile(r'^(\d{4})-(\d{2})-(\d{2})$')

ORG_KINDS = {'mat', 'sat', 'hub', 'school', 'local_authority', 'provider', 'other'}
FORMATS = {'in_person', 'online', 'hybrid'}
ELEMENTS = {'research', 'perspectives', 'leadership', 'solutions'}
STATUSES = {'present', 'apologies', 'absent'}
DOC_KINDS = {'scheme_of_delegation', 'job_description', 'skills_matrix', 'policy', 'improvement_plan', 'other'}
AREAS = {'governance', 'finance', 'school_improvement', 'conflicts_of_interest', 'growth',
         'recruitment', 'curriculum', 'safeguarding', 'other'}
JUDGEMENTS = {'strength', 'secure', 'developing', 'concern'}
AUDIENCES = {'network', 'public'}


class Violation(Exception):
    pass


def fail(msg):
    raise Violation(msg)


def check_id(v, what):
    if not isinstance(v, str) or not ID_RE.match(v):
        fail(f'{what} is not a valid identifier: {v!r}')


def check_text(v, what, limit=500):
    if not isinstance(v, str):
        fail(f'{what} must be a string')
    if len(v) > limit:
        fail(f'{what} longer than {limit} characters')
    if '\x00' in v:
        fail(f'{what} contains NUL')


def check_date(v, what):
    if not isinstance(v, str) or not DATE_RE.match(v):
        fail(f'{what} is not a YYYY-MM-DD date: {v!r}')
    try:
        datetime.date.fromisoformat(v)
    except ValueError:
        fail(f'{what} is not a valid date: {v!r}')


def check_int(v, what):
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        fail(f'{what} must be an integer >= 0')


def enum(values):
    def c(v, what):
        if v not in values:
            fail(f'{what} must be one of {sorted(values)}, got {v!r}')
    return c


def id_list(v, what, min_len=0):
    if not isinstance(v, list) or len(v) < min_len:
        fail(f'{what} must be a list of at least {min_len} identifiers')
    for x in v:
        check_id(x, what)


def enum_list(values, min_len=0):
    def c(v, what):
        if not isinstance(v, list) or len(v) < min_len:
            fail(f'{what} must be a list of at least {min_len} items')
        for x in v:
            if x not in values:
                fail(f'{what} item {x!r} not in {sorted(values)}')
        if len(set(v)) != len(v):
            fail(f'{what} has duplicate items')
    return c


def outcomes(v, what):
    if not isinstance(v, list) or not v:
        fail(f'{what} must be a non-empty list')
    for o in v:
        if not isinstance(o, dict):
            fail(f'{what} items must be objects')
        extra = set(o) - {'area', 'judgement', 'actions'}
        if extra:
            fail(f'{what} item has unknown fields {sorted(extra)}')
        if o.get('area') not in AREAS:
            fail(f'{what} item area {o.get("area")!r} invalid')
        if o.get('judgement') not in JUDGEMENTS:
            fail(f'{what} item judgement {o.get("judgement")!r} invalid')
        if 'actions' in o:
            check_int(o['actions'], f'{what}.actions')


T = check_text
SPEC = {
    'NetworkFormed': ({'network_id': check_id, 'name': T},
                      {'region': T, 'convenor_org_id': check_id, 'partners': lambda v, w: id_list(v, w)}),
    'OrganisationRegistered': ({'org_id': check_id, 'name': T, 'kind': enum(ORG_KINDS)},
                               {'schools': check_int, 'region': T}),
    'OrganisationUpdated': ({'org_id': check_id}, {'name': T, 'schools': check_int, 'region': T}),
    'PersonRegistered': ({'person_id': check_id, 'org_id': check_id, 'name': T}, {'role': T, 'email': T}),
    'MemberJoined': ({'network_id': check_id, 'org_id': check_id}, {}),
    'MemberLeft': ({'network_id': check_id, 'org_id': check_id}, {'reason': T}),
    'MeetingHeld': ({'meeting_id': check_id, 'network_id': check_id, 'title': T},
                    {'format': enum(FORMATS), 'elements': enum_list(ELEMENTS)}),
    'AttendanceRecorded': ({'meeting_id': check_id, 'org_id': check_id, 'status': enum(STATUSES)},
                           {'person_id': check_id}),
    'DocumentShared': ({'document_id': check_id, 'org_id': check_id, 'network_id': check_id, 'title': T,
                        'kind': enum(DOC_KINDS)}, {}),
    'DocumentAdopted': ({'document_id': check_id, 'org_id': check_id}, {}),
    'ReviewCommitted': ({'review_id': check_id, 'network_id': check_id,
                         'reviewer_org_ids': lambda v, w: id_list(v, w, 1), 'reviewee_org_id': check_id,
                         'areas': enum_list(AREAS, 1), 'due_by': check_date}, {'moderator': T}),
    'ReviewCompleted': ({'review_id': check_id, 'outcomes': outcomes}, {}),
    'ReviewOutcomeShared': ({'review_id': check_id, 'audience': enum(AUDIENCES)}, {}),
    'ReviewWithdrawn': ({'review_id': check_id}, {'reason': T}),
    'EventRetracted': ({'event_id': check_id, 'reason': T}, {}),
    'PersonErased': ({'person_id': check_id}, {'reason': T}),
}


def parse_ts(v):
    if not isinstance(v, str):
        fail('occurred_at must be a string')
    m = TS_RE.match(v)
    if not m:
        fail(f'occurred_at is neither RFC 3339 UTC nor a date: {v!r}')
    try:
        d = datetime.date(int(m[1]), int(m[2]), int(m[3]))
        if m[4] is not None:
            h, mi, s = int(m[4]), int(m[5]), int(m[6])
            if h > 23 or mi > 59 or s > 60:
                raise ValueError
            return datetime.datetime(d.year, d.month, d.day, h, mi, min(s, 59))
        return datetime.datetime(d.year, d.month, d.day)
    except ValueError:
        fail(f'occurred_at is not a valid time: {v!r}')


def academic_year(dt):
    y = dt.year if dt.month >= 9 else dt.year - 1
    return f'{y}/{(y + 1) % 100:02d}'


class Ledger:
    def __init__(self):
        self.events = {}          # envelope id -> [type, data, retracted]
        self.networks = {}        # network_id -> event id
        self.orgs = {}            # org_id -> event id
        self.persons = {}         # person_id -> [org_id, event id, erased]
        self.meetings = {}        # meeting_id -> [network_id, event id, datetime]
        self.docs = {}            # document_id -> [sharer org, network, event id]
        self.reviews = {}         # review_id -> [event id, [completion ids], [withdrawal ids], reviewee, reviewers, network]
        self.membership = collections.defaultdict(list)  # (network, org) -> [[event id, is_join]]
        self.stats = collections.Counter()
        self.seq = 0
        self.attendance = []      # (event id, network, meeting day, org) for the by-date membership statistic

    def live(self, evid):
        return evid is not None and not self.events[evid][2]

    def net_exists(self, n):
        return self.live(self.networks.get(n))

    def org_exists(self, o):
        return self.live(self.orgs.get(o))

    def person_exists(self, p):
        e = self.persons.get(p)
        return e is not None and self.live(e[1])

    def is_member(self, n, o):
        for evid, is_join, _day, _seq in reversed(self.membership.get((n, o), ())):
            if self.live(evid):
                return is_join
        return False

    def review_state(self, r):
        rv = self.reviews.get(r)
        if rv is None or not self.live(rv[0]):
            return None
        if any(self.live(e) for e in rv[1]):
            return 'completed'
        if any(self.live(e) for e in rv[2]):
            return 'withdrawn'
        return 'committed'

    def need_org(self, o, what):
        if not self.org_exists(o):
            fail(f'{what} {o!r} does not exist')

    def non_member_attendance(self):
        """Live attendance records whose org was not a member of the meeting's network on the
        meeting day, by DOMAIN.md's figure definition (latest live join/leave dated <= day)."""
        timelines = {}
        count = 0
        for evid, n, day, o, mid in self.attendance:
            if not self.live(evid) or not self.live(self.meetings[mid][1]):
                continue
            tl = timelines.get((n, o))
            if tl is None:
                live = sorted((e[2], e[3], e[1]) for e in self.membership.get((n, o), ()) if self.live(e[0]))
                tl = timelines[(n, o)] = ([x[0] for x in live], [x[2] for x in live])
            i = bisect.bisect_right(tl[0], day)
            if i == 0 or not tl[1][i - 1]:
                count += 1
        return count

    def apply(self, evid, typ, d, when):
        s = self.stats
        self.seq += 1
        if typ == 'NetworkFormed':
            if d['network_id'] in self.networks:
                fail(f'network_id {d["network_id"]!r} already used')
            if 'convenor_org_id' in d:
                self.need_org(d['convenor_org_id'], 'convenor_org_id')
            for p in d.get('partners', ()):
                self.need_org(p, 'partner')
            self.networks[d['network_id']] = evid
        elif typ == 'OrganisationRegistered':
            if d['org_id'] in self.orgs:
                fail(f'org_id {d["org_id"]!r} already used')
            self.orgs[d['org_id']] = evid
        elif typ == 'OrganisationUpdated':
            self.need_org(d['org_id'], 'org')
            if not ({'name', 'schools', 'region'} & set(d)):
                fail('OrganisationUpdated needs at least one of name, schools, region')
        elif typ == 'PersonRegistered':
            if d['person_id'] in self.persons:
                fail(f'person_id {d["person_id"]!r} already used')
            self.need_org(d['org_id'], 'org')
            self.persons[d['person_id']] = [d['org_id'], evid, False]
        elif typ == 'MemberJoined':
            n, o = d['network_id'], d['org_id']
            if not self.net_exists(n):
                fail(f'network {n!r} does not exist')
            self.need_org(o, 'org')
            if self.is_member(n, o):
                fail(f'org {o!r} is already a member of {n!r}')
            self.membership[(n, o)].append([evid, True, when.date(), self.seq])
        elif typ == 'MemberLeft':
            n, o = d['network_id'], d['org_id']
            if not self.is_member(n, o):
                fail(f'org {o!r} is not a member of {n!r}')
            self.membership[(n, o)].append([evid, False, when.date(), self.seq])
        elif typ == 'MeetingHeld':
            if d['meeting_id'] in self.meetings:
                fail(f'meeting_id {d["meeting_id"]!r} already used')
            if not self.net_exists(d['network_id']):
                fail(f'network {d["network_id"]!r} does not exist')
            self.meetings[d['meeting_id']] = [d['network_id'], evid, when]
        elif typ == 'AttendanceRecorded':
            m = self.meetings.get(d['meeting_id'])
            if m is None or not self.live(m[1]):
                fail(f'meeting {d["meeting_id"]!r} does not exist')
            self.need_org(d['org_id'], 'org')
            if 'person_id' in d:
                p = self.persons.get(d['person_id'])
                if p is None or not self.live(p[1]):
                    fail(f'person {d["person_id"]!r} does not exist')
                if p[0] != d['org_id']:
                    fail(f'person {d["person_id"]!r} belongs to {p[0]!r}, not {d["org_id"]!r}')
                if p[2]:
                    fail(f'person {d["person_id"]!r} was erased')
            if not self.is_member(m[0], d['org_id']):
                s['attendance by non-member (at append time)'] += 1
            self.attendance.append((evid, m[0], m[2].date(), d['org_id'], d['meeting_id']))
        elif typ == 'DocumentShared':
            if d['document_id'] in self.docs:
                fail(f'document_id {d["document_id"]!r} already used')
            self.need_org(d['org_id'], 'org')
            if not self.net_exists(d['network_id']):
                fail(f'network {d["network_id"]!r} does not exist')
            self.docs[d['document_id']] = [d['org_id'], d['network_id'], evid]
        elif typ == 'DocumentAdopted':
            doc = self.docs.get(d['document_id'])
            if doc is None or not self.live(doc[2]):
                fail(f'document {d["document_id"]!r} does not exist')
            if doc[0] == d['org_id']:
                fail(f'org {d["org_id"]!r} adopts its own document')
            self.need_org(d['org_id'], 'adopter org')
        elif typ == 'ReviewCommitted':
            r = d['review_id']
            if r in self.reviews:
                fail(f'review_id {r!r} already used')
            if not self.net_exists(d['network_id']):
                fail(f'network {d["network_id"]!r} does not exist')
            for o in d['reviewer_org_ids']:
                self.need_org(o, 'reviewer org')
            self.need_org(d['reviewee_org_id'], 'reviewee org')
            if d['reviewee_org_id'] in d['reviewer_org_ids']:
                fail('reviewee is among the reviewers')
            if len(set(d['reviewer_org_ids'])) != len(d['reviewer_org_ids']):
                s['review with a repeated reviewer (allowed)'] += 1
            self.reviews[r] = [evid, [], [], d['reviewee_org_id'], d['reviewer_org_ids'], d['network_id']]
        elif typ in ('ReviewCompleted', 'ReviewWithdrawn'):
            st = self.review_state(d['review_id'])
            if st is None:
                fail(f'review {d["review_id"]!r} was not committed')
            if st != 'committed':
                fail(f'review {d["review_id"]!r} is already {st}')
            if typ == 'ReviewCompleted':
                for o in d['outcomes']:
                    s[f'judgement {o["judgement"]}'] += 1
            self.reviews[d['review_id']][1 if typ == 'ReviewCompleted' else 2].append(evid)
        elif typ == 'ReviewOutcomeShared':
            if self.review_state(d['review_id']) != 'completed':
                fail(f'review {d["review_id"]!r} is not completed')
        elif typ == 'EventRetracted':
            t = d['event_id']
            target = self.events.get(t)
            if target is None:
                fail(f'retraction target {t!r} does not exist')
            if target[0] == 'EventRetracted':
                fail(f'retraction target {t!r} is itself a retraction')
            if target[2]:
                fail(f'retraction target {t!r} is already retracted')
            target[2] = True
            s[f'retracted {target[0]}'] += 1
        elif typ == 'PersonErased':
            p = self.persons.get(d['person_id'])
            if p is None or not self.live(p[1]):
                fail(f'person {d["person_id"]!r} does not exist')
            if p[2]:
                fail(f'person {d["person_id"]!r} already erased')
            p[2] = True


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else '-'
    f = sys.stdin.buffer if path == '-' else open(path, 'rb')
    ledger = Ledger()
    per_type = collections.Counter()
    per_year = collections.defaultdict(collections.Counter)
    latest = None
    lineno = 0
    late_days = collections.Counter()
    try:
        for raw in f:
            lineno += 1
            if not raw.endswith(b'\n'):
                fail('line is not newline-terminated')
            line = raw[:-1]
            if not line or line != line.strip():
                fail('empty line or surrounding whitespace')
            try:
                text = line.decode('utf-8')
                ev = json.loads(text)
            except (UnicodeDecodeError, ValueError) as e:
                fail(f'not valid UTF-8 JSON: {e}')
            if not isinstance(ev, dict):
                fail('envelope is not an object')
            extra = set(ev) - {'id', 'type', 'v', 'occurred_at', 'actor', 'data'}
            if extra:
                fail(f'unknown envelope fields {sorted(extra)}')
            for k in ('seq', 'recorded_at', 'hash'):
                if k in ev:
                    fail(f'envelope must not carry {k}')
            typ = ev.get('type')
            if typ not in SPEC:
                fail(f'unknown type {typ!r}')
            if ev.get('v', 1) != 1:
                fail('unsupported v')
            evid = ev.get('id')
            if evid is None:
                fail('generator events must carry an id')
            check_id(evid, 'id')
            if evid in ledger.events:
                fail(f'duplicate id {evid!r}')
            when = parse_ts(ev.get('occurred_at'))
            if 'actor' in ev:
                check_text(ev['actor'], 'actor', 200)
            d = ev.get('data')
            if not isinstance(d, dict):
                fail('data must be an object')
            required, optional = SPEC[typ]
            for k, c in required.items():
                if k not in d:
                    fail(f'{typ}.data.{k} is required')
                c(d[k], f'{typ}.data.{k}')
            for k, v in d.items():
                if k in required:
                    continue
                if k not in optional:
                    fail(f'{typ}.data has unknown field {k!r}')
                optional[k](v, f'{typ}.data.{k}')
            ledger.apply(evid, typ, d, when)
            ledger.events[evid] = [typ, None, False]
            per_type[typ] += 1
            per_year[academic_year(when)][typ] += 1
            if latest is None or when > latest:
                latest = when
            else:
                lag = (latest - when).days
                if lag >= 7:
                    late_days['back-dated >= 7 days'] += 1
                if lag >= 28:
                    late_days['back-dated >= 28 days'] += 1
    except Violation as e:
        print(f'VIOLATION at line {lineno}: {e}', file=sys.stderr)
        sys.exit(1)

    years = sorted(per_year)
    types = sorted(per_type)
    w = max([len(t) for t in types] + [5])
    print(f'{lineno} events, all append rules hold')
    print(f'{"type":<{w}} ' + ' '.join(f'{y:>8}' for y in years) + f' {"total":>9}')
    for t in types:
        print(f'{t:<{w}} ' + ' '.join(f'{per_year[y][t]:>8}' for y in years) + f' {per_type[t]:>9}')
    print(f'{"total":<{w}} ' + ' '.join(f'{sum(per_year[y].values()):>8}' for y in years) + f' {lineno:>9}')
    live_members = sum(1 for k in ledger.membership if ledger.is_member(*k))
    print(f'networks {len(ledger.networks)}, organisations {len(ledger.orgs)}, people {len(ledger.persons)}, '
          f'meetings {len(ledger.meetings)}, documents {len(ledger.docs)}, reviews {len(ledger.reviews)}, '
          f'memberships at end {live_members}')
    states = collections.Counter(ledger.review_state(r) for r in ledger.reviews)
    print('reviews by state: ' + ', '.join(f'{k} {v}' for k, v in sorted(states.items(), key=str)))
    live_att = sum(1 for a in ledger.attendance if ledger.live(a[0]))
    print(f'attendance records of non-members on the meeting day (guests): '
          f'{ledger.non_member_attendance()} of {live_att} live records')
    for k, v in sorted((ledger.stats + late_days).items()):
        print(f'  {k}: {v}')


if __name__ == '__main__':
    try:
        main()
    except BrokenPipeError:
        sys.exit(0)
