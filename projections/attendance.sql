-- projection: attendance
-- The counting record of each organisation at each meeting: one per person who attended for
-- it, or one for the organisation when no person is given (person_id = ''). When a register
-- is recorded again for the same meeting, organisation and person, the latest in log order
-- counts. An organisation is present at a meeting if any of its counting records is present;
-- otherwise apologies if any is apologies; otherwise absent (including no record at all).
-- Records for a meeting that does not exist (retracted) count for nothing: join on meetings.

-- tables
CREATE TABLE attendance (
    meeting_id TEXT NOT NULL,
    org_id     TEXT NOT NULL,
    person_id  TEXT NOT NULL,           -- '' when the record is for the organisation
    status     TEXT NOT NULL,           -- present, apologies, absent
    seq        INTEGER NOT NULL,        -- the record that counts
    PRIMARY KEY (meeting_id, org_id, person_id)
) WITHOUT ROWID;

CREATE VIEW attendance_by_org AS
SELECT meeting_id, org_id,
       CASE WHEN max(status = 'present') THEN 'present'
            WHEN max(status = 'apologies') THEN 'apologies'
            ELSE 'absent' END AS status
FROM attendance
GROUP BY meeting_id, org_id;

-- on AttendanceRecorded
INSERT INTO attendance (meeting_id, org_id, person_id, status, seq)
VALUES (:meeting_id, :org_id, coalesce(:person_id, ''), :status, :seq)
ON CONFLICT (meeting_id, org_id, person_id) DO UPDATE SET status = excluded.status, seq = excluded.seq;
