#!/usr/bin/python3
# tests/data/realdb/gen_employees.py - rows for the MySQL Employees schema
# (mysql-employees-schema.sql), whose data files are not in the project:
# departments, employees, dept_emp, dept_manager, titles and salaries as
# multi-row INSERT statements on stdout, consistent with the schema's keys
# and foreign keys. Deterministic: the same N gives the same bytes.
#
#     python3 gen_employees.py [N]    N employees (default: $SLUICE_REALDB_EMPLOYEES or 2000)
#
# About 10 salaries, 1.5 titles and 1.1 dept_emp rows per employee, as in
# the original data set (300,024 employees, 2,844,047 salaries). A few names
# carry non-ASCII letters so that text is more than ASCII.
import datetime
import os
import random
import sys

DEPARTMENTS = [
    ("d001", "Marketing"), ("d002", "Finance"), ("d003", "Human Resources"),
    ("d004", "Production"), ("d005", "Development"), ("d006", "Quality Management"),
    ("d007", "Sales"), ("d008", "Research"), ("d009", "Customer Service"),
]
FIRST = ["Georgi", "Bezalel", "Parto", "Chirstian", "Kyoichi", "Anneke", "Tzvetan", "Saniya",
         "Sumant", "Duangkaew", "Mary", "Patricio", "Eberhardt", "Berni", "Guoxiang", "Kazuhito",
         "Cristinel", "Kazuhide", "Lillian", "Mayuko", "Ramzi", "Shahaf", "Bojan", "Suzette",
         "Prasadram", "Yongqiao", "Divier", "Domenick", "Otmar", "Elvis", "Zoë", "Jürgen",
         "Åsa", "François", "Øyvind", "Ñandú", "O'Brien", "Tâm"]
LAST = ["Facello", "Simmel", "Bamford", "Koblick", "Maliniak", "Preusig", "Zielinski", "Kalloufi",
        "Peac", "Piveteau", "Sluis", "Bridgland", "Terkki", "Genin", "Nooteboom", "Cappelletti",
        "Bouloucos", "Peha", "Haddadi", "Warwick", "Erde", "Famili", "Montemayor", "Pettey",
        "Heyers", "Berztiss", "Reistad", "Tempesti", "Herbst", "Demeyer", "Müller-Lüdenbach",
        "Gómez", "Łukasiewicz", "Dvořák", "Søndergaard", "D'Angelo", "Nguyễn"]
TITLES = ["Staff", "Senior Staff", "Engineer", "Senior Engineer", "Assistant Engineer",
          "Technique Leader", "Manager"]
FOREVER = datetime.date(9999, 1, 1)


def sql_str(s):
    return "'" + s.replace("\\", "\\\\").replace("'", "''") + "'"


def day(d):
    return "'" + d.isoformat() + "'"


class Inserts:
    """Multi-row INSERTs of at most 1000 rows each."""

    def __init__(self, out, table):
        self.out, self.table, self.rows = out, table, []

    def add(self, *values):
        self.rows.append("(" + ",".join(values) + ")")
        if len(self.rows) >= 1000:
            self.flush()

    def flush(self):
        if self.rows:
            self.out.write("INSERT INTO %s VALUES\n%s;\n" % (self.table, ",\n".join(self.rows)))
            self.rows = []


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else int(os.environ.get("SLUICE_REALDB_EMPLOYEES", "2000"))
    rnd = random.Random(20240229)
    out = sys.stdout
    out.write("SET FOREIGN_KEY_CHECKS=0;\nSET UNIQUE_CHECKS=0;\nSET autocommit=0;\n")

    deps = Inserts(out, "departments")
    for no, name in DEPARTMENTS:
        deps.add(sql_str(no), sql_str(name))
    deps.flush()

    emps = Inserts(out, "employees")
    dept_emp = Inserts(out, "dept_emp")
    titles = Inserts(out, "titles")
    salaries = Inserts(out, "salaries")
    hired = []
    for i in range(n):
        emp_no = 10001 + i
        birth = datetime.date(1952, 2, 1) + datetime.timedelta(days=rnd.randrange(13 * 365))
        hire = datetime.date(1985, 1, 1) + datetime.timedelta(days=rnd.randrange(15 * 365))
        emps.add(str(emp_no), day(birth), sql_str(rnd.choice(FIRST)), sql_str(rnd.choice(LAST)),
                 sql_str(rnd.choice("MF")), day(hire))
        hired.append((emp_no, hire))

        # the department history: one, or two (a move) for one in ten
        first_dept = rnd.choice(DEPARTMENTS)[0]
        if rnd.random() < 0.1:
            moved = hire + datetime.timedelta(days=200 + rnd.randrange(2000))
            second = rnd.choice([d for d, _ in DEPARTMENTS if d != first_dept])
            dept_emp.add(str(emp_no), sql_str(first_dept), day(hire), day(moved))
            dept_emp.add(str(emp_no), sql_str(second), day(moved), day(FOREVER))
        else:
            dept_emp.add(str(emp_no), sql_str(first_dept), day(hire), day(FOREVER))

        # titles: one to three, the last one current (to_date 9999-01-01, or
        # NULL now and then: the column is nullable)
        start = hire
        k = rnd.choice([1, 1, 2, 2, 3])
        for j, title in enumerate(rnd.sample(TITLES, k)):
            if j == k - 1:
                end = "NULL" if rnd.random() < 0.02 else day(FOREVER)
                titles.add(str(emp_no), sql_str(title), day(start), end)
            else:
                nxt = start + datetime.timedelta(days=365 + rnd.randrange(3 * 365))
                titles.add(str(emp_no), sql_str(title), day(start), day(nxt))
                start = nxt

        # salaries: yearly from the hire date, 1 to 18 of them (mean about 10)
        count = 1 + rnd.randrange(18)
        salary = 38000 + rnd.randrange(40000)
        for j in range(count):
            f = hire + datetime.timedelta(days=365 * j)
            t = FOREVER if j == count - 1 else hire + datetime.timedelta(days=365 * (j + 1))
            salaries.add(str(emp_no), str(salary), day(f), day(t))
            salary += rnd.randrange(-500, 4000)
    for ins in (emps, dept_emp, titles, salaries):
        ins.flush()

    # two or three managers per department, in turn, from its employees' pool
    mgr = Inserts(out, "dept_manager")
    pool = rnd.sample(hired, min(len(hired), 3 * len(DEPARTMENTS)))
    p = 0
    for d, (no, _) in enumerate(DEPARTMENTS):
        start = datetime.date(1985, 1, 1)
        managers = 2 + d % 2
        for j in range(managers):
            if p >= len(pool):
                break
            emp_no = pool[p][0]
            p += 1
            end = FOREVER if j == managers - 1 else start + datetime.timedelta(days=1500 + rnd.randrange(1500))
            mgr.add(str(emp_no), sql_str(no), day(start), day(end))
            start = end
    mgr.flush()
    out.write("COMMIT;\nSET FOREIGN_KEY_CHECKS=1;\nSET UNIQUE_CHECKS=1;\n")


if __name__ == "__main__":
    main()
