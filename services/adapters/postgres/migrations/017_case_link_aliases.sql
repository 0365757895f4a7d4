-- A case's other identities, for linking cases across a card-key rotation and the address
-- normalisation of 2026-12-07: the previous key's fingerprint and pseudonyms, an address's
-- pseudonym under its previous normalisation, each as 'kind:identity' (kind: card, device, ip,
-- email, shipping). A case links to another when any identity of one kind is shared
-- (case-store.ts linked); cases made before this migration have none.
ALTER TABLE cases ADD COLUMN link_aliases TEXT[] NOT NULL DEFAULT '{}';
CREATE INDEX cases_link_aliases ON cases USING GIN (link_aliases);
