-- projection: membership
-- Every join and leave, by day. An organisation is a member of network N on day d when its
-- latest MemberJoined/MemberLeft for N with day <= d is a join (two on the same day are
-- ordered by seq). membership_periods turns the events into [joined_on, left_on) intervals.

-- tables
CREATE TABLE membership_events (
    network_id TEXT NOT NULL,
    org_id     TEXT NOT NULL,
    day        TEXT NOT NULL,
    seq        INTEGER NOT NULL PRIMARY KEY,
    joined     INTEGER NOT NULL,        -- 1 MemberJoined, 0 MemberLeft
    reason     TEXT
);
CREATE INDEX membership_events_by_org ON membership_events (network_id, org_id, day, seq);

CREATE VIEW membership_periods AS
SELECT network_id, org_id, joined_on, left_on
FROM (
    SELECT network_id, org_id, joined, day AS joined_on,
           lead(day) OVER (PARTITION BY network_id, org_id ORDER BY day, seq) AS left_on,
           lag(joined) OVER (PARTITION BY network_id, org_id ORDER BY day, seq) AS previous
    FROM membership_events
)
WHERE joined = 1 AND (previous IS NULL OR previous = 0);

-- on MemberJoined
INSERT INTO membership_events (network_id, org_id, day, seq, joined)
VALUES (:network_id, :org_id, :day, :seq, 1);

-- on MemberLeft
INSERT INTO membership_events (network_id, org_id, day, seq, joined, reason)
VALUES (:network_id, :org_id, :day, :seq, 0, :reason);
