-- pgbench script: one tenant creation = one committed insert of a TenantCreated event of the
-- size tenantd stores (about the same fields as bench/wrk/create.lua's body plus the derived
-- ones), a fresh stream at version 1. No `domain`, like bench/wrk/create.lua's body: the
-- reservation index is there and checked on every insert (its predicate), as tenantd's is.
\set n random(1, 2000000000)
INSERT INTO events (event_id, stream_id, version, type, data, metadata)
VALUES (gen_random_uuid(), 'tn_' || gen_random_uuid()::text, 1, 'TenantCreated',
  jsonb_build_object(
    'name', 'Bench tenant ' || :client_id || '-' || :n,
    'plan', 'starter', 'admin_email', 'admin@bench.example',
    'description', 'alpha bravo logistics', 'country_code', 'US',
    'country_name', 'United States', 'city', 'New York',
    'settings', jsonb_build_object('timezone', 'UTC', 'locale', 'en-US', 'max_seats', 10),
    'subscription_status', 'trialing', 'trial_ends_at', now() + interval '14 days'),
  jsonb_build_object('correlation_id', gen_random_uuid()::text, 'actor', 'bench'));
