-- Blue-green replay (DESIGN §5, projectors/README.md): a projection's data lives in generation N
-- (schema read_model_g<N>); readers use the generation recorded here (on shard 0 for read-model;
-- absent means 1). `orderstream replay` builds N+1 beside N, then switches this pointer.
create table projection_generations (
  projection text primary key,
  generation integer not null check (generation >= 1),
  switched_at timestamptz not null default now()
);
