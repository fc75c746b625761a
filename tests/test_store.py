"""The Store contract, run against SQLite (a temporary data dir) and PostgreSQL (a fresh database on
postgresql://postgres@127.0.0.1:5432, or IONOS_EMULATOR_TEST_DATABASE's server; skipped if none answers)."""

from __future__ import annotations

import os
import sqlite3
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from ionos_emulator.store import Row, Store, open_store

PG_SERVER = (os.environ.get("IONOS_EMULATOR_TEST_DATABASE") or "postgresql://postgres@127.0.0.1:5432").rstrip("/")

Opener = Callable[..., Store]


@pytest.fixture(scope="module")
def pg_database() -> Iterator[str]:
    """A fresh database for this module, dropped at its end."""
    try:
        admin = psycopg.connect(f"{PG_SERVER}/postgres", autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as e:
        pytest.skip(f"no PostgreSQL server at {PG_SERVER}: {e}")
    name = f"ionos_emu_storetest_{uuid.uuid4().hex[:12]}"
    with admin:
        admin.execute(f"CREATE DATABASE {name}")
        try:
            yield f"{PG_SERVER}/{name}"
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgres"])
def open_(request: pytest.FixtureRequest, tmp_path) -> Iterator[Opener]:
    """Opens stores on one empty database (several may be open at once, like several processes)."""
    if request.param == "postgres":
        url = request.getfixturevalue("pg_database")
        args = (str(tmp_path), url)
    else:
        args = (str(tmp_path / "data"), "")
    opened: list[Store] = []

    def opener(**kw) -> Store:
        store = open_store(*args, **kw)
        opened.append(store)
        return store

    opener().reset()  # the PostgreSQL database is shared by the module's tests
    yield opener
    for store in opened:
        store.close()


@pytest.fixture
def store(open_: Opener) -> Store:
    return open_()


def row(
    id: str,
    kind: str = "server",
    *,
    tenant: int = 1,
    parent: str = "dc1",
    scope: str = "dc1",
    link: str = "",
    path: str | None = None,
    **props,
) -> Row:
    if path is None:
        path = f"datacenters/{parent}/{kind}s/{id}"
    return Row(
        tenant=tenant,
        kind=kind,
        id=id,
        parent=parent,
        scope=scope,
        link=link,
        path=path,
        doc={"properties": {"name": id, **props}, "metadata": {"state": "AVAILABLE"}, "x": {}},
    )


def put(store: Store, *rows: Row) -> list[Row]:
    with store.tx():
        for r in rows:
            store.insert(r)
    return list(rows)


def ids(rows) -> list[str]:
    return [r.id for r in rows]


def token(id: str, user: str = "u1", **more) -> dict:
    return {"id": id, "user": user, "tenant": 1, "created": 1, "expires": 2, **more}


# -- resources ---------------------------------------------------------------------------------------


def test_insert_get_find(store: Store):
    (a,) = put(store, row("s1", cores=2, nested={"a": [1, 2.5, None, "ü"]}))
    assert a.seq > 0
    got = store.get(1, "server", "dc1", "s1")
    assert got == a and got is not a
    assert got.props["nested"] == {"a": [1, 2.5, None, "ü"]}
    assert store.find(1, "server", "s1") == a
    # scoped by tenant, kind, parent
    assert store.get(2, "server", "dc1", "s1") is None
    assert store.get(1, "volume", "dc1", "s1") is None
    assert store.get(1, "server", "dc2", "s1") is None
    assert store.find(2, "server", "s1") is None
    assert store.find(1, "server", "nope") is None


def test_insert_sets_increasing_seq_and_refuses_duplicates(store: Store):
    a, b = put(store, row("s1"), row("s2"))
    assert b.seq > a.seq
    put(store, row("s1", parent="dc2"), row("s1", tenant=2))  # the same id elsewhere is another row
    with pytest.raises((sqlite3.IntegrityError, psycopg.IntegrityError)):
        put(store, row("s3"), row("s1"))
    assert store.get(1, "server", "dc1", "s3") is None  # the failed transaction left nothing
    assert store.count(1, "server", "dc1") == 2


def test_list_order_filters_offset_limit(store: Store):
    # inserted out of id order: lists follow insertion (seq), not id
    put(
        store,
        row("c"),
        row("a", link="v1"),
        row("x", parent="dc2", scope="dc2"),
        row("b", link="v1"),
        row("v1", kind="volume"),
        row("a", tenant=2),
    )
    assert ids(store.list(1, "server")) == ["c", "a", "x", "b"]
    assert ids(store.list(1, "server", "dc1")) == ["c", "a", "b"]
    assert ids(store.list(1, "server", scope="dc2")) == ["x"]
    assert ids(store.list(1, "server", link="v1")) == ["a", "b"]
    assert ids(store.list(1, "server", "dc1", link="v1")) == ["a", "b"]
    assert ids(store.list(1, "server", "dc2", link="v1")) == []
    assert ids(store.page(1, "server", None, 1, None)) == ["a", "x", "b"]
    assert ids(store.page(1, "server", None, 0, 2)) == ["c", "a"]
    assert ids(store.page(1, "server", None, 1, 2)) == ["a", "x"]
    assert ids(store.page(1, "server", None, 3, 5)) == ["b"]
    assert ids(store.page(1, "server", None, 9, None)) == []
    assert ids(store.page(1, "server", None, 0, 0)) == []
    assert ids(store.list(2, "server")) == ["a"]
    assert ids(store.list(3, "server")) == []
    assert [r.seq for r in store.list(1, "server")] == sorted(r.seq for r in store.list(1, "server"))


def test_list_refs_and_count(store: Store):
    put(store, row("b"), row("a"), row("x", parent="dc2", scope="dc2"), row("v", kind="volume"), row("z", tenant=2))
    assert store.list_refs(1, "server", "dc1") == [
        ("b", "datacenters/dc1/servers/b"),
        ("a", "datacenters/dc1/servers/a"),
    ]
    assert store.list_refs(1, "server", "dc3") == []
    assert store.count(1, "server") == 3
    assert store.count(1, "server", "dc1") == 2
    assert store.count(1, "server", scope="dc2") == 1
    assert store.count(1, "server", "dc1", scope="dc2") == 0
    assert store.count(1, "volume") == 1
    assert store.count(2, "server") == 1
    assert store.count(3, "server") == 0


def test_update_changes_link_and_doc_only(store: Store):
    (a,) = put(store, row("s1"))
    changed = Row(
        tenant=1,
        kind="server",
        id="s1",
        parent="dc1",
        scope="other",
        link="vol",
        path="elsewhere",
        doc={"properties": {"name": "renamed"}},
    )
    with store.tx():
        store.update(changed)
        store.update(row("missing"))  # nothing to update: no effect, no error
    got = store.get(1, "server", "dc1", "s1")
    assert got is not None
    assert (got.link, got.doc, got.scope, got.path, got.seq) == (
        "vol",
        {"properties": {"name": "renamed"}},
        "dc1",
        a.path,
        a.seq,
    )
    assert store.get(1, "server", "dc1", "missing") is None


def test_delete_tree_deletes_the_subtree_by_path(store: Store):
    dc = row("d1", kind="datacenter", parent="", scope="", path="datacenters/d1")
    put(
        store,
        dc,
        row("s1", parent="d1", path="datacenters/d1/servers/s1"),
        row("n1", kind="nic", parent="s1", path="datacenters/d1/servers/s1/nics/n1"),
        row("l1", kind="lan", parent="d1", path="datacenters/d1/lans/l1"),
        # neighbours whose paths share the prefix without lying below it
        row("d10", kind="datacenter", parent="", scope="", path="datacenters/d10"),
        row("s2", parent="d10", path="datacenters/d10/servers/s2"),
        row("d1-x", kind="datacenter", parent="", scope="", path="datacenters/d1-x"),
        row("d1.x", kind="datacenter", parent="", scope="", path="datacenters/d1.x"),
        # another tenant's rows under the same path
        row("d1", kind="datacenter", tenant=2, parent="", scope="", path="datacenters/d1"),
        row("s1", tenant=2, parent="d1", path="datacenters/d1/servers/s1"),
    )
    with store.tx():
        assert store.delete_tree(dc) == 4
    assert [(r.kind, r.id) for r in store.iter_all(1)] == [
        ("datacenter", "d10"),
        ("server", "s2"),
        ("datacenter", "d1-x"),
        ("datacenter", "d1.x"),
    ]
    assert len(list(store.iter_all(2))) == 2
    # a leaf, and a row without a path (only itself)
    with store.tx():
        assert store.delete_tree(row("s2", parent="d10", path="datacenters/d10/servers/s2")) == 1
        assert store.delete_tree(Row(tenant=1, kind="datacenter", id="d10")) == 1
        assert store.delete_tree(row("gone")) == 0
    assert ids(store.iter_all(1)) == ["d1-x", "d1.x"]


def test_iter_all_order_and_tenant(store: Store):
    put(store, row("b", kind="volume"), row("a"), row("q", tenant=2), row("c", kind="nic"))
    it = store.iter_all(1)
    assert not isinstance(it, list)
    assert [(r.kind, r.id) for r in it] == [("volume", "b"), ("server", "a"), ("nic", "c")]
    assert ids(store.iter_all(2)) == ["q"]
    assert list(store.iter_all(3)) == []


# -- requests ----------------------------------------------------------------------------------------


def req(
    id: str, *, tenant: int = 1, scope: str = "dc1", done_at: float = 10.0, state: str = "PENDING", **extra
) -> dict:
    return {
        "id": id,
        "tenant": tenant,
        "scope": scope,
        "created": 1.5,
        "run_at": done_at - 1,
        "done_at": done_at,
        "state": state,
        "message": None,
        "method": "POST",
        "targets": [{"id": "s1"}],
        **extra,
    }


def test_requests_insert_get_list(store: Store):
    a, b, c = req("r1", done_at=5.0), req("r2", tenant=2), req("r3", effects=[{"op": "create"}])
    with store.tx():
        for r in (a, b, c):
            store.insert_request(r)
    assert 0 < a["seq"] < b["seq"] < c["seq"]
    got = store.get_request(1, "r1")
    assert got == a
    assert store.get_request(2, "r1") is None  # scoped by tenant
    assert store.get_request(1, "nope") is None
    assert [r["id"] for r in store.list_requests(1)] == ["r1", "r3"]
    assert store.list_requests(1)[1]["effects"] == [{"op": "create"}]
    assert [r["id"] for r in store.list_requests(2)] == ["r2"]
    assert store.list_requests(3) == []


def test_requests_due_finish_exactly_once(open_: Opener):
    store = open_()
    assert not store.has_pending()
    assert store.last_pending_done_at(1, "dc1") is None
    with store.tx():
        for r in (
            req("late", done_at=30.0),
            req("b", done_at=20.0),
            req("a", done_at=20.0),
            req("first", done_at=10.0, tenant=2),
            req("done", done_at=1.0, state="DONE"),
            req("other", done_at=25.0, scope="dc2"),
        ):
            store.insert_request(r)
    assert store.has_pending()
    # across tenants, by done_at then seq; only PENDING and done_at <= now
    assert [r["id"] for r in store.due_requests(20.0)] == ["first", "b", "a"]
    assert [r["id"] for r in store.due_requests(100.0, limit=2)] == ["first", "b"]
    assert store.due_requests(5.0) == []
    assert store.last_pending_done_at(1, "dc1") == 30.0
    assert store.last_pending_done_at(1, "dc2") == 25.0
    assert store.last_pending_done_at(2, "dc2") is None

    other = open_()  # a second process settling the same queue
    with store.tx():
        assert store.finish_request("b", "DONE", None) is True
        assert store.finish_request("b", "FAILED", "again") is False
    with other.tx():
        assert other.finish_request("b", "FAILED", "late") is False
        assert other.finish_request("a", "FAILED", "broken") is True
    with store.tx():
        assert store.finish_request("a", "DONE", None) is False
        assert store.finish_request("done", "FAILED", None) is False
        assert store.finish_request("nope", "DONE", None) is False
    assert (store.get_request(1, "b") or {})["state"] == "DONE"
    a = store.get_request(1, "a") or {}
    assert (a["state"], a["message"]) == ("FAILED", "broken")
    assert [r["id"] for r in store.due_requests(20.0)] == ["first"]
    with store.tx():
        for id in ("first", "late", "other"):
            assert store.finish_request(id, "DONE", None)
    assert not store.has_pending()
    assert store.last_pending_done_at(1, "dc1") is None


# -- key/value ---------------------------------------------------------------------------------------


def test_kv(store: Store):
    assert store.kv_get("item:a") is None
    with store.tx():
        store.kv_set("item:b", {"n": 2})
        store.kv_set("item:a", [1, "x"])
        store.kv_set("item", "bare")
        store.kv_set("item;", "next")
        store.kv_set("items", "other")
        store.kv_set("item:", 0)
        store.kv_set("flag", True)
    assert store.kv_get("item:a") == [1, "x"]
    assert store.kv_get("flag") is True
    with store.tx():
        store.kv_set("item:b", {"n": 3})  # replaces
    assert store.kv_get("item:b") == {"n": 3}
    assert store.kv_prefix("item:") == [("item:", 0), ("item:a", [1, "x"]), ("item:b", {"n": 3})]
    assert store.kv_prefix("nothing:") == []
    with store.tx():
        store.kv_delete("item:a")
        store.kv_delete("never-there")
    assert store.kv_get("item:a") is None
    assert [k for k, _ in store.kv_prefix("item:")] == ["item:", "item:b"]


def test_tokens_by_id_and_by_user(store: Store):
    assert store.token_get("a") is None and store.tokens_of("u1") == []
    with store.tx():
        store.token_put(token("b"))
        store.token_put(token("a", home=7))
        store.token_put(token("c", user="u2"))
    assert store.token_get("a") == token("a", home=7)
    assert [t["id"] for t in store.tokens_of("u1")] == ["a", "b"]  # by id
    assert store.tokens_of("u2") == [token("c", user="u2")]
    with store.tx():
        store.token_put(token("b", expires=9))  # replaces
        store.token_delete("a")
        store.token_delete("never-there")
    assert store.tokens_of("u1") == [token("b", expires=9)]
    assert store.kv_prefix("token:") == []  # not in the key/value map


def test_tokens_in_the_key_value_map_of_an_older_data_dir_move_to_their_table(open_: Opener):
    old = open_()
    with old.tx():
        old.kv_set("token:k1", token("k1"))
        old.kv_set("token:note", "not a token")  # left where it is
    reopened = open_()
    assert reopened.token_get("k1") == token("k1")
    assert reopened.kv_get("token:k1") is None
    assert reopened.kv_get("token:note") == "not a token"


def test_token_changes_leave_the_peeked_version_alone_on_sqlite(open_: Opener):
    reader, writer = open_(), open_()
    data, tokens = reader.peek_version(), reader.peek_tokens_version()
    if data is None:  # PostgreSQL: tokens move the one change counter, as everything does
        assert tokens is None
        return
    for change in (lambda: writer.token_put(token("t1")), lambda: writer.token_delete("t1")):
        with writer.tx():
            change()
        assert reader.peek_version() == data, "a token change moved the version the response caches key on"
        assert reader.peek_tokens_version() != tokens
        tokens = reader.peek_tokens_version()
    with writer.tx():
        writer.kv_set("k", 1)
    assert reader.peek_version() != data
    assert reader.peek_tokens_version() == tokens


def test_reset_empties_everything(store: Store):
    put(store, row("s1"), row("s1", tenant=2))
    with store.tx():
        store.insert_request(req("r1"))
        store.kv_set("k", 1)
        store.token_put(token("t1"))
    store.reset()
    assert list(store.iter_all(1)) == list(store.iter_all(2)) == []
    assert store.list_requests(1) == [] and not store.has_pending()
    assert store.kv_get("k") is None and store.token_get("t1") is None


def test_export_and_import_carry_tokens_and_take_those_of_older_snapshots(store: Store):
    with store.tx():
        store.token_put(token("t1"))
        store.kv_set("k", 1)
    tables = store.export_tables()
    assert tables["tokens"] == [token("t1")]
    store.reset()
    store.import_tables(tables)
    assert store.token_get("t1") == token("t1") and store.kv_get("k") == 1
    older = {**tables, "kv": [*tables["kv"], ["token:t2", token("t2")]]}
    del older["tokens"]  # a snapshot made before tokens had their own table
    store.import_tables(older)
    assert store.token_get("t2") == token("t2") and store.token_get("t1") is None
    assert store.kv_get("token:t2") is None


# -- transactions ------------------------------------------------------------------------------------


class BoomError(Exception):
    pass


def test_tx_rollback_leaves_nothing_behind(store: Store):
    put(store, row("keep"))
    with store.tx():
        store.kv_set("k", "before")
    with pytest.raises(BoomError), store.tx():
        store.insert(row("s1"))
        store.update(Row(tenant=1, kind="server", id="keep", parent="dc1", doc={"changed": True}))
        store.insert_request(req("r1"))
        store.kv_set("k", "after")
        store.kv_set("k2", 1)
        with store.tx():  # an exception in a nested tx rolls back the outer one too
            store.insert(row("s2"))
            raise BoomError
    assert ids(store.iter_all(1)) == ["keep"]
    assert (store.get(1, "server", "dc1", "keep") or row("x")).props == {"name": "keep"}
    assert store.list_requests(1) == [] and not store.has_pending()
    assert store.kv_get("k") == "before" and store.kv_get("k2") is None
    # the store is usable afterwards
    put(store, row("s1"))
    assert ids(store.iter_all(1)) == ["keep", "s1"]


def test_nested_tx_commits_once_at_the_outermost(open_: Opener):
    store, reader = open_(), open_()
    with store.tx():
        store.insert(row("s1"))
        with store.tx():
            store.insert(row("s2"))
            with store.tx():
                store.kv_set("k", 1)
        # the inner ones have ended, yet nothing is committed: another connection sees nothing
        assert reader.list(1, "server") == [] and reader.kv_get("k") is None
        store.insert(row("s3"))
    assert ids(reader.list(1, "server")) == ["s1", "s2", "s3"]
    assert reader.kv_get("k") == 1
    # and a new outermost tx() starts a new transaction
    with pytest.raises(BoomError), store.tx():
        store.insert(row("s4"))
        raise BoomError
    assert ids(reader.list(1, "server")) == ["s1", "s2", "s3"]


def test_writers_are_serialised(open_: Opener):
    a, b = open_(), open_()
    entered = threading.Event()

    def second_writer() -> None:
        with b.tx():
            entered.set()
            b.kv_set("n", b.kv_get("n") + 1)

    with ThreadPoolExecutor(1) as pool:
        with a.tx():
            a.kv_set("n", 1)
            done = pool.submit(second_writer)
            assert not entered.wait(0.3), "a second writer got in while the first held its transaction"
            a.kv_set("n", a.kv_get("n") + 1)
        done.result(10)
    assert a.kv_get("n") == 3  # the second writer read the first one's committed result


def test_data_survives_reopening(open_: Opener):
    store = open_()
    put(store, row("s1"))
    with store.tx():
        store.insert_request(req("r1"))
        store.kv_set("k", {"v": 1})
    store.close()
    again = open_()  # opening an existing database creates nothing and loses nothing
    assert ids(again.iter_all(1)) == ["s1"]
    assert [r["id"] for r in again.list_requests(1)] == ["r1"]
    assert again.kv_get("k") == {"v": 1}
    (s2,) = put(again, row("s2"))
    assert s2.seq > (again.get(1, "server", "dc1", "s1") or row("x")).seq


# -- counters ----------------------------------------------------------------------------------------

# servers count their cores unless stopped, and one each; disks their size; other kinds nothing
COUNTS = {
    "server": lambda p: {} if p.get("stopped") else {"cores": p.get("cores", 0), "servers": 1},
    "disk": lambda p: {"gb": p.get("size", 0)},
}


def test_counters_follow_every_write_in_its_transaction(open_: Opener):
    store, other = open_(counts=COUNTS), open_(counts=COUNTS)  # two processes on one database
    put(store, row("s1", cores=2), row("s2", cores=4), row("s1", tenant=2, cores=8), row("l1", kind="lan"))
    put(other, row("d1", kind="disk", parent="s2", path="datacenters/dc1/servers/s2/disks/d1", size=10))
    assert store.counters(1) == {"cores": 6, "servers": 2, "gb": 10}
    assert other.counters(2) == {"cores": 8, "servers": 1}
    s1 = store.get(1, "server", "dc1", "s1") or row("x")
    s1.props["cores"] = 3
    with other.tx():
        other.update(s1)  # what it adds now minus what it added: +1
    s1.props["stopped"] = True
    store.update(s1)  # outside tx(): the row and the counters still change together
    assert store.counters(1) == {"cores": 4, "servers": 1, "gb": 10}
    with pytest.raises(BoomError), store.tx():
        store.insert(row("s3", cores=100))
        raise BoomError
    assert other.counters(1) == {"cores": 4, "servers": 1, "gb": 10}  # rolled back with the row
    # a subtree goes with everything it counts (s2 and its disk); tenant 2 keeps its own
    assert store.delete_tree(store.get(1, "server", "dc1", "s2") or row("x")) == 2
    assert not any(other.counters(1).values())
    assert other.counters(2) == {"cores": 8, "servers": 1}
    store.delete_tree(Row(tenant=2, kind="datacenter", id="dc1", path="datacenters/dc1"))  # the whole data center
    assert not any(other.counters(2).values())


def test_counters_are_made_from_the_rows_on_opening_a_data_dir_without_them(open_: Opener):
    old = open_()  # an emulator of before the counters: it writes rows and keeps no counters
    put(old, row("s1", cores=2), row("s2", cores=3), row("d1", kind="disk", size=7), row("s1", tenant=2, cores=1))
    old.dialect.execute("DROP TABLE counters")  # type: ignore[attr-defined]  # (its schema had no such table)
    old.close()
    store = open_(counts=COUNTS)
    assert store.counters(1) == {"cores": 5, "servers": 2, "gb": 7}
    assert store.counters(2) == {"cores": 1, "servers": 1}
    put(store, row("s3", cores=1))
    store.close()
    again = open_(counts=COUNTS)  # counted already: kept as they are, not counted twice
    assert again.counters(1) == {"cores": 6, "servers": 3, "gb": 7}
    # a kind counted from now on is counted from the rows once, too
    more = open_(counts={**COUNTS, "lan": lambda p: {"lans": 1}})
    put(more, row("l1", kind="lan"))
    assert more.counters(1) == {"cores": 6, "servers": 3, "gb": 7, "lans": 1}


def test_counters_after_reset_and_import(open_: Opener):
    store = open_(counts=COUNTS)
    put(store, row("s1", cores=2), row("d1", kind="disk", size=5))
    tables = store.export_tables()
    store.reset()
    assert not any(store.counters(1).values())
    put(store, row("s9", cores=50))
    store.import_tables(tables)  # a snapshot carries rows; the counters are made from them
    assert store.counters(1) == {"cores": 2, "servers": 1, "gb": 5}
    put(store, row("s2", cores=1))
    assert store.counters(1) == {"cores": 3, "servers": 2, "gb": 5}


def test_open_store_refuses_unknown_urls(tmp_path):
    with pytest.raises(ValueError):
        open_store(str(tmp_path), "mysql://localhost/x")


def test_reads_outside_tx_see_committed_state_quickly(open_: Opener):
    store, reader = open_(), open_()
    start = time.monotonic()
    with store.tx():
        store.insert(row("s1"))
        assert reader.get(1, "server", "dc1", "s1") is None  # reads take no lock and do not wait
    assert reader.get(1, "server", "dc1", "s1") is not None
    assert time.monotonic() - start < 5


# -- change detection and keyset paging -------------------------------------------------------------


def test_version_moves_with_every_change_of_any_connection(open_: Opener):
    mine, other = open_(), open_()
    seen = {mine.version()}

    def moved() -> None:
        v = mine.version()
        assert v not in seen, "a change left the version where it was"
        seen.add(v)

    for writer in (mine, other):
        with writer.tx():
            writer.insert(row(f"s{len(seen)}"))
        moved()
        r = writer.get(1, "server", "dc1", f"s{len(seen) - 1}")
        assert r is not None
        r.props["name"] = "renamed"
        with writer.tx():
            writer.update(r)
        moved()
        with writer.tx():
            writer.kv_set("k", len(seen))
        moved()
        with writer.tx():
            writer.delete_tree(r)
        moved()
        writer.kv_set("outside", len(seen))  # a write outside tx() commits on its own
        moved()
        with writer.tx():
            writer.token_put(token(f"t{len(seen)}"))
        moved()
    other.reset()
    moved()


def test_version_moves_for_every_thread_when_any_thread_writes(store: Store):
    """One counter per process: a commit on one thread's connection (in tx() or on its own) moves the version
    every other thread reads, though each thread has a connection of its own."""
    pool = ThreadPoolExecutor(2)
    try:
        other = lambda fn: pool.submit(fn).result()
        for write in (
            lambda: store.insert(row(f"t{uuid.uuid4().hex[:6]}")),  # on its own (autocommit)
            lambda: store.kv_set("k", uuid.uuid4().hex),
        ):
            before = store.version()
            other(lambda: store.version())  # the other thread's connection has seen the store as it is
            with ThreadPoolExecutor(1) as writer:
                writer.submit(write).result()
            assert store.version() != before
            v = store.version()

            def in_tx(write: Callable[[], None] = write) -> None:
                with store.tx():
                    write()

            other(in_tx)
            assert store.version() != v
    finally:
        pool.shutdown()


def test_page_in_a_write_transaction_leaves_no_anchor_for_other_threads(store: Store):
    """Inside tx() a thread sees its own uncommitted rows: anchors read there are neither used nor left."""
    with store.tx():
        for i in range(6):
            store.insert(row(f"s{i}"))
    started, finish = threading.Event(), threading.Event()

    def writer() -> None:
        with store.tx():
            first = store.get(1, "server", "dc1", "s0")
            assert first is not None
            store.delete_tree(first)  # seen by this transaction only: its offsets are one off everyone else's
            assert ids(store.page(1, "server", "dc1", 3, 2)) == ["s4", "s5"]
            started.set()
            finish.wait(10)
            raise RuntimeError("rolled back")

    store.version()  # this thread's connection has seen the store as it is: the writer's version is its own
    with ThreadPoolExecutor(1) as pool:
        done = pool.submit(writer)
        assert started.wait(10)
        assert ids(store.page(1, "server", "dc1", 3, 2)) == ["s3", "s4"]
        assert ids(store.page(1, "server", "dc1", 5, 2)) == ["s5"]
        finish.set()
        with pytest.raises(RuntimeError):
            done.result()
    assert ids(store.page(1, "server", "dc1", 5, 2)) == ["s5"]


def test_keyset_pages_equal_offset_slices_across_changes(open_: Opener):
    """Every page the anchors serve is the slice of the full list, after inserts and deletes by this and
    another connection between the reads."""
    mine, other = open_(), open_()
    with mine.tx():
        for i in range(60):
            mine.insert(row(f"s{i:03d}", parent="dc1" if i % 3 else "dc2"))
    for step in range(8):
        for parent in ("dc1", "dc2", None):
            want = ids(mine.list(1, "server", parent))
            for limit in (1, 7, 10):
                for offset in list(range(0, len(want) + 3, limit)) + [len(want) - 1, 5, 3]:
                    got = ids(mine.page(1, "server", parent, offset, limit + 1))
                    assert got == want[max(offset, 0) : max(offset, 0) + limit + 1], (step, parent, offset, limit)
            assert ids(mine.page(1, "server", parent, 4, None)) == want[4:]
        writer = other if step % 2 else mine
        with writer.tx():
            victim = writer.list(1, "server")[step * 3]
            writer.delete_tree(victim)
            writer.insert(row(f"n{step}", parent="dc1"))


def test_the_event_loops_version_read_is_shared_but_never_older_than_the_request(pg_database):
    """PostgreSQL's change counter read for the front (store/postgres.py AsyncChanges): requests that ask while a
    read is in flight share the next read, which sees every change made before any of them asked."""
    import asyncio

    from ionos_emulator.store.postgres import AsyncChanges

    store = open_store("", pg_database)  # migrates: the counter exists
    changes = AsyncChanges(pg_database)
    sent: list[int | None] = []
    read_once = changes._read_once
    gate: asyncio.Event | None = None

    async def counted() -> int | None:
        value = await read_once()
        sent.append(value)
        if len(sent) == 2 and gate is not None:  # the in-flight read: its value read, its answer held back
            await gate.wait()
        return value

    changes._read_once = counted  # type: ignore[method-assign]

    def bump() -> None:
        with store.tx():
            store.kv_set("test:bump", {"at": uuid.uuid4().hex})

    async def main() -> None:
        nonlocal gate
        gate = asyncio.Event()
        before = await changes.read()
        first = asyncio.ensure_future(changes.read())
        while len(sent) < 2:  # until the in-flight read has its (old) value
            await asyncio.sleep(0.001)
        await asyncio.to_thread(bump)  # a change acknowledged while that read is in flight
        later = [asyncio.ensure_future(changes.read()) for _ in range(10)]
        await asyncio.sleep(0.01)
        gate.set()
        after = await asyncio.gather(*later)
        assert await first == before  # the in-flight read saw the store before the change
        assert before is not None and len(set(after)) == 1 and after[0] is not None and after[0] > before
        assert len(sent) == 3  # before, the in-flight one, and one shared by the ten that asked after it
        await changes.close()

    asyncio.run(main())
    store.close()
