-- Police footage requests: the agencies the owner knows, each request as received and checked,
-- the owner's per-clip decisions, signed consent receipts, evidence packages and their grants.

CREATE TABLE agencies (
    id                INTEGER PRIMARY KEY,
    name              TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 120),
    verification      TEXT NOT NULL
                      CHECK (verification IN ('in_person', 'email_domain', 'signed_key', 'unverified')),
    verification_note TEXT NOT NULL DEFAULT '' CHECK (length(verification_note) <= 500),
    public_key        TEXT,
    contact           TEXT NOT NULL DEFAULT '' CHECK (length(contact) <= 200),
    user_id           INTEGER UNIQUE REFERENCES users(id) ON DELETE SET NULL,
    created_at        TEXT NOT NULL,
    created_by        TEXT NOT NULL,
    CHECK (verification != 'signed_key' OR public_key IS NOT NULL)
) STRICT;

CREATE TABLE police_requests (
    id              TEXT PRIMARY KEY,
    received_at     TEXT NOT NULL,
    channel         TEXT NOT NULL
                    CHECK (channel IN ('agency_account', 'signed_file', 'email', 'paper')),
    original_sha256 TEXT NOT NULL,
    original        BLOB NOT NULL CHECK (length(original) <= 65536),
    agency_id       INTEGER REFERENCES agencies(id) ON DELETE SET NULL,
    agency_name     TEXT NOT NULL,
    verification    TEXT NOT NULL,
    case_number     TEXT NOT NULL,
    case_key        TEXT NOT NULL,
    form            TEXT NOT NULL,      -- the request's fields (JSON), as checked
    area_m2         REAL,
    window_start    TEXT,
    window_end      TEXT,
    checks          TEXT NOT NULL,      -- [{name, ok, detail}]
    flags           TEXT NOT NULL,      -- [text]
    related         TEXT NOT NULL DEFAULT '[]',
    status          TEXT NOT NULL
                    CHECK (status IN ('pending', 'granted', 'partial', 'declined', 'expired', 'refused')),
    refused_field   TEXT,
    refused_reason  TEXT,
    decided_at      TEXT,
    decided_by      TEXT,
    private_note    TEXT CHECK (private_note IS NULL OR length(private_note) <= 2000),
    expires_at      TEXT NOT NULL,
    received_by     TEXT NOT NULL,
    first_audit_seq INTEGER,
    last_audit_seq  INTEGER
) STRICT;
CREATE INDEX police_requests_by_case ON police_requests (agency_name, case_key);
CREATE INDEX police_requests_by_time ON police_requests (received_at);

-- One row per clip the owner granted: what was handed over, as it was made.
CREATE TABLE request_items (
    request_id     TEXT NOT NULL REFERENCES police_requests(id) ON DELETE CASCADE,
    clip_id        TEXT NOT NULL,
    position       INTEGER NOT NULL,
    start_ms       INTEGER NOT NULL DEFAULT 0,
    end_ms         INTEGER,
    audio          INTEGER NOT NULL CHECK (audio IN (0, 1)),
    masks          TEXT NOT NULL DEFAULT '[]',
    master_path    TEXT NOT NULL,
    master_sha256  TEXT NOT NULL,
    PRIMARY KEY (request_id, clip_id)
) STRICT, WITHOUT ROWID;

-- Signed consent receipts: append-only, like the audit log.
CREATE TABLE consent_receipts (
    id         INTEGER PRIMARY KEY,
    request_id TEXT NOT NULL REFERENCES police_requests(id),
    at         TEXT NOT NULL,
    body       TEXT NOT NULL,           -- canonical JSON, what the signature covers
    signature  TEXT NOT NULL,           -- Ed25519, base64
    key_fingerprint TEXT NOT NULL
) STRICT;
CREATE TRIGGER consent_receipts_no_update BEFORE UPDATE ON consent_receipts
BEGIN SELECT RAISE(ABORT, 'consent receipts are append-only'); END;
CREATE TRIGGER consent_receipts_no_delete BEFORE DELETE ON consent_receipts
BEGIN SELECT RAISE(ABORT, 'consent receipts are append-only'); END;

-- One evidence package per delivery, and the grant the agency downloads it through.
CREATE TABLE evidence_packages (
    id              TEXT PRIMARY KEY,
    request_id      TEXT NOT NULL REFERENCES police_requests(id),
    state           TEXT NOT NULL CHECK (state IN ('building', 'ready', 'failed')),
    error           TEXT,
    file            TEXT,
    size_bytes      INTEGER NOT NULL DEFAULT 0,
    sha256          TEXT,
    manifest_sha256 TEXT,
    created_at      TEXT NOT NULL,
    created_by      TEXT NOT NULL,
    token_hash      TEXT UNIQUE,
    expires_at      TEXT NOT NULL,
    max_downloads   INTEGER NOT NULL CHECK (max_downloads BETWEEN 1 AND 20),
    downloads       INTEGER NOT NULL DEFAULT 0,
    revoked_at      TEXT,
    ended_at        TEXT
) STRICT;
CREATE INDEX evidence_packages_by_request ON evidence_packages (request_id);

-- A legal hold names the request it keeps evidence for, and ends on a date.
ALTER TABLE clip_holds ADD COLUMN request_id TEXT REFERENCES police_requests(id);
ALTER TABLE clip_holds ADD COLUMN legal INTEGER NOT NULL DEFAULT 0 CHECK (legal IN (0, 1));
CREATE TRIGGER clip_holds_legal_names_a_request BEFORE INSERT ON clip_holds
WHEN NEW.legal = 1 AND (NEW.request_id IS NULL OR NEW.until IS NULL)
BEGIN
    SELECT RAISE(ABORT, 'a legal hold names its request id and an end date');
END;
