# test_migrations.py: the migration files both backends embed. The runners number migrations by
# their position in file order, so the files must be numbered 0001..N without gaps, and both
# backends must have the same list (one schema history, two dialects).
import re

from conftest import REPO

DIRS = {b: REPO / "lib" / "store" / "migrations" / b for b in ("sqlite", "pg")}


def names(backend):
    return sorted(p.name for p in DIRS[backend].glob("*.sql"))


def test_migrations_are_numbered_without_gaps():
    for backend in DIRS:
        found = names(backend)
        assert found, backend
        numbers = [int(re.match(r"^(\d{4})_[a-z0-9_]+\.sql$", n).group(1)) for n in found]
        assert numbers == list(range(1, len(found) + 1)), (backend, found)


def test_both_backends_have_the_same_migrations():
    assert names("sqlite") == names("pg")
