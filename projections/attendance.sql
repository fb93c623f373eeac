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

-- One row per meeting and organisation: its status at that meeting, from its counting records.
CREATE TABLE attendance_by_org (
    meeting_id TEXT NOT NULL,
    org_id     TEXT NOT NULL,
    status     TEXT NOT NULL,           -- present, apologies, absent
    PRIMARY KEY (meeting_id, org_id)
) WITHOUT ROWID;
CREATE INDEX attendance_by_org_by_status ON attendance_by_org (meeting_id, status, org_id);

-- on AttendanceRecorded
INSERT INTO attendance (meeting_id, org_id, person_id, status, seq)
VALUES (:meeting_id, :org_id, coalesce(:person_id, ''), :status, :seq)
ON CONFLICT (meeting_id, org_id, person_id) DO UPDATE SET status = excluded.status, seq = excluded.seq;
INSERT INTO attendance_by_org (meeting_id, org_id, status)
SELECT meeting_id, org_id,
       CASE WHEN max(status = 'present') THEN 'present'
            WHEN max(status = 'apologies') THEN 'apologies'
            ELSE 'absent' END
FROM attendance WHERE meeting_id = :meeting_id AND org_id = :org_id
GROUP BY meeting_id, org_id
ON CONFLICT (meeting_id, org_id) DO UPDATE SET status = excluded.status;

-- derive attendance_by_org
-- The same rows at once, from the final counting records, by the same fold as the statement
-- above (it recomputes an organisation's status after each of its records from all its
-- records so far, so after the last event it is this). A full rebuild runs this, one pass
-- in key order, instead of the statement above.
INSERT INTO attendance_by_org (meeting_id, org_id, status)
SELECT meeting_id, org_id,
       CASE WHEN max(status = 'present') THEN 'present'
            WHEN max(status = 'apologies') THEN 'apologies'
            ELSE 'absent' END
FROM attendance
GROUP BY meeting_id, org_id;
