-- projection: meetings
-- Network meetings, by the day they were held.

-- tables
CREATE TABLE meetings (
    meeting_id  TEXT PRIMARY KEY,
    network_id  TEXT NOT NULL,
    title       TEXT NOT NULL,
    format      TEXT,                   -- in_person, online, hybrid
    elements    TEXT,                   -- JSON array: research, perspectives, leadership, solutions
    held_on     TEXT NOT NULL,          -- day of occurred_at
    occurred_at TEXT NOT NULL,
    seq         INTEGER NOT NULL
);
CREATE INDEX meetings_by_network ON meetings (network_id, held_on);

-- on MeetingHeld
INSERT INTO meetings (meeting_id, network_id, title, format, elements, held_on, occurred_at, seq)
VALUES (:meeting_id, :network_id, :title, :format, :elements, :day, :occurred_at, :seq);
