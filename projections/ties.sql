-- projection: ties
-- Collaboration ties between two different organisations, one row per tie event, with its
-- network and day (DOMAIN.md, "Collaboration ties"):
--   co_attendance  undirected (source < target): both present at a meeting of the network
--   document       adopter -> sharer: an adoption of a document shared in the network
--   review         reviewer -> reviewee: a completed review of the network, one per reviewer
-- A report over period P and networks sums weight over the rows with day in P; the graph
-- keeps only organisations that were members of the chosen networks during P.
-- Built only from the other read models, so it has no tables of its own.

-- tables
CREATE VIEW ties AS
SELECT a.org_id AS source, b.org_id AS target, 'co_attendance' AS kind,
       m.network_id, m.held_on AS day, m.meeting_id AS ref
FROM attendance_by_org a
JOIN attendance_by_org b ON b.meeting_id = a.meeting_id AND a.org_id < b.org_id
JOIN meetings m ON m.meeting_id = a.meeting_id
WHERE a.status = 'present' AND b.status = 'present'
UNION ALL
SELECT ad.org_id, d.org_id, 'document', d.network_id, ad.adopted_on, d.document_id
FROM adoptions ad JOIN documents d ON d.document_id = ad.document_id
WHERE ad.org_id <> d.org_id
UNION ALL
SELECT rr.org_id, r.reviewee_org_id, 'review', r.network_id, r.completed_on, r.review_id
FROM reviews r JOIN review_reviewers rr ON rr.review_id = r.review_id
WHERE r.completed_on IS NOT NULL AND rr.org_id <> r.reviewee_org_id;
