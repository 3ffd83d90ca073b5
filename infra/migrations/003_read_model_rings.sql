-- Growing the read side (`orderstream shards add`): each read-model generation is built on a
-- sharding ring of its own size, fixed when the generation is created. Readers and projectors
-- route a generation's keys by the ring recorded here (on shard 0; written on every shard the
-- generation lives on). A generation without a row uses the configured number of shards.
create table read_model_rings (
  generation integer primary key check (generation >= 1),
  shards integer not null check (shards >= 1),
  created_at timestamptz not null default now()
);
