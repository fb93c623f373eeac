-- projection: documents
-- Documents shared in a network (schemes of delegation, job descriptions, skills matrices,
-- policies, improvement plans) and every adoption by another organisation.

-- tables
CREATE TABLE documents (
    document_id TEXT PRIMARY KEY,
    org_id      TEXT NOT NULL,          -- the sharer
    network_id  TEXT NOT NULL,
    title       TEXT NOT NULL,
    kind        TEXT NOT NULL,
    shared_on   TEXT NOT NULL,
    seq         INTEGER NOT NULL
);
CREATE TABLE adoptions (
    document_id TEXT NOT NULL,
    org_id      TEXT NOT NULL,          -- the adopter
    adopted_on  TEXT NOT NULL,
    seq         INTEGER PRIMARY KEY
);

CREATE INDEX adoptions_by_day ON adoptions (adopted_on);

-- on DocumentShared
INSERT INTO documents (document_id, org_id, network_id, title, kind, shared_on, seq)
VALUES (:document_id, :org_id, :network_id, :title, :kind, :day, :seq);

-- on DocumentAdopted
INSERT INTO adoptions (document_id, org_id, adopted_on, seq)
VALUES (:document_id, :org_id, :day, :seq);
