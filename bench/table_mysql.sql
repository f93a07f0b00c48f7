-- bench/table_mysql.sql - the MySQL/MariaDB table for the bench CSV
-- (id,name,email,amount,quantity,active,created_at,score,notes).
DROP TABLE IF EXISTS bench;
CREATE TABLE bench (
	id bigint PRIMARY KEY,
	name text NOT NULL,
	email text NOT NULL,
	amount decimal(12,2) NOT NULL,
	quantity int NOT NULL,
	active tinyint(1) NOT NULL,
	created_at datetime NOT NULL,
	score double NOT NULL,
	notes text
) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4;
