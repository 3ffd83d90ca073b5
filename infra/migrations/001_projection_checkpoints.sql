-- Exactly-once effect (DESIGN §5): a projection writes its rows and the offset they cover in
-- one transaction; an event at or below the checkpoint is skipped.
create table projection_checkpoints (
  projection text not null,
  topic text not null,
  partition integer not null check (partition >= 0),
  "offset" bigint not null check ("offset" >= 0),
  updated_at timestamptz not null default now(),
  primary key (projection, topic, partition)
);
