-- projection: people
-- The people who attend for their organisations. Names and e-mails are personal data and
-- are not copied here: they stay sealed in the log, and reports show them while the
-- person's key exists and "(erased)" after.

-- tables
CREATE TABLE people (
    person_id     TEXT PRIMARY KEY,
    org_id        TEXT NOT NULL,
    role          TEXT,
    registered_on TEXT NOT NULL,
    erased_on     TEXT,                 -- set by PersonErased
    seq           INTEGER NOT NULL
);

-- on PersonRegistered
INSERT INTO people (person_id, org_id, role, registered_on, seq)
VALUES (:person_id, :org_id, :role, :day, :seq);

-- on PersonErased
UPDATE people SET erased_on = :day WHERE person_id = :person_id;
