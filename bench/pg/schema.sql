-- The PostgreSQL baseline of the POST scenario (issue 8): an events table with the same unique
-- constraints tenantd's event store enforces on a create.
--   event_id unique                 -> the idempotency-by-event-id index
--   (stream_id, version) unique     -> optimistic concurrency per stream
--   data->>'domain' unique          -> the domain reservation (a partial expression index: a
--                                      create without a domain reserves nothing, as in tenantd)
-- position is the global position (a sequence: gaps on rollback, unlike tenantd's contiguous
-- positions, which only makes the baseline cheaper).
CREATE TABLE events (
  position    bigserial PRIMARY KEY,
  event_id    uuid        NOT NULL,
  stream_id   text        NOT NULL,
  version     integer     NOT NULL,
  type        text        NOT NULL,
  occurred_at timestamptz NOT NULL DEFAULT now(),
  data        jsonb       NOT NULL,
  metadata    jsonb       NOT NULL,
  CONSTRAINT events_event_id_key UNIQUE (event_id),
  CONSTRAINT events_stream_version_key UNIQUE (stream_id, version)
);
CREATE UNIQUE INDEX events_domain_key ON events ((data->>'domain'))
  WHERE type = 'TenantCreated' AND data ? 'domain';
