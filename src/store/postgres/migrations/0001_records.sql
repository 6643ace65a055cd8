-- deskprov's records, as its embedded sled store keeps them: one row per record, `tree` the
-- sled tree's name, `key` sled's key, `value` the record's JSON bytes.
--
-- Two columns are indexed for the trees that sled keeps index trees for:
--   unregistered: sort = last seen, tag = the source address it counts against;
--   outbox:       sort = the next attempt while queued (NULL when sent or given up),
--                 tag = the user the mail is about;
--   sources:      sort = the end of the latest ban;
--   audit:        tag = the record's kind (trimming goes by kind).
CREATE TABLE records (
    tree text NOT NULL,
    key bytea NOT NULL,
    value bytea NOT NULL,
    sort bigint,
    tag text,
    PRIMARY KEY (tree, key)
);
CREATE INDEX records_by_sort ON records (tree, sort, key) WHERE sort IS NOT NULL;
CREATE INDEX records_by_tag ON records (tree, tag, sort, key) WHERE tag IS NOT NULL;

-- Grows with every write of what rendered configs depend on besides the device record; every
-- node's render cache is keyed by it.
CREATE TABLE revision (
    one boolean PRIMARY KEY DEFAULT true CHECK (one),
    value bigint NOT NULL
);
INSERT INTO revision VALUES (true, 0);

-- Ids of audit records and queued mails, above every earlier one across nodes and restarts.
CREATE SEQUENCE audit_ids MINVALUE 0 START 1;
CREATE SEQUENCE mail_ids START 1;
