-- samples/schema_mysql.sql - the demo tables on MySQL/MariaDB
DROP TABLE IF EXISTS orders;
DROP TABLE IF EXISTS customers;
CREATE TABLE customers (
    id bigint PRIMARY KEY,
    first_name varchar(100) NOT NULL,
    last_name varchar(100) NOT NULL,
    email varchar(200) NOT NULL,
    city varchar(100),
    signup_date date,
    vip boolean,
    credit_limit decimal(12,2),
    notes text
) DEFAULT CHARSET = utf8mb4;
CREATE TABLE orders (
    order_id bigint PRIMARY KEY,
    customer_id bigint NOT NULL,
    ordered_at datetime NOT NULL,
    amount decimal(12,2) NOT NULL,
    currency char(3) NOT NULL,
    status varchar(20) NOT NULL,
    FOREIGN KEY (customer_id) REFERENCES customers (id)
) DEFAULT CHARSET = utf8mb4;
