-- projection: reviews
-- Peer reviews: who committed to review whom, in which areas and by when; completion with an
-- outcome per area; withdrawal; sharing of outcomes. A review's status is completed,
-- withdrawn, or committed (overdue when due_by has passed). Follow-ups of a review that does
-- not exist (retracted) change nothing.

-- tables
CREATE TABLE reviews (
    review_id       TEXT PRIMARY KEY,
    network_id      TEXT NOT NULL,
    reviewee_org_id TEXT NOT NULL,
    due_by          TEXT NOT NULL,
    moderator       TEXT,
    committed_on    TEXT NOT NULL,
    completed_on    TEXT,
    withdrawn_on    TEXT,
    withdrawn_reason TEXT,
    seq             INTEGER NOT NULL
);
CREATE TABLE review_reviewers (
    review_id TEXT NOT NULL,
    org_id    TEXT NOT NULL,
    PRIMARY KEY (review_id, org_id)
) WITHOUT ROWID;
CREATE TABLE review_areas (
    review_id TEXT NOT NULL,
    area      TEXT NOT NULL,
    PRIMARY KEY (review_id, area)
) WITHOUT ROWID;
CREATE TABLE review_outcomes (
    review_id TEXT NOT NULL,
    position  INTEGER NOT NULL,         -- order within the completion
    area      TEXT NOT NULL,
    judgement TEXT NOT NULL,            -- strength, secure, developing, concern
    actions   INTEGER NOT NULL,         -- actions agreed; 0 when not given
    PRIMARY KEY (review_id, position)
) WITHOUT ROWID;
CREATE TABLE review_shares (
    review_id TEXT NOT NULL,
    audience  TEXT NOT NULL,            -- network, public
    shared_on TEXT NOT NULL,
    seq       INTEGER PRIMARY KEY
);

CREATE INDEX reviews_by_network ON reviews (network_id, committed_on);

-- on ReviewCommitted
INSERT INTO reviews (review_id, network_id, reviewee_org_id, due_by, moderator, committed_on, seq)
VALUES (:review_id, :network_id, :reviewee_org_id, :due_by, :moderator, :day, :seq);
INSERT INTO review_reviewers (review_id, org_id) SELECT :review_id, value FROM json_each(:reviewer_org_ids);
INSERT INTO review_areas (review_id, area) SELECT :review_id, value FROM json_each(:areas);

-- on ReviewCompleted
UPDATE reviews SET completed_on = :day WHERE review_id = :review_id;
INSERT INTO review_outcomes (review_id, position, area, judgement, actions)
SELECT :review_id, key, json_extract(value, '$.area'), json_extract(value, '$.judgement'),
       coalesce(json_extract(value, '$.actions'), 0)
FROM json_each(:outcomes)
WHERE EXISTS (SELECT 1 FROM reviews WHERE review_id = :review_id);

-- on ReviewWithdrawn
UPDATE reviews SET withdrawn_on = :day, withdrawn_reason = :reason WHERE review_id = :review_id;

-- on ReviewOutcomeShared
INSERT INTO review_shares (review_id, audience, shared_on, seq)
SELECT :review_id, :audience, :day, :seq
WHERE EXISTS (SELECT 1 FROM reviews WHERE review_id = :review_id AND completed_on IS NOT NULL);
