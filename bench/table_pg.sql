-- bench/table_pg.sql - the benchmark table on PostgreSQL (columns of bench/gen.c)
DROP TABLE IF EXISTS bench;
CREATE TABLE bench (
    id bigint PRIMARY KEY,
    name text NOT NULL,
    email text NOT NULL,
    amount numeric(12,2) NOT NULL,
    quantity integer NOT NULL,
    active boolean NOT NULL,
    created_at timestamp NOT NULL,
    score double precision NOT NULL,
    notes text
);
