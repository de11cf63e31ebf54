-- Schema version 3: incremental checkpoints per Kafka partition (issue 19). A partition's chain
-- is its latest base (its whole open state) and the increments written after it (what changed
-- between two checkpoints), keyed by the consumer group and the partition, not by the instance:
-- whichever instance the group assigns a partition to reads its chain, so a restart or a
-- rebalance restores exactly the partitions it gets. A piece larger than one row's chunk is
-- split over several rows (chunk 0, 1, ...; bytea holds 1 GB at most). Compaction writes a new
-- base at an increment's sequence number and deletes what it replaces. aggregator_checkpoints
-- keeps, per instance, the small head (what is not per partition).
CREATE TABLE checkpoint_pieces (
    group_id    text     NOT NULL,
    topic       text     NOT NULL,
    partition   integer  NOT NULL,
    seq         bigint   NOT NULL,
    kind        smallint NOT NULL, -- 0 base, 1 increment
    chunk       integer  NOT NULL,
    chunks      integer  NOT NULL,
    next_offset bigint   NOT NULL,
    bytes       bigint   NOT NULL, -- the whole piece's size (every chunk)
    state       bytea    NOT NULL,
    written_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (group_id, topic, partition, seq, kind, chunk)
);
-- The pieces are compressed data already (varints, sketches): no TOAST compression, which
-- cost more time than the write itself.
ALTER TABLE checkpoint_pieces ALTER COLUMN state SET STORAGE EXTERNAL;
