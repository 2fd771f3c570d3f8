-- Resonate inside PostgreSQL 15: the protocol of systems/promises/spec.md as SQL and PL/pgSQL
-- functions, for @resonatehq/sdk's PostgresNetwork (no server: clients call these functions).
-- The concrete specification is README.md beside this file; the reference is the sequential model
-- (systems/promises/model), which these functions port handler by handler.
--
-- Installable and re-runnable: every object is created only if missing, every function is
-- CREATE OR REPLACE, and table changes go in numbered blocks recorded in resonate.schema_version.
-- Run it in one transaction (seer-resonate-pg does, under an advisory lock; or `psql -1 -f`).
-- Requires the READ COMMITTED isolation level for resonate_rpc and process_timeouts (README.md).

CREATE SCHEMA IF NOT EXISTS resonate;

CREATE TABLE IF NOT EXISTS resonate.schema_version (
  version    integer PRIMARY KEY,
  applied_at timestamptz NOT NULL DEFAULT clock_timestamp()
);

-- ---- version 1: the tables ----------------------------------------------------------------------
DO $v1$
BEGIN
  IF EXISTS (SELECT 1 FROM resonate.schema_version WHERE version = 1) THEN
    RETURN;
  END IF;

  -- One row per origin (spec §10): its lock serialises the origin's requests and sweeps; `clock`
  -- is the latest `now` used there (never goes back); `seq` counts its promises (creation order).
  CREATE TABLE resonate.origins (
    origin text PRIMARY KEY,
    clock  bigint NOT NULL,
    seq    bigint NOT NULL DEFAULT 0
  );

  -- σ.P (spec §2.1); param/value are Values {headers?, data?}, tags a JSON object of strings.
  CREATE TABLE resonate.promises (
    id         text PRIMARY KEY,
    origin     text NOT NULL,
    seq        bigint NOT NULL,
    state      text NOT NULL,
    param      jsonb NOT NULL,
    value      jsonb NOT NULL,
    tags       jsonb NOT NULL,
    timeout_at bigint NOT NULL,
    created_at bigint NOT NULL,
    settled_at bigint,
    has_target boolean NOT NULL,  -- spec HasTarget: resonate:target present and non-empty
    branch     text GENERATED ALWAYS AS (tags ->> 'resonate:branch') STORED
  );
  -- The sweep: pending targeted promises by deadline (σ.PT).
  CREATE INDEX promises_due ON resonate.promises (timeout_at, origin)
    WHERE state = 'pending' AND has_target;
  -- A preload: one origin's promises of one branch, in creation order.
  CREATE INDEX promises_by_branch ON resonate.promises (origin, branch, seq)
    WHERE branch IS NOT NULL AND branch <> '';

  -- Ordered sets (spec §0): `position` from resonate.positions keeps first-insertion order.
  CREATE SEQUENCE resonate.positions CACHE 1;  -- CACHE 1: values increase across sessions
  CREATE TABLE resonate.callbacks (  -- P[awaited].callbacks
    awaited  text NOT NULL,
    awaiter  text NOT NULL,
    position bigint NOT NULL,
    PRIMARY KEY (awaited, awaiter)
  );
  CREATE INDEX callbacks_by_awaiter ON resonate.callbacks (awaiter);
  CREATE TABLE resonate.listeners (  -- P[awaited].listeners
    awaited  text NOT NULL,
    address  text NOT NULL,
    position bigint NOT NULL,
    PRIMARY KEY (awaited, address)
  );

  -- σ.T (spec §2.2); resumes is a JSON array (an ordered set of promise ids).
  CREATE TABLE resonate.tasks (
    id      text PRIMARY KEY,
    origin  text NOT NULL,
    state   text NOT NULL,
    version bigint NOT NULL,
    pid     text,
    ttl     bigint,
    resumes jsonb NOT NULL
  );

  -- σ.TT, an ordered map: an upsert keeps `position`, a new entry takes the next one.
  CREATE TABLE resonate.task_timeouts (
    id       text PRIMARY KEY,
    origin   text NOT NULL,
    kind     smallint NOT NULL,  -- 0 retry, 1 lease
    at       bigint NOT NULL,
    position bigint NOT NULL
  );
  CREATE INDEX task_timeouts_due ON resonate.task_timeouts (at, origin);
  CREATE INDEX task_timeouts_by_origin ON resonate.task_timeouts (origin, position);

  -- The outbox: the messages of committed steps (spec §7), written in the step's transaction and
  -- taken by dequeue_execute / dequeue_unblock. At most one execute row per task (a new one
  -- replaces the old, as the SDK server's outbox does); unblock rows accumulate.
  CREATE TABLE resonate.outbox (
    id      bigserial PRIMARY KEY,  -- emission order
    origin  text NOT NULL,
    address text NOT NULL,
    kind    text NOT NULL,          -- execute | unblock
    task_id text,                   -- execute: {task: {id, version}}
    version bigint,
    promise jsonb                   -- unblock: {promise}
  );
  CREATE INDEX outbox_by_address ON resonate.outbox (address, kind, id);
  CREATE INDEX outbox_execute_by_task ON resonate.outbox (task_id) WHERE kind = 'execute';

  INSERT INTO resonate.schema_version (version) VALUES (1);
END
$v1$;

-- ---- time, origins, predicates ------------------------------------------------------------------

-- The database's wall clock in ms since the epoch (spec §3: integers, ms).
CREATE OR REPLACE FUNCTION resonate._wall_ms() RETURNS bigint
LANGUAGE sql VOLATILE AS $$ SELECT floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint $$;

-- spec §10 (ids.js: origin): the part of an id before its first ':', or the whole id.
CREATE OR REPLACE FUNCTION resonate._origin(id text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN strpos(id, ':') > 0 THEN left(id, strpos(id, ':') - 1) ELSE id END $$;

-- The `now` the last resonate_rpc or process_timeouts call of this session used (a test applies
-- the model at it). NULL before the first call.
CREATE OR REPLACE FUNCTION resonate.last_now() RETURNS bigint
LANGUAGE sql STABLE AS $$ SELECT nullif(current_setting('resonate.now', true), '')::bigint $$;

CREATE OR REPLACE FUNCTION resonate._has_target(tags jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$ SELECT coalesce(tags ->> 'resonate:target', '') <> '' $$;

CREATE OR REPLACE FUNCTION resonate._is_timer(tags jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$ SELECT coalesce(tags ->> 'resonate:timer' = 'true', false) $$;

CREATE OR REPLACE FUNCTION resonate._is_external(tags jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(tags ->> 'resonate:scope' = 'global', false)
      OR coalesce(tags ->> 'resonate:external' = 'true', false)
      OR tags ? 'resonate:target'
      OR resonate._is_timer(tags) $$;

-- spec §2.1 timeoutState
CREATE OR REPLACE FUNCTION resonate._timeout_state(tags jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN resonate._is_timer(tags) THEN 'resolved' ELSE 'rejected_timedout' END $$;

-- spec A6: resonate:delay is an optional '-' and decimal digits, else absent (NULL); saturates.
CREATE OR REPLACE FUNCTION resonate._delay(tags jsonb) RETURNS bigint
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN d ~ '^-?[0-9]+$' THEN
    (sign(d::numeric) * least(abs(d::numeric), 9223372036854775807))::bigint END
  FROM (SELECT tags ->> 'resonate:delay' AS d) t $$;

-- ---- records (spec §1.2) ------------------------------------------------------------------------

-- Record(p), or Record(view(p, now)) when `now` is given (spec §3.2).
CREATE OR REPLACE FUNCTION resonate._record(p resonate.promises, now bigint DEFAULT NULL)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE
    WHEN now IS NOT NULL AND p.state = 'pending' AND now >= p.timeout_at THEN
      jsonb_build_object('id', p.id, 'state', resonate._timeout_state(p.tags), 'param', p.param,
        'value', p.value, 'tags', p.tags, 'timeoutAt', p.timeout_at, 'createdAt', p.created_at,
        'settledAt', p.timeout_at)
    WHEN p.settled_at IS NULL THEN
      jsonb_build_object('id', p.id, 'state', p.state, 'param', p.param, 'value', p.value,
        'tags', p.tags, 'timeoutAt', p.timeout_at, 'createdAt', p.created_at)
    ELSE
      jsonb_build_object('id', p.id, 'state', p.state, 'param', p.param, 'value', p.value,
        'tags', p.tags, 'timeoutAt', p.timeout_at, 'createdAt', p.created_at,
        'settledAt', p.settled_at)
  END $$;

-- TaskRecord(t): pid and ttl present iff acquired (I7).
CREATE OR REPLACE FUNCTION resonate._task_record(t resonate.tasks) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_object('id', t.id, 'state', t.state, 'version', t.version,
                            'resumes', t.resumes)
      || CASE WHEN t.pid IS NULL THEN '{}'::jsonb
              ELSE jsonb_build_object('pid', t.pid, 'ttl', t.ttl) END $$;

-- {kind, head: {corrId, status, version}, data} (spec §1.1).
CREATE OR REPLACE FUNCTION resonate._envelope(kind text, head jsonb, status integer, data jsonb)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_object('kind', kind,
    'head', jsonb_build_object('corrId', head -> 'corrId', 'status', status,
                               'version', head -> 'version'),
    'data', data) $$;

-- ---- well-formedness (spec §6 step 2; the model's parse.cpp, message for message) ---------------

-- Raised (SQLSTATE RS400) by the checks below; resonate_rpc answers 400 with the message.
CREATE OR REPLACE FUNCTION resonate._fail(path text, what text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION USING ERRCODE = 'RS400', MESSAGE = 'Malformed request: ' || path || ' ' || what;
END $$;

CREATE OR REPLACE FUNCTION resonate._req(o jsonb, name text, path text) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT o ? name THEN PERFORM resonate._fail(path || '.' || name, 'is missing'); END IF;
  RETURN o -> name;
END $$;

CREATE OR REPLACE FUNCTION resonate._obj(v jsonb, path text) RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
  IF jsonb_typeof(v) <> 'object' THEN PERFORM resonate._fail(path, 'must be an object'); END IF;
  RETURN v;
END $$;

CREATE OR REPLACE FUNCTION resonate._str(v jsonb, path text) RETURNS text
LANGUAGE plpgsql AS $$
BEGIN
  IF jsonb_typeof(v) <> 'string' THEN PERFORM resonate._fail(path, 'must be a string'); END IF;
  RETURN v #>> '{}';
END $$;

-- A4: a safe integer, however spelled. The model reads a number with a fraction or exponent as a
-- double, so a value that rounds to a safe integer as a double is accepted as that integer.
CREATE OR REPLACE FUNCTION resonate._int(v jsonb, path text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  n numeric;
  d double precision;
BEGIN
  IF jsonb_typeof(v) <> 'number' THEN PERFORM resonate._fail(path, 'must be a number'); END IF;
  n := (v #>> '{}')::numeric;
  IF n = trunc(n) AND abs(n) <= 9007199254740991 THEN RETURN n::bigint; END IF;
  IF n <> trunc(n) THEN
    d := n::double precision;
    IF d = trunc(d) AND abs(d) <= 9007199254740991 THEN RETURN d::bigint; END IF;
  END IF;
  PERFORM resonate._fail(path, 'must be an integer within ±(2^53−1)');
  RETURN NULL;
END $$;

-- A5: an object whose values are strings; the first offender in byte order of keys, as the model.
CREATE OR REPLACE FUNCTION resonate._string_map(v jsonb, path text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  bad text;
BEGIN
  PERFORM resonate._obj(v, path);
  SELECT key INTO bad FROM jsonb_each(v) WHERE jsonb_typeof(value) <> 'string'
    ORDER BY key COLLATE "C" LIMIT 1;
  IF bad IS NOT NULL THEN PERFORM resonate._fail(path || '.' || bad, 'must be a string'); END IF;
  RETURN v;
END $$;

-- A Value {headers?, data?}; other fields are dropped (A15).
CREATE OR REPLACE FUNCTION resonate._value(v jsonb, path text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  out jsonb := '{}';
BEGIN
  PERFORM resonate._obj(v, path);
  IF v ? 'headers' THEN
    out := jsonb_build_object('headers', resonate._string_map(v -> 'headers', path || '.headers'));
  END IF;
  IF v ? 'data' THEN
    out := out || jsonb_build_object('data', resonate._str(v -> 'data', path || '.data'));
  END IF;
  RETURN out;
END $$;

CREATE OR REPLACE FUNCTION resonate._head(h jsonb, path text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  out jsonb;
BEGIN
  PERFORM resonate._obj(h, path);
  out := jsonb_build_object(
    'corrId', resonate._str(resonate._req(h, 'corrId', path), path || '.corrId'),
    'version', resonate._str(resonate._req(h, 'version', path), path || '.version'));
  IF h ? 'auth' THEN PERFORM resonate._str(h -> 'auth', path || '.auth'); END IF;
  IF h ? 'resonate:debug_time' THEN
    PERFORM resonate._int(h -> 'resonate:debug_time', path || '.resonate:debug_time');
  END IF;
  IF h ? 'resonate:origin' THEN
    PERFORM resonate._str(h -> 'resonate:origin', path || '.resonate:origin');
  END IF;
  RETURN out;
END $$;

-- An embedded request (an action) must be a well-formed request of `kind`, head included.
-- Returns {head, data}.
CREATE OR REPLACE FUNCTION resonate._embedded(r jsonb, kind text, path text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  k jsonb;
  head jsonb;
BEGIN
  PERFORM resonate._obj(r, path);
  k := resonate._req(r, 'kind', path);
  IF jsonb_typeof(k) <> 'string' OR k #>> '{}' <> kind THEN
    PERFORM resonate._fail(path || '.kind', 'must be "' || kind || '"');
  END IF;
  head := resonate._head(resonate._req(r, 'head', path), path || '.head');
  RETURN jsonb_build_object('head', head,
    'data', resonate._obj(resonate._req(r, 'data', path), path || '.data'));
END $$;

-- A promise.create request -> {head, id, timeoutAt, param, tags}.
CREATE OR REPLACE FUNCTION resonate._parse_create(r jsonb, path text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  e jsonb := resonate._embedded(r, 'promise.create', path);
  d jsonb := e -> 'data';
  dp text := path || '.data';
  id text;
  timeout_at bigint;
  param jsonb;
BEGIN
  id := resonate._str(resonate._req(d, 'id', dp), dp || '.id');
  timeout_at := resonate._int(resonate._req(d, 'timeoutAt', dp), dp || '.timeoutAt');
  param := resonate._value(resonate._req(d, 'param', dp), dp || '.param');
  RETURN jsonb_build_object('head', e -> 'head', 'id', id, 'timeoutAt', timeout_at,
    'param', param, 'tags', resonate._string_map(resonate._req(d, 'tags', dp), dp || '.tags'));
END $$;

-- A promise.settle request -> {head, id, state, value}; only the three client states.
CREATE OR REPLACE FUNCTION resonate._parse_settle(r jsonb, path text) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  e jsonb := resonate._embedded(r, 'promise.settle', path);
  d jsonb := e -> 'data';
  dp text := path || '.data';
  id text;
  state text;
BEGIN
  id := resonate._str(resonate._req(d, 'id', dp), dp || '.id');
  state := resonate._str(resonate._req(d, 'state', dp), dp || '.state');
  IF state NOT IN ('resolved', 'rejected', 'rejected_canceled') THEN
    PERFORM resonate._fail(dp || '.state', 'must be resolved, rejected or rejected_canceled');
  END IF;
  RETURN jsonb_build_object('head', e -> 'head', 'id', id, 'state', state,
    'value', resonate._value(resonate._req(d, 'value', dp), dp || '.value'));
END $$;

CREATE OR REPLACE FUNCTION resonate._sfield(o jsonb, name text, path text) RETURNS jsonb
LANGUAGE sql AS $$
  SELECT to_jsonb(resonate._str(resonate._req(o, name, path), path || '.' || name)) $$;

CREATE OR REPLACE FUNCTION resonate._ifield(o jsonb, name text, path text) RETURNS jsonb
LANGUAGE sql AS $$
  SELECT to_jsonb(resonate._int(resonate._req(o, name, path), path || '.' || name)) $$;

-- Optional search filters: absent is fine, present must have the right type.
CREATE OR REPLACE FUNCTION resonate._search_filters(d jsonb, states text[], tags boolean)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  IF states IS NOT NULL AND d ? 'state' THEN
    IF jsonb_typeof(d -> 'state') <> 'string' OR NOT (d ->> 'state') = ANY (states) THEN
      PERFORM resonate._fail('data.state', 'is not an allowed state');
    END IF;
  END IF;
  IF tags AND d ? 'tags' THEN PERFORM resonate._string_map(d -> 'tags', 'data.tags'); END IF;
  IF d ? 'limit' THEN PERFORM resonate._int(d -> 'limit', 'data.limit'); END IF;
  IF d ? 'cursor' THEN PERFORM resonate._str(d -> 'cursor', 'data.cursor'); END IF;
END $$;

-- `data` of a request of `kind` (spec §5 shapes), normalised: integers as integers, Values
-- stripped, embedded requests as {head, ...fields}.
CREATE OR REPLACE FUNCTION resonate._parse_data(kind text, r jsonb, d jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  dp constant text := 'data';
  out jsonb;
  items jsonb;
  a jsonb;
  i integer;
  ap text;
  action jsonb;
BEGIN
  CASE kind
    WHEN 'promise.get', 'task.get', 'task.halt', 'task.continue', 'schedule.get',
         'schedule.delete' THEN
      RETURN jsonb_build_object('id', resonate._sfield(d, 'id', dp));
    WHEN 'promise.create' THEN
      RETURN resonate._parse_create(r, 'request');
    WHEN 'promise.settle' THEN
      RETURN resonate._parse_settle(r, 'request');
    WHEN 'promise.register_callback' THEN
      out := jsonb_build_object('awaited', resonate._sfield(d, 'awaited', dp));
      RETURN out || jsonb_build_object('awaiter', resonate._sfield(d, 'awaiter', dp));
    WHEN 'promise.register_listener' THEN
      out := jsonb_build_object('awaited', resonate._sfield(d, 'awaited', dp));
      RETURN out || jsonb_build_object('address', resonate._sfield(d, 'address', dp));
    WHEN 'promise.search' THEN
      PERFORM resonate._search_filters(d,
        ARRAY['pending', 'resolved', 'rejected', 'rejected_canceled', 'rejected_timedout'], true);
      RETURN '{}';
    WHEN 'task.create' THEN
      out := jsonb_build_object('pid', resonate._sfield(d, 'pid', dp));
      out := out || jsonb_build_object('ttl', resonate._ifield(d, 'ttl', dp));
      RETURN out || jsonb_build_object('action',
        resonate._parse_create(resonate._req(d, 'action', dp), dp || '.action'));
    WHEN 'task.acquire' THEN
      out := jsonb_build_object('id', resonate._sfield(d, 'id', dp));
      out := out || jsonb_build_object('version', resonate._ifield(d, 'version', dp));
      out := out || jsonb_build_object('pid', resonate._sfield(d, 'pid', dp));
      RETURN out || jsonb_build_object('ttl', resonate._ifield(d, 'ttl', dp));
    WHEN 'task.release' THEN
      out := jsonb_build_object('id', resonate._sfield(d, 'id', dp));
      RETURN out || jsonb_build_object('version', resonate._ifield(d, 'version', dp));
    WHEN 'task.suspend' THEN
      out := jsonb_build_object('id', resonate._sfield(d, 'id', dp));
      out := out || jsonb_build_object('version', resonate._ifield(d, 'version', dp));
      items := resonate._req(d, 'actions', dp);
      IF jsonb_typeof(items) <> 'array' THEN
        PERFORM resonate._fail(dp || '.actions', 'must be an array');
      END IF;
      action := '[]';
      FOR i IN 0 .. jsonb_array_length(items) - 1 LOOP
        ap := dp || '.actions[' || i || ']';
        a := resonate._embedded(items -> i, 'promise.register_callback', ap) -> 'data';
        action := action || jsonb_build_array(
          jsonb_build_object('awaited', resonate._sfield(a, 'awaited', ap || '.data'))
          || jsonb_build_object('awaiter', resonate._sfield(a, 'awaiter', ap || '.data')));
      END LOOP;
      RETURN out || jsonb_build_object('actions', action);
    WHEN 'task.fulfill' THEN
      out := jsonb_build_object('id', resonate._sfield(d, 'id', dp));
      out := out || jsonb_build_object('version', resonate._ifield(d, 'version', dp));
      RETURN out || jsonb_build_object('action',
        resonate._parse_settle(resonate._req(d, 'action', dp), dp || '.action'));
    WHEN 'task.fence' THEN
      out := jsonb_build_object('id', resonate._sfield(d, 'id', dp));
      out := out || jsonb_build_object('version', resonate._ifield(d, 'version', dp));
      action := resonate._obj(resonate._req(d, 'action', dp), dp || '.action');
      IF jsonb_typeof(action -> 'kind') = 'string' AND action ->> 'kind' = 'promise.create' THEN
        RETURN out || jsonb_build_object('kind', 'promise.create',
          'action', resonate._parse_create(action, dp || '.action'));
      END IF;
      RETURN out || jsonb_build_object('kind', 'promise.settle',
        'action', resonate._parse_settle(action, dp || '.action'));
    WHEN 'task.heartbeat' THEN
      out := jsonb_build_object('pid', resonate._sfield(d, 'pid', dp));
      items := resonate._req(d, 'tasks', dp);
      IF jsonb_typeof(items) <> 'array' THEN
        PERFORM resonate._fail(dp || '.tasks', 'must be an array');
      END IF;
      action := '[]';
      FOR i IN 0 .. jsonb_array_length(items) - 1 LOOP
        ap := dp || '.tasks[' || i || ']';
        a := resonate._obj(items -> i, ap);
        action := action || jsonb_build_array(
          jsonb_build_object('id', resonate._sfield(a, 'id', ap))
          || jsonb_build_object('version', resonate._ifield(a, 'version', ap)));
      END LOOP;
      RETURN out || jsonb_build_object('tasks', action);
    WHEN 'task.search' THEN
      PERFORM resonate._search_filters(d,
        ARRAY['pending', 'acquired', 'suspended', 'halted', 'fulfilled'], false);
      RETURN '{}';
    WHEN 'schedule.create' THEN
      PERFORM resonate._sfield(d, 'id', dp);
      PERFORM resonate._sfield(d, 'cron', dp);
      PERFORM resonate._sfield(d, 'promiseId', dp);
      PERFORM resonate._ifield(d, 'promiseTimeout', dp);
      PERFORM resonate._value(resonate._req(d, 'promiseParam', dp), dp || '.promiseParam');
      PERFORM resonate._string_map(resonate._req(d, 'promiseTags', dp), dp || '.promiseTags');
      RETURN '{}';
    WHEN 'schedule.search' THEN
      PERFORM resonate._search_filters(d, NULL, true);
      RETURN '{}';
    WHEN 'debug.tick' THEN
      RETURN jsonb_build_object('time', resonate._ifield(d, 'time', dp));
    ELSE  -- debug.start, debug.reset, debug.snap, debug.stop
      RETURN '{}';
  END CASE;
END $$;

-- The request envelope -> {kind, head: {corrId, version}, data: normalised}, or RS400.
CREATE OR REPLACE FUNCTION resonate._parse(r jsonb) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
  kind text;
  head jsonb;
  data jsonb;
BEGIN
  PERFORM resonate._obj(r, 'request');
  kind := resonate._str(resonate._req(r, 'kind', 'request'), 'request.kind');
  IF kind NOT IN ('promise.get', 'promise.create', 'promise.settle',
      'promise.register_callback', 'promise.register_listener', 'promise.search', 'task.get',
      'task.create', 'task.acquire', 'task.release', 'task.suspend', 'task.fulfill',
      'task.fence', 'task.heartbeat', 'task.halt', 'task.continue', 'task.search',
      'schedule.get', 'schedule.create', 'schedule.delete', 'schedule.search', 'debug.start',
      'debug.reset', 'debug.tick', 'debug.snap', 'debug.stop') THEN
    PERFORM resonate._fail('request.kind', 'is not a known kind');
  END IF;
  head := resonate._head(resonate._req(r, 'head', 'request'), 'request.head');
  data := resonate._obj(resonate._req(r, 'data', 'request'), 'request.data');
  RETURN jsonb_build_object('kind', kind, 'head', head,
                            'data', resonate._parse_data(kind, r, data));
END $$;

-- What a 400 for a malformed request echoes (spec §6): kind, corrId, version when strings.
CREATE OR REPLACE FUNCTION resonate._echo_kind(r jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE WHEN jsonb_typeof(r) = 'object' AND jsonb_typeof(r -> 'kind') = 'string'
              THEN r ->> 'kind' ELSE '' END $$;

CREATE OR REPLACE FUNCTION resonate._echo_head(r jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
  SELECT jsonb_build_object(
    'corrId', CASE WHEN jsonb_typeof(h -> 'corrId') = 'string' THEN h -> 'corrId' ELSE '""' END,
    'version', CASE WHEN jsonb_typeof(h -> 'version') = 'string' THEN h -> 'version' ELSE '""' END)
  FROM (SELECT CASE WHEN jsonb_typeof(r) = 'object' AND jsonb_typeof(r -> 'head') = 'object'
                    THEN r -> 'head' ELSE '{}'::jsonb END AS h) x $$;

-- spec §5 validation (step 3): the 400 texts, or NULL.
CREATE OR REPLACE FUNCTION resonate._validate(kind text, d jsonb) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE kind
    WHEN 'promise.register_callback' THEN
      CASE WHEN d ->> 'awaited' = d ->> 'awaiter' THEN 'Awaited and awaiter must be different' END
    WHEN 'task.suspend' THEN CASE
      WHEN jsonb_array_length(d -> 'actions') = 0 THEN 'Actions list must not be empty'
      WHEN EXISTS (SELECT 1 FROM jsonb_array_elements(d -> 'actions') a
                   WHERE a ->> 'awaiter' <> d ->> 'id') THEN 'Awaiter must be the suspending task'
      WHEN EXISTS (SELECT 1 FROM jsonb_array_elements(d -> 'actions') a
                   WHERE a ->> 'awaited' = d ->> 'id') THEN 'Task cannot await its own promise'
    END
    WHEN 'task.create' THEN
      CASE WHEN NOT resonate._has_target(d -> 'action' -> 'tags')
           THEN 'Action must have a resonate:target tag' END
    WHEN 'task.fulfill' THEN
      CASE WHEN d -> 'action' ->> 'id' <> d ->> 'id' THEN 'Promise ID must match task ID' END
  END $$;

-- Every id the request names (spec §3.2's converge list, then a heartbeat's task ids), in order.
CREATE OR REPLACE FUNCTION resonate._named_ids(kind text, d jsonb) RETURNS text[]
LANGUAGE sql IMMUTABLE AS $$
  SELECT CASE kind
    WHEN 'promise.get' THEN ARRAY[d ->> 'id']
    WHEN 'task.get' THEN ARRAY[d ->> 'id']
    WHEN 'task.halt' THEN ARRAY[d ->> 'id']
    WHEN 'task.continue' THEN ARRAY[d ->> 'id']
    WHEN 'promise.create' THEN ARRAY[d ->> 'id']
    WHEN 'promise.settle' THEN ARRAY[d ->> 'id']
    WHEN 'promise.register_callback' THEN ARRAY[d ->> 'awaited', d ->> 'awaiter']
    WHEN 'promise.register_listener' THEN ARRAY[d ->> 'awaited']
    WHEN 'task.create' THEN ARRAY[d -> 'action' ->> 'id']
    WHEN 'task.acquire' THEN ARRAY[d ->> 'id']
    WHEN 'task.release' THEN ARRAY[d ->> 'id']
    WHEN 'task.fulfill' THEN ARRAY[d ->> 'id']
    WHEN 'task.suspend' THEN ARRAY[d ->> 'id'] || ARRAY(
      SELECT a ->> 'awaited' FROM jsonb_array_elements(d -> 'actions') WITH ORDINALITY x(a, n)
      ORDER BY n)
    WHEN 'task.fence' THEN ARRAY[d ->> 'id', d -> 'action' ->> 'id']
    WHEN 'task.heartbeat' THEN ARRAY(
      SELECT a ->> 'id' FROM jsonb_array_elements(d -> 'tasks') WITH ORDINALITY x(a, n)
      ORDER BY n)
    ELSE ARRAY[]::text[]
  END $$;

-- ---- the outbox ---------------------------------------------------------------------------------

-- The NOTIFY channel of an address: addresses hold ':', '/', '@' and may exceed the 63 bytes of
-- an identifier, so the channel is a fixed-length digest ('resonate_' and 32 hex digits).
CREATE OR REPLACE FUNCTION resonate.outbox_channel(address text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$ SELECT 'resonate_' || md5(address) $$;

-- emit (target(P[id]), execute{id, version}) (spec §7): replaces the task's previous execute row.
CREATE OR REPLACE FUNCTION resonate._emit_execute(o text, task_id text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  v bigint;
  address text;
BEGIN
  SELECT t.version, p.tags ->> 'resonate:target' INTO v, address
    FROM resonate.tasks t JOIN resonate.promises p ON p.id = t.id WHERE t.id = task_id;
  DELETE FROM resonate.outbox WHERE kind = 'execute' AND outbox.task_id = _emit_execute.task_id;
  INSERT INTO resonate.outbox (origin, address, kind, task_id, version)
    VALUES (o, address, 'execute', task_id, v);
  PERFORM pg_notify(resonate.outbox_channel(address), '');
END $$;

CREATE OR REPLACE FUNCTION resonate._emit_unblock(o text, address text, promise jsonb)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO resonate.outbox (origin, address, kind, promise)
    VALUES (o, address, 'unblock', promise);
  PERFORM pg_notify(resonate.outbox_channel(address), '');
END $$;

-- The rows addressed to `address`, oldest first, deleted as they are returned (at-least-once: a
-- consumer that dies after this commits loses them; execute rows come back with the task's retry).
-- Rows another consumer has locked are skipped. version is an integer: node-postgres returns a
-- bigint as a string, and the SDK passes it back as a task.acquire version, which must be a number.
CREATE OR REPLACE FUNCTION resonate.dequeue_execute(address text, batch integer)
RETURNS TABLE (task_id text, version integer) LANGUAGE sql AS $$
  WITH taken AS (
    DELETE FROM resonate.outbox o
     WHERE o.id IN (SELECT x.id FROM resonate.outbox x
                     WHERE x.address = $1 AND x.kind = 'execute'
                     ORDER BY x.id LIMIT $2 FOR UPDATE SKIP LOCKED)
    RETURNING o.id, o.task_id, o.version)
  SELECT t.task_id, t.version::integer FROM taken t ORDER BY t.id $$;

CREATE OR REPLACE FUNCTION resonate.dequeue_unblock(address text, batch integer)
RETURNS TABLE (promise jsonb) LANGUAGE sql AS $$
  WITH taken AS (
    DELETE FROM resonate.outbox o
     WHERE o.id IN (SELECT x.id FROM resonate.outbox x
                     WHERE x.address = $1 AND x.kind = 'unblock'
                     ORDER BY x.id LIMIT $2 FOR UPDATE SKIP LOCKED)
    RETURNING o.id, o.promise)
  SELECT t.promise FROM taken t ORDER BY t.id $$;

-- ---- spec §4 shared procedures (the model's procedures.cpp), on the tables ----------------------
-- Every one runs with the origin's row locked by the caller; `now` is the step's time.

-- σ.TT upsert: in place if present, else appended (the next position).
CREATE OR REPLACE FUNCTION resonate._tt_upsert(o text, id text, kind smallint, at bigint)
RETURNS void LANGUAGE sql AS $$
  INSERT INTO resonate.task_timeouts (id, origin, kind, at, position)
    VALUES (id, o, kind, at, nextval('resonate.positions'))
  ON CONFLICT ON CONSTRAINT task_timeouts_pkey
    DO UPDATE SET kind = excluded.kind, at = excluded.at $$;

-- FULFIL: the task of a settled promise is done and stops awaiting anything (version unchanged).
CREATE OR REPLACE FUNCTION resonate._fulfil(id text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE resonate.tasks t SET state = 'fulfilled', pid = NULL, ttl = NULL, resumes = '[]'
   WHERE t.id = _fulfil.id AND t.state <> 'fulfilled';
  IF FOUND THEN
    DELETE FROM resonate.task_timeouts tt WHERE tt.id = _fulfil.id;
    DELETE FROM resonate.callbacks c WHERE c.awaiter = _fulfil.id;
  END IF;
END $$;

-- RESUME: wake suspended awaiters (same version, fresh retry), buffer the id for the others.
CREATE OR REPLACE FUNCTION resonate._resume(o text, id text, now bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  c record;
BEGIN
  FOR c IN SELECT cb.awaiter, t.state FROM resonate.callbacks cb
             JOIN resonate.tasks t ON t.id = cb.awaiter
            WHERE cb.awaited = _resume.id ORDER BY cb.position LOOP
    IF c.state = 'suspended' THEN
      UPDATE resonate.tasks t SET state = 'pending', resumes = jsonb_build_array(_resume.id)
       WHERE t.id = c.awaiter;
      PERFORM resonate._tt_upsert(o, c.awaiter, 0::smallint, now + 30000);
      PERFORM resonate._emit_execute(o, c.awaiter);
    ELSIF c.state <> 'fulfilled' THEN
      UPDATE resonate.tasks t SET resumes = t.resumes || to_jsonb(_resume.id)
       WHERE t.id = c.awaiter AND NOT t.resumes ? _resume.id;
    END IF;
  END LOOP;
  DELETE FROM resonate.callbacks cb WHERE cb.awaited = _resume.id;
END $$;

-- NOTIFY: one unblock per listener address, then forget them.
CREATE OR REPLACE FUNCTION resonate._notify(o text, id text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  rec jsonb;
  l record;
BEGIN
  FOR l IN SELECT address FROM resonate.listeners WHERE awaited = id ORDER BY position LOOP
    IF rec IS NULL THEN
      SELECT resonate._record(p) INTO rec FROM resonate.promises p WHERE p.id = _notify.id;
    END IF;
    PERFORM resonate._emit_unblock(o, l.address, rec);
  END LOOP;
  DELETE FROM resonate.listeners WHERE awaited = id;
END $$;

-- SETTLE then ON_SETTLED = FULFIL; RESUME; NOTIFY.
CREATE OR REPLACE FUNCTION resonate._settle(o text, id text, state text, value jsonb, at bigint,
                                            now bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  UPDATE resonate.promises p SET state = _settle.state, value = _settle.value, settled_at = at
   WHERE p.id = _settle.id;
  PERFORM resonate._fulfil(id);
  PERFORM resonate._resume(o, id, now);
  PERFORM resonate._notify(o, id);
END $$;

-- spec §3.2 CONVERGE: make the stored promise agree with its view (eager timeout).
CREATE OR REPLACE FUNCTION resonate._converge(o text, id text, now bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  p resonate.promises;
BEGIN
  SELECT * INTO p FROM resonate.promises q WHERE q.id = _converge.id;
  IF FOUND AND p.state = 'pending' AND now >= p.timeout_at THEN
    PERFORM resonate._settle(o, id, resonate._timeout_state(p.tags), '{}', p.timeout_at, now);
  END IF;
END $$;

-- PRELOAD: the origin's other promises of the same branch, viewed at now (A2), by creation order.
CREATE OR REPLACE FUNCTION resonate._preload(o text, id text, now bigint) RETURNS jsonb
LANGUAGE sql AS $$
  SELECT coalesce(jsonb_agg(resonate._record(q, now) ORDER BY q.seq), '[]')
    FROM resonate.promises p JOIN resonate.promises q
      ON q.origin = o AND q.branch = p.branch AND q.id <> p.id
   WHERE p.id = _preload.id AND p.branch <> '' $$;

-- Inserts a new promise (pending, or born expired: PC2/TC6) with the origin's next seq.
CREATE OR REPLACE FUNCTION resonate._insert_promise(o text, c jsonb, expired boolean, now bigint)
RETURNS resonate.promises LANGUAGE plpgsql AS $$
DECLARE
  s bigint;
  t bigint := (c ->> 'timeoutAt')::bigint;
  p resonate.promises;
BEGIN
  UPDATE resonate.origins SET seq = seq + 1 WHERE origin = o RETURNING seq INTO s;
  INSERT INTO resonate.promises (id, origin, seq, state, param, value, tags, timeout_at,
                                 created_at, settled_at, has_target)
  VALUES (c ->> 'id', o, s,
          CASE WHEN expired THEN resonate._timeout_state(c -> 'tags') ELSE 'pending' END,
          c -> 'param', '{}', c -> 'tags', t, CASE WHEN expired THEN t ELSE now END,
          CASE WHEN expired THEN t END, resonate._has_target(c -> 'tags'))
  RETURNING * INTO p;
  RETURN p;
END $$;

-- CREATE (PC1–PC5): idempotent by id, the request ignored if the id exists.
CREATE OR REPLACE FUNCTION resonate._create(o text, c jsonb, now bigint,
                                            OUT status integer, OUT data jsonb)
LANGUAGE plpgsql AS $$
DECLARE
  p resonate.promises;
  expired boolean;
  dl bigint;
  deferred boolean;
BEGIN
  status := 200;
  SELECT * INTO p FROM resonate.promises q WHERE q.id = c ->> 'id';
  IF FOUND THEN
    data := jsonb_build_object('promise', resonate._record(p, now));
    RETURN;
  END IF;
  expired := now >= (c ->> 'timeoutAt')::bigint;
  p := resonate._insert_promise(o, c, expired, now);
  IF p.has_target THEN
    INSERT INTO resonate.tasks (id, origin, state, version, resumes)
      VALUES (p.id, o, CASE WHEN expired THEN 'fulfilled' ELSE 'pending' END, 0, '[]');
    IF NOT expired THEN
      dl := resonate._delay(p.tags);
      deferred := dl IS NOT NULL AND now < dl;
      PERFORM resonate._tt_upsert(o, p.id, 0::smallint,
                                  CASE WHEN deferred THEN dl ELSE now + 30000 END);
      IF NOT deferred THEN PERFORM resonate._emit_execute(o, p.id); END IF;
    END IF;
  END IF;
  data := jsonb_build_object('promise', resonate._record(p));
END $$;

-- SETTLE_REQ (PS1–PS3): the first settle wins, later ones see the existing state.
CREATE OR REPLACE FUNCTION resonate._settle_request(o text, s jsonb, now bigint,
                                                    OUT status integer, OUT data jsonb)
LANGUAGE plpgsql AS $$
DECLARE
  p resonate.promises;
BEGIN
  SELECT * INTO p FROM resonate.promises q WHERE q.id = s ->> 'id';
  IF NOT FOUND THEN
    status := 404; data := to_jsonb('Promise not found'::text);
    RETURN;
  END IF;
  status := 200;
  IF p.state <> 'pending' OR now >= p.timeout_at THEN
    data := jsonb_build_object('promise', resonate._record(p, now));
    RETURN;
  END IF;
  PERFORM resonate._settle(o, p.id, s ->> 'state', s -> 'value', now, now);
  SELECT jsonb_build_object('promise', resonate._record(q)) INTO data
    FROM resonate.promises q WHERE q.id = p.id;
END $$;

-- ---- spec §5 handlers (the model's promises_ops.cpp and tasks_ops.cpp) --------------------------
-- Every id in spec §3.2's converge list has been converged before a handler runs.

CREATE OR REPLACE FUNCTION resonate._err(code integer, message text,
                                         OUT status integer, OUT data jsonb)
LANGUAGE sql IMMUTABLE AS $$ SELECT $1, to_jsonb($2) $$;

-- Common checks F1–F4 of the fenced operations: NULL status when the fence holds.
CREATE OR REPLACE FUNCTION resonate._fence_check(id text, version bigint, not_acquired text,
                                                 mismatch text, now bigint,
                                                 OUT status integer, OUT data jsonb)
LANGUAGE plpgsql AS $$
DECLARE
  t resonate.tasks;
  p resonate.promises;
BEGIN
  SELECT * INTO t FROM resonate.tasks x WHERE x.id = _fence_check.id;
  IF NOT FOUND THEN
    SELECT * INTO status, data FROM resonate._err(404, 'Task not found');
    RETURN;
  END IF;
  SELECT * INTO p FROM resonate.promises x WHERE x.id = _fence_check.id;
  IF t.state <> 'acquired' OR resonate._record(p, now) ->> 'state' <> 'pending' THEN
    SELECT * INTO status, data FROM resonate._err(409, not_acquired);
  ELSIF t.version <> _fence_check.version THEN
    SELECT * INTO status, data FROM resonate._err(409, mismatch);
  END IF;
END $$;

-- {task, promise, preload} of task.create and task.acquire.
CREATE OR REPLACE FUNCTION resonate._task_ok(id text, preload jsonb) RETURNS jsonb
LANGUAGE sql AS $$
  SELECT jsonb_build_object('task', resonate._task_record(t), 'promise', resonate._record(p),
                            'preload', preload)
    FROM resonate.tasks t JOIN resonate.promises p ON p.id = t.id WHERE t.id = _task_ok.id $$;

-- Entering `acquired` (T7): version+1, lease from the request, resumes cleared.
CREATE OR REPLACE FUNCTION resonate._acquire(o text, id text, pid text, ttl bigint, now bigint)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  UPDATE resonate.tasks t SET state = 'acquired', version = t.version + 1, pid = _acquire.pid,
         ttl = _acquire.ttl, resumes = '[]'
   WHERE t.id = _acquire.id;
  PERFORM resonate._tt_upsert(o, id, 1::smallint, now + ttl);
END $$;

-- Task back to `pending` with a fresh retry and an execute message (TR1, TK3, sweep release).
CREATE OR REPLACE FUNCTION resonate._release_to_pending(o text, id text, now bigint)
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  UPDATE resonate.tasks t SET state = 'pending', pid = NULL, ttl = NULL
   WHERE t.id = _release_to_pending.id;
  PERFORM resonate._tt_upsert(o, id, 0::smallint, now + 30000);
  PERFORM resonate._emit_execute(o, id);
END $$;

-- One request of a parsed, valid, single-origin kind, at `now`, the origin locked.
CREATE OR REPLACE FUNCTION resonate._handle(o text, kind text, d jsonb, now bigint,
                                            OUT status integer, OUT data jsonb)
LANGUAGE plpgsql AS $$
DECLARE
  p resonate.promises;
  q resonate.promises;
  t resonate.tasks;
  a jsonb;
  some_settled boolean := false;
  inner_status integer;
  inner_data jsonb;
BEGIN
  status := 200;
  data := '{}';
  CASE kind
    WHEN 'promise.get' THEN  -- PG1–PG2
      SELECT * INTO p FROM resonate.promises x WHERE x.id = d ->> 'id';
      IF NOT FOUND THEN
        SELECT * INTO status, data FROM resonate._err(404, 'Promise not found');
      ELSE
        data := jsonb_build_object('promise', resonate._record(p));
      END IF;

    WHEN 'promise.create' THEN  -- PC1–PC5
      SELECT * INTO status, data FROM resonate._create(o, d, now);

    WHEN 'promise.settle' THEN  -- PS1–PS3
      SELECT * INTO status, data FROM resonate._settle_request(o, d, now);

    WHEN 'promise.register_callback' THEN  -- RC1–RC5
      SELECT * INTO p FROM resonate.promises x WHERE x.id = d ->> 'awaited';
      IF NOT FOUND THEN
        SELECT * INTO status, data FROM resonate._err(404, 'Awaited promise not found');
        RETURN;
      END IF;
      SELECT * INTO q FROM resonate.promises x WHERE x.id = d ->> 'awaiter';
      IF NOT FOUND THEN
        SELECT * INTO status, data FROM resonate._err(422, 'Awaiter promise not found');
      ELSIF NOT q.has_target THEN
        SELECT * INTO status, data FROM resonate._err(422, 'Awaiter has no address');
      ELSE
        IF p.state = 'pending' AND q.state = 'pending' THEN
          INSERT INTO resonate.callbacks (awaited, awaiter, position)
            VALUES (p.id, q.id, nextval('resonate.positions')) ON CONFLICT DO NOTHING;
        END IF;
        data := jsonb_build_object('promise', resonate._record(p));
      END IF;

    WHEN 'promise.register_listener' THEN  -- RL1–RL4
      SELECT * INTO p FROM resonate.promises x WHERE x.id = d ->> 'awaited';
      IF NOT FOUND THEN
        SELECT * INTO status, data FROM resonate._err(404, 'Promise not found');
      ELSIF NOT resonate._is_external(p.tags) THEN
        SELECT * INTO status, data FROM resonate._err(422, 'Awaited promise is not awaitable');
      ELSE
        IF p.state = 'pending' THEN
          INSERT INTO resonate.listeners (awaited, address, position)
            VALUES (p.id, d ->> 'address', nextval('resonate.positions')) ON CONFLICT DO NOTHING;
        END IF;
        data := jsonb_build_object('promise', resonate._record(p));
      END IF;

    WHEN 'task.get' THEN  -- TG1–TG2
      SELECT * INTO t FROM resonate.tasks x WHERE x.id = d ->> 'id';
      IF NOT FOUND THEN
        SELECT * INTO status, data FROM resonate._err(404, 'Task not found');
      ELSE
        data := jsonb_build_object('task', resonate._task_record(t));
      END IF;

    WHEN 'task.create' THEN  -- TC1–TC7
      a := d -> 'action';
      SELECT * INTO t FROM resonate.tasks x WHERE x.id = a ->> 'id';
      IF FOUND THEN
        IF t.state = 'pending' THEN
          PERFORM resonate._acquire(o, t.id, d ->> 'pid', (d ->> 'ttl')::bigint, now);
          data := resonate._task_ok(t.id, resonate._preload(o, t.id, now));
        ELSIF t.state = 'fulfilled' THEN
          data := resonate._task_ok(t.id, resonate._preload(o, t.id, now));
        ELSE
          SELECT * INTO status, data FROM resonate._err(409, 'Task already exists');
        END IF;
        RETURN;
      END IF;
      SELECT * INTO p FROM resonate.promises x WHERE x.id = a ->> 'id';
      IF FOUND THEN
        IF NOT p.has_target THEN
          SELECT * INTO status, data FROM resonate._err(422, 'Promise has no address');
        ELSE  -- TC5, unreachable by I5
          SELECT * INTO status, data FROM resonate._err(409, 'Promise already exists');
        END IF;
        RETURN;
      END IF;
      IF now >= (a ->> 'timeoutAt')::bigint THEN  -- TC6: born expired, no preload
        p := resonate._insert_promise(o, a, true, now);
        INSERT INTO resonate.tasks (id, origin, state, version, resumes)
          VALUES (p.id, o, 'fulfilled', 0, '[]');
        data := resonate._task_ok(p.id, '[]');
        RETURN;
      END IF;
      p := resonate._insert_promise(o, a, false, now);  -- TC7: resonate:delay is ignored here
      INSERT INTO resonate.tasks (id, origin, state, version, resumes)
        VALUES (p.id, o, 'pending', 0, '[]');
      PERFORM resonate._acquire(o, p.id, d ->> 'pid', (d ->> 'ttl')::bigint, now);
      data := resonate._task_ok(p.id, resonate._preload(o, p.id, now));

    WHEN 'task.acquire' THEN  -- TA1–TA5
      SELECT * INTO t FROM resonate.tasks x WHERE x.id = d ->> 'id';
      IF NOT FOUND THEN
        SELECT * INTO status, data FROM resonate._err(404, 'Task not found');
        RETURN;
      END IF;
      SELECT * INTO p FROM resonate.promises x WHERE x.id = t.id;
      IF t.state <> 'pending' THEN
        SELECT * INTO status, data FROM resonate._err(409, 'Task not in pending state');
      ELSIF resonate._record(p, now) ->> 'state' <> 'pending' THEN
        SELECT * INTO status, data FROM resonate._err(409, 'Task logically fulfilled');
      ELSIF t.version <> (d ->> 'version')::bigint THEN
        SELECT * INTO status, data FROM resonate._err(409, 'Version mismatch');
      ELSE
        PERFORM resonate._acquire(o, t.id, d ->> 'pid', (d ->> 'ttl')::bigint, now);
        data := resonate._task_ok(t.id, resonate._preload(o, t.id, now));
      END IF;

    WHEN 'task.release' THEN  -- TR1
      SELECT * INTO status, data FROM resonate._fence_check(d ->> 'id',
        (d ->> 'version')::bigint, 'Task not acquired', 'Version mismatch', now);
      IF status IS NOT NULL THEN RETURN; END IF;
      PERFORM resonate._release_to_pending(o, d ->> 'id', now);
      status := 200; data := '{}';

    WHEN 'task.fulfill' THEN  -- TF1–TF2
      SELECT * INTO status, data FROM resonate._fence_check(d ->> 'id',
        (d ->> 'version')::bigint, 'Task not acquired', 'Version mismatch', now);
      IF status IS NOT NULL THEN RETURN; END IF;
      status := 200;
      SELECT * INTO p FROM resonate.promises x WHERE x.id = d ->> 'id';
      IF p.state <> 'pending' THEN  -- TF1, unreachable after converge + F3
        PERFORM resonate._fulfil(p.id);
      ELSE
        PERFORM resonate._settle(o, p.id, d -> 'action' ->> 'state', d -> 'action' -> 'value',
                                 now, now);
      END IF;
      SELECT jsonb_build_object('promise', resonate._record(x)) INTO data
        FROM resonate.promises x WHERE x.id = p.id;

    WHEN 'task.suspend' THEN  -- TS1–TS3
      SELECT * INTO status, data FROM resonate._fence_check(d ->> 'id',
        (d ->> 'version')::bigint, 'Task not acquired', 'Version mismatch', now);
      IF status IS NOT NULL THEN RETURN; END IF;
      FOR a IN SELECT x FROM jsonb_array_elements(d -> 'actions') WITH ORDINALITY y(x, n)
               ORDER BY n LOOP
        SELECT * INTO p FROM resonate.promises x WHERE x.id = a ->> 'awaited';
        IF NOT FOUND THEN  -- A10
          SELECT * INTO status, data FROM resonate._err(422, 'Awaited promise not found');
          RETURN;
        END IF;
        some_settled := some_settled OR p.state <> 'pending';
      END LOOP;
      IF some_settled THEN
        UPDATE resonate.tasks x SET resumes = '[]' WHERE x.id = d ->> 'id';
        status := 300;
        data := jsonb_build_object('preload', resonate._preload(o, d ->> 'id', now));
        RETURN;
      END IF;
      FOR a IN SELECT x FROM jsonb_array_elements(d -> 'actions') WITH ORDINALITY y(x, n)
               ORDER BY n LOOP
        INSERT INTO resonate.callbacks (awaited, awaiter, position)
          VALUES (a ->> 'awaited', d ->> 'id', nextval('resonate.positions'))
          ON CONFLICT DO NOTHING;
      END LOOP;
      UPDATE resonate.tasks x SET state = 'suspended', pid = NULL, ttl = NULL, resumes = '[]'
       WHERE x.id = d ->> 'id';
      DELETE FROM resonate.task_timeouts x WHERE x.id = d ->> 'id';
      status := 200; data := '{}';

    WHEN 'task.fence' THEN  -- TN1–TN2: 200 whenever the fence holds; the inner status is the action's
      SELECT * INTO status, data FROM resonate._fence_check(d ->> 'id',
        (d ->> 'version')::bigint, 'Fence check failed', 'Fence check failed', now);
      IF status IS NOT NULL THEN RETURN; END IF;
      IF d ->> 'kind' = 'promise.create' THEN
        SELECT * INTO inner_status, inner_data FROM resonate._create(o, d -> 'action', now);
      ELSE
        SELECT * INTO inner_status, inner_data FROM resonate._settle_request(o, d -> 'action', now);
      END IF;
      status := 200;
      data := jsonb_build_object('action',
        resonate._envelope(d ->> 'kind', d -> 'action' -> 'head', inner_status, inner_data),
        'preload', '[]'::jsonb);

    WHEN 'task.heartbeat' THEN  -- the entries of this origin; never refuses
      FOR a IN SELECT x FROM jsonb_array_elements(d -> 'tasks') WITH ORDINALITY y(x, n)
                WHERE resonate._origin(x ->> 'id') = o ORDER BY n LOOP
        SELECT * INTO t FROM resonate.tasks x WHERE x.id = a ->> 'id';
        CONTINUE WHEN NOT FOUND OR t.state <> 'acquired' OR t.version <> (a ->> 'version')::bigint
                      OR t.pid <> d ->> 'pid';
        SELECT * INTO p FROM resonate.promises x WHERE x.id = t.id;
        CONTINUE WHEN resonate._record(p, now) ->> 'state' <> 'pending';  -- the view: no converge
        PERFORM resonate._tt_upsert(o, t.id, 1::smallint, now + coalesce(t.ttl, 30000));
      END LOOP;

    WHEN 'task.halt' THEN  -- TH1–TH4
      SELECT * INTO t FROM resonate.tasks x WHERE x.id = d ->> 'id';
      IF NOT FOUND THEN
        SELECT * INTO status, data FROM resonate._err(404, 'Task not found');
      ELSIF t.state = 'fulfilled' THEN
        SELECT * INTO status, data FROM resonate._err(409, 'Task is fulfilled');
      ELSIF t.state <> 'halted' THEN
        UPDATE resonate.tasks x SET state = 'halted', pid = NULL, ttl = NULL WHERE x.id = t.id;
        DELETE FROM resonate.task_timeouts x WHERE x.id = t.id;
      END IF;

    WHEN 'task.continue' THEN  -- TK1–TK3
      SELECT * INTO t FROM resonate.tasks x WHERE x.id = d ->> 'id';
      IF NOT FOUND THEN
        SELECT * INTO status, data FROM resonate._err(404, 'Task not found');
      ELSIF t.state <> 'halted' THEN
        SELECT * INTO status, data FROM resonate._err(409, 'Task is not halted');
      ELSE
        PERFORM resonate._release_to_pending(o, t.id, now);
      END IF;
  END CASE;
END $$;

-- ---- the sweep (spec §5.5, per origin) ----------------------------------------------------------

-- debug.tick at `at` restricted to origin `o` (locked by the caller): its phases 1–6.
CREATE OR REPLACE FUNCTION resonate._sweep(o text, at bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  due_promises text[];
  due_ids text[];
  due_kinds smallint[];
  due_versions bigint[];
  id text;
  i integer;
  t resonate.tasks;
BEGIN
  -- Phase 1: pending targeted promises due, in creation order.
  SELECT coalesce(array_agg(p.id ORDER BY p.seq), '{}') INTO due_promises
    FROM resonate.promises p
   WHERE p.origin = o AND p.state = 'pending' AND p.has_target AND p.timeout_at <= at;
  -- Phase 2: expired leases of acquired tasks, due retries of pending ones, in σ.TT order.
  SELECT coalesce(array_agg(tt.id ORDER BY tt.position), '{}'),
         coalesce(array_agg(tt.kind ORDER BY tt.position), '{}'),
         coalesce(array_agg(x.version ORDER BY tt.position), '{}')
    INTO due_ids, due_kinds, due_versions
    FROM resonate.task_timeouts tt JOIN resonate.tasks x ON x.id = tt.id
   WHERE tt.origin = o AND tt.at <= _sweep.at
     AND ((tt.kind = 1 AND x.state = 'acquired') OR (tt.kind = 0 AND x.state = 'pending'));
  -- Phase 3: settle them all before any trigger, so the state does not depend on their order.
  UPDATE resonate.promises p SET state = resonate._timeout_state(p.tags), value = '{}',
         settled_at = p.timeout_at
   WHERE p.id = ANY (due_promises);
  FOREACH id IN ARRAY due_promises LOOP PERFORM resonate._fulfil(id); END LOOP;  -- phase 4
  FOREACH id IN ARRAY due_promises LOOP                                           -- phase 5
    PERFORM resonate._resume(o, id, at);
    PERFORM resonate._notify(o, id);
  END LOOP;
  -- Phase 6: releases and retries, re-checked since phases 3–5 may have changed the task.
  FOR i IN 1 .. coalesce(array_length(due_ids, 1), 0) LOOP
    SELECT * INTO t FROM resonate.tasks x WHERE x.id = due_ids[i];
    IF due_kinds[i] = 1 THEN
      IF t.state = 'acquired' AND t.version = due_versions[i] THEN
        PERFORM resonate._release_to_pending(o, t.id, at);
      END IF;
    ELSIF t.state = 'pending' THEN
      PERFORM resonate._tt_upsert(o, t.id, 0::smallint, at + 30000);
      PERFORM resonate._emit_execute(o, t.id);
    END IF;
  END LOOP;
END $$;

-- The isolation level every function here assumes: after a row lock waits, the next statement
-- must see what the lock's previous holder committed.
CREATE OR REPLACE FUNCTION resonate._require_read_committed() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  IF current_setting('transaction_isolation') <> 'read committed' THEN
    RAISE EXCEPTION 'resonate: run in READ COMMITTED, not %',
      current_setting('transaction_isolation');
  END IF;
END $$;

-- Locks the origin's row (creating it), and returns max(clock, at): the origin's next `now`.
CREATE OR REPLACE FUNCTION resonate._lock_origin(o text, at bigint) RETURNS bigint
LANGUAGE sql AS $$
  INSERT INTO resonate.origins AS x (origin, clock) VALUES (o, at)
  ON CONFLICT (origin) DO UPDATE SET clock = greatest(x.clock, excluded.clock)
  RETURNING clock $$;

-- Timeouts nobody asks about (spec §3.3), on the database's clock. Safe to call from several
-- nodes at once: a transaction-level advisory lock lets one caller sweep at a time (the others
-- return at once), and each origin is swept under its row lock at max(wall clock, its clock),
-- re-reading what is due, so a repeated or concurrent sweep finds nothing left to do. At most
-- `max_origins` origins per call (the rest at the next call). Returns each origin swept and the
-- time it was swept at (a history records them as debug.tick operations).
CREATE OR REPLACE FUNCTION resonate.process_timeouts_swept(max_origins integer DEFAULT 100)
RETURNS TABLE (swept_origin text, swept_at bigint) LANGUAGE plpgsql AS $$
DECLARE
  wall bigint := resonate._wall_ms();
  o text;
BEGIN
  PERFORM resonate._require_read_committed();
  PERFORM set_config('resonate.now', wall::text, false);
  IF NOT pg_try_advisory_xact_lock(hashtext('resonate.process_timeouts')) THEN
    RETURN;
  END IF;
  FOR o IN SELECT d.origin FROM (
             SELECT p.origin FROM resonate.promises p
              WHERE p.state = 'pending' AND p.has_target AND p.timeout_at <= wall
             UNION
             SELECT tt.origin FROM resonate.task_timeouts tt WHERE tt.at <= wall) d
           ORDER BY d.origin LIMIT max_origins LOOP
    -- Ordered by origin: a request holds one origin lock, a heartbeat several in this order.
    swept_origin := o;
    swept_at := resonate._lock_origin(o, wall);
    PERFORM resonate._sweep(o, swept_at);
    PERFORM set_config('resonate.now', swept_at::text, false);
    RETURN NEXT;
  END LOOP;
END $$;

-- What PostgresNetwork calls on every drain: the sweep above; returns the number of origins swept.
CREATE OR REPLACE FUNCTION resonate.process_timeouts(max_origins integer DEFAULT 100)
RETURNS integer LANGUAGE sql AS $$
  SELECT count(*)::integer FROM resonate.process_timeouts_swept(max_origins) $$;

-- ---- resonate_rpc: one request, one transaction -------------------------------------------------

-- The request envelope in, the response envelope out, exactly as the model (spec §6 order:
-- parse → well-formedness → validation → converge → handler). The request's origin row is locked
-- for the transaction, so requests of one origin apply one at a time, in lock order. A SQL NULL
-- request gives NULL (STRICT); a JSON null is malformed (400).
CREATE OR REPLACE FUNCTION resonate.resonate_rpc(request jsonb) RETURNS jsonb
LANGUAGE plpgsql STRICT AS $$
DECLARE
  wall bigint := resonate._wall_ms();
  now bigint;
  parsed jsonb;
  kind text;
  head jsonb;
  d jsonb;
  invalid text;
  ids text[];
  locked text[];  -- the origins this request locks, sorted
  o text;
  id text;
  status integer;
  data jsonb;
  part_status integer;
  part_data jsonb;
BEGIN
  PERFORM resonate._require_read_committed();
  PERFORM set_config('resonate.now', wall::text, false);
  BEGIN
    parsed := resonate._parse(request);
  EXCEPTION WHEN SQLSTATE 'RS400' THEN
    RETURN resonate._envelope(resonate._echo_kind(request), resonate._echo_head(request), 400,
                              to_jsonb(SQLERRM));
  END;
  kind := parsed ->> 'kind';
  head := parsed -> 'head';
  d := parsed -> 'data';
  invalid := resonate._validate(kind, d);
  IF invalid IS NOT NULL THEN
    RETURN resonate._envelope(kind, head, 400, to_jsonb(invalid));
  END IF;
  IF kind LIKE 'debug.%' THEN  -- as seer-resonate: debugging is not part of the service
    RETURN resonate._envelope(kind, head, 400,
                              to_jsonb('debug requests are not served over the network'::text));
  END IF;
  ids := resonate._named_ids(kind, d);
  IF cardinality(ids) = 0 THEN  -- search, schedules (501), an empty heartbeat: no state read
    IF kind = 'task.heartbeat' THEN
      RETURN resonate._envelope(kind, head, 200, '{}');
    END IF;
    RETURN resonate._envelope(kind, head, 501, to_jsonb('Not implemented'::text));
  END IF;
  SELECT array_agg(DISTINCT resonate._origin(x) ORDER BY resonate._origin(x)) INTO locked
    FROM unnest(ids) x;
  IF cardinality(locked) > 1 AND kind <> 'task.heartbeat' THEN
    -- σ is partitioned by origin (spec §10), as seer-resonate partitions it.
    RETURN resonate._envelope(kind, head, 400,
      to_jsonb('the request names promises of more than one origin'::text));
  END IF;
  -- Lock the origins in order (a heartbeat may name several); `now` is the latest of the wall
  -- clock and their clocks, and becomes their clock.
  now := wall;
  FOREACH o IN ARRAY locked LOOP
    now := greatest(now, resonate._lock_origin(o, wall));
  END LOOP;
  IF cardinality(locked) > 1 THEN
    UPDATE resonate.origins x SET clock = now WHERE x.origin = ANY (locked) AND x.clock < now;
  END IF;
  PERFORM set_config('resonate.now', now::text, false);
  FOREACH id IN ARRAY (CASE WHEN kind = 'task.heartbeat' THEN '{}'::text[] ELSE ids END) LOOP
    PERFORM resonate._converge(locked[1], id, now);
  END LOOP;
  FOREACH o IN ARRAY locked LOOP
    SELECT * INTO part_status, part_data FROM resonate._handle(o, kind, d, now);
    status := part_status;
    data := part_data;
  END LOOP;
  RETURN resonate._envelope(kind, head, status, data);
END $$;

-- ---- for tests and operators --------------------------------------------------------------------

-- Deletes every promise, task, origin and outbox row (the model's debug.reset; not reachable
-- through resonate_rpc).
CREATE OR REPLACE FUNCTION resonate.reset() RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
  TRUNCATE resonate.origins, resonate.promises, resonate.callbacks, resonate.listeners,
           resonate.tasks, resonate.task_timeouts, resonate.outbox;
END $$;

-- One origin's stored state in the shape of the model's debug.snap (spec §5.5; `messages` is
-- always empty there: the outbox is read on its own). For tests and operators.
CREATE OR REPLACE FUNCTION resonate.snapshot(o text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object(
    'promises', coalesce((SELECT jsonb_agg(resonate._record(p) ORDER BY p.seq)
                            FROM resonate.promises p WHERE p.origin = o), '[]'),
    'promiseTimeouts', coalesce((
      SELECT jsonb_agg(jsonb_build_object('id', p.id, 'timeout', p.timeout_at) ORDER BY p.seq)
        FROM resonate.promises p WHERE p.origin = o AND p.state = 'pending' AND p.has_target),
      '[]'),
    'callbacks', coalesce((
      SELECT jsonb_agg(jsonb_build_object('awaiter', c.awaiter, 'awaited', c.awaited)
                       ORDER BY p.seq, c.position)
        FROM resonate.callbacks c JOIN resonate.promises p ON p.id = c.awaited
       WHERE p.origin = o), '[]'),
    'listeners', coalesce((
      SELECT jsonb_agg(jsonb_build_object('id', l.awaited, 'address', l.address)
                       ORDER BY p.seq, l.position)
        FROM resonate.listeners l JOIN resonate.promises p ON p.id = l.awaited
       WHERE p.origin = o), '[]'),
    'tasks', coalesce((
      SELECT jsonb_agg(resonate._task_record(t) ORDER BY p.seq)
        FROM resonate.tasks t JOIN resonate.promises p ON p.id = t.id WHERE p.origin = o), '[]'),
    'taskTimeouts', coalesce((
      SELECT jsonb_agg(jsonb_build_object('id', tt.id, 'timeout', tt.at, 'type', tt.kind)
                       ORDER BY tt.position)
        FROM resonate.task_timeouts tt WHERE tt.origin = o), '[]'),
    'messages', '[]'::jsonb) $$;
