-- projection: networks
-- The networks of the region, as formed.

-- tables
CREATE TABLE networks (
    network_id      TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    region          TEXT,
    convenor_org_id TEXT,
    partners        TEXT,               -- JSON array of partner names, as recorded
    formed_on       TEXT NOT NULL,      -- day of occurred_at, YYYY-MM-DD
    seq             INTEGER NOT NULL
);

-- on NetworkFormed
INSERT INTO networks (network_id, name, region, convenor_org_id, partners, formed_on, seq)
VALUES (:network_id, :name, :region, :convenor_org_id, :partners, :day, :seq);
