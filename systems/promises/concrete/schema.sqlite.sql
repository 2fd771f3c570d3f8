-- The promises server's schema for SQLite (systems/promises/concrete/README.md).
-- Run once on an empty database, after: PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL.

-- One row per origin: the design's partition revision (compare-and-set) and clock (latest `now`).
CREATE TABLE origins (
  origin   TEXT PRIMARY KEY,
  revision INTEGER NOT NULL,
  clock    INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE promises (
  id         TEXT PRIMARY KEY,
  origin     TEXT NOT NULL REFERENCES origins (origin),
  seq        INTEGER NOT NULL,          -- creation order within the origin, 1-based
  state      TEXT NOT NULL,             -- pending | resolved | rejected | rejected_canceled | rejected_timedout
  param      TEXT NOT NULL,             -- the Value as JSON: {headers?, data?}
  value      TEXT NOT NULL,
  tags       TEXT NOT NULL,             -- JSON object of strings
  timeout_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  settled_at INTEGER,
  has_target INTEGER NOT NULL,          -- resonate:target present and non-empty (spec HasTarget)
  -- tags["resonate:branch"], for the preload of task.create, task.acquire and task.suspend
  branch     TEXT GENERATED ALWAYS AS (json_extract(tags, '$."resonate:branch"')) VIRTUAL,
  UNIQUE (origin, seq)
) WITHOUT ROWID;
-- A preload's rows: the promises of one branch (read_rows with a branch).
CREATE INDEX promises_by_branch ON promises (branch, origin) WHERE branch IS NOT NULL;
-- The sweep's index: pending targeted promises by deadline (spec §3.3, σ.PT).
CREATE INDEX promises_due ON promises (timeout_at) WHERE state = 'pending' AND has_target = 1;
-- The same within one origin, for a sweep's read of that origin (read_due).
CREATE INDEX promises_due_by_origin ON promises (origin, timeout_at)
  WHERE state = 'pending' AND has_target = 1;

CREATE TABLE callbacks (                -- P[awaited].callbacks, an ordered set
  awaited  TEXT NOT NULL REFERENCES promises (id),
  awaiter  TEXT NOT NULL REFERENCES promises (id),
  origin   TEXT NOT NULL,
  position INTEGER NOT NULL,
  PRIMARY KEY (awaited, awaiter)
) WITHOUT ROWID;
CREATE INDEX callbacks_by_origin ON callbacks (origin, awaited, position);
-- A settlement's footprint: the promises whose callbacks hold the settled one (read_rows).
CREATE INDEX callbacks_by_awaiter ON callbacks (awaiter);

CREATE TABLE listeners (                -- P[awaited].listeners, an ordered set
  awaited  TEXT NOT NULL REFERENCES promises (id),
  address  TEXT NOT NULL,
  origin   TEXT NOT NULL,
  position INTEGER NOT NULL,
  PRIMARY KEY (awaited, address)
) WITHOUT ROWID;
CREATE INDEX listeners_by_origin ON listeners (origin, awaited, position);

CREATE TABLE tasks (
  id      TEXT PRIMARY KEY REFERENCES promises (id),
  origin  TEXT NOT NULL,
  state   TEXT NOT NULL,                -- pending | acquired | suspended | halted | fulfilled
  version INTEGER NOT NULL,
  pid     TEXT,
  ttl     INTEGER,
  resumes TEXT NOT NULL                 -- JSON array: the ordered set of promise ids
) WITHOUT ROWID;
CREATE INDEX tasks_by_origin ON tasks (origin);

CREATE TABLE task_timeouts (            -- σ.TT, an ordered map: `position` keeps insertion order
  id       TEXT PRIMARY KEY REFERENCES tasks (id),
  origin   TEXT NOT NULL,
  kind     INTEGER NOT NULL,            -- 0 retry, 1 lease
  at       INTEGER NOT NULL,
  position INTEGER NOT NULL
) WITHOUT ROWID;
-- The sweep's other index: due leases and retries.
CREATE INDEX task_timeouts_due ON task_timeouts (at);
CREATE INDEX task_timeouts_by_origin ON task_timeouts (origin, position);
CREATE INDEX task_timeouts_due_by_origin ON task_timeouts (origin, at);
