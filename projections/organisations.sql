-- projection: organisations
-- Every organisation with its current name, kind, number of schools and region.
-- An update changes only the fields it gives; later updates (in log order) win.

-- tables
CREATE TABLE organisations (
    org_id        TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,        -- mat, sat, hub, school, local_authority, provider, other
    schools       INTEGER,
    region        TEXT,
    registered_on TEXT NOT NULL,
    updated_on    TEXT,
    seq           INTEGER NOT NULL
);

-- on OrganisationRegistered
INSERT INTO organisations (org_id, name, kind, schools, region, registered_on, seq)
VALUES (:org_id, :name, :kind, :schools, :region, :day, :seq);

-- on OrganisationUpdated
UPDATE organisations
SET name = coalesce(:name, name),
    schools = coalesce(:schools, schools),
    region = coalesce(:region, region),
    updated_on = :day
WHERE org_id = :org_id;
