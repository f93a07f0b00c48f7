-- samples/schema_pg.sql - the demo tables on PostgreSQL
DROP TABLE IF EXISTS orders;
DROP TABLE IF EXISTS customers;
CREATE TABLE customers (
    id bigint PRIMARY KEY,
    first_name text NOT NULL,
    last_name text NOT NULL,
    email text NOT NULL,
    city text,
    signup_date date,
    vip boolean,
    credit_limit numeric(12,2),
    notes text
);
CREATE TABLE orders (
    order_id bigint PRIMARY KEY,
    customer_id bigint NOT NULL REFERENCES customers (id),
    ordered_at timestamptz NOT NULL,
    amount numeric(12,2) NOT NULL,
    currency char(3) NOT NULL,
    status text NOT NULL
);
