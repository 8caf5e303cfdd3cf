"""Unit tests of collector.spool with a real temporary directory (SPEC 8.1): offsets,
replay from committed offsets, torn writes, rotation and dropping ingested files."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector.model import BadRecord, EventRecord
from collector.spool import SUFFIX, Spool, SpoolPosition, decode, encode

T = 1_700_000_000_000


def event(n: int, **changes: object) -> EventRecord:
    record = EventRecord(
        seq=1_000 + n,
        site="example.com",
        event_id=f"{T + n}.{100_000_000 + n}",
        user_id="1606468777834.459913894",
        session_id=None if n % 2 else f"{T}.459913894",
        ts=T + n * 1000,
        received_ms=T + n * 1000 + 5,
        title=f"Page {n}",
        props={"ti": f"Page {n}", "lc": f"https://shop.example/{n}", "note": "a\nb ✓"},
        lc=f"https://shop.example/{n}",
        ref="https://www.google.com/",
        ip="203.0.113.7",
        user_agent="Mozilla/5.0",
        increment=n % 3 != 0,
        user_minted=n == 0,
        client_eid=n % 5 == 0,
        claimed_email="ada@example.com" if n == 1 else "",
        warnings=["invalid_uid"] if n == 2 else [],
        wants_ack=n % 4 == 0,
    )
    return dataclasses.replace(record, **changes)  # type: ignore[arg-type]


def bad(n: int) -> BadRecord:
    return BadRecord(
        seq=1_000 + n,
        received_ms=T + n,
        site="",
        reasons=["missing_dataset"],
        message="the hit names no dataset (si)",
        method="GET",
        path="/",
        query="ti=x&%ZZ",
        body="",
        headers={"user-agent": "curl/8.5.0", "cookie": "_otui=1.2.3.4.5.6"},
        ip="127.0.0.1",
    )


def records(count: int) -> list[EventRecord | BadRecord]:
    return [bad(n) if n % 4 == 3 else event(n) for n in range(count)]


def write_spool(
    directory: Path, items: list[EventRecord | BadRecord], **kwargs: int
) -> tuple[Spool, list[SpoolPosition]]:
    spool = Spool(directory, **kwargs)
    spool.open()
    positions = [spool.append(encode(r)) for r in items]
    spool.close()
    return spool, positions


def restart(directory: Path, **kwargs: int) -> Spool:
    """A new process: a new Spool on the same directory, opened (so it has its own file)."""
    spool = Spool(directory, **kwargs)
    spool.open()
    return spool


# --------------------------------------------------------------------------- encode / decode


@pytest.mark.parametrize("record", [event(0), event(1), event(2), event(5), bad(3)])
def test_encode_decode_round_trip(record: EventRecord | BadRecord) -> None:
    line = encode(record)
    assert line.endswith(b"\n")
    assert line.count(b"\n") == 1, "a record is exactly one line, even with newlines in values"
    assert line[:1] == (b"E" if isinstance(record, EventRecord) else b"B")
    decoded = decode(line[:-1])
    assert type(decoded) is type(record)
    assert decoded == record


TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)


@settings(max_examples=100, deadline=None)
@given(
    props=st.dictionaries(TEXT, TEXT, max_size=5),
    title=TEXT,
    ts=st.integers(min_value=-(2**53), max_value=2**53),
    seq=st.integers(min_value=0, max_value=2**63 - 1),
    session=st.one_of(st.none(), TEXT),
)
def test_encode_decode_round_trip_property(
    props: dict[str, str], title: str, ts: int, seq: int, session: str | None
) -> None:
    record = event(1, props=props, title=title, ts=ts, seq=seq, session_id=session)
    line = encode(record)
    assert line.count(b"\n") == 1 and line.endswith(b"\n")
    assert decode(line[:-1]) == record


# --------------------------------------------------------------------------- append


def test_append_returns_increasing_offsets(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    spool.open()
    lines = [encode(r) for r in records(6)]
    positions = [spool.append(line) for line in lines]
    spool.close()

    assert all(p.file == spool.current_file for p in positions)
    offsets = [p.end_offset for p in positions]
    assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets)
    expected, total = [], 0
    for line in lines:
        total += len(line)
        expected.append(total)
    assert offsets == expected
    assert (tmp_path / "spool" / spool.current_file).read_bytes() == b"".join(lines)


def test_open_creates_the_directory_and_a_spool_file(tmp_path: Path) -> None:
    directory = tmp_path / "a" / "b"
    spool = Spool(directory)
    spool.open()
    spool.close()
    assert directory.is_dir()
    assert spool.current_file.endswith(SUFFIX)
    assert spool.files() == [spool.current_file]


def test_every_start_uses_a_new_file(tmp_path: Path) -> None:
    first, _ = write_spool(tmp_path, records(2))
    second = restart(tmp_path)
    second.append(encode(event(9)))
    second.close()
    assert first.current_file != second.current_file
    assert second.files() == [first.current_file, second.current_file]
    assert (tmp_path / first.current_file).read_bytes() == b"".join(encode(r) for r in records(2))


# --------------------------------------------------------------------------- pending


@pytest.mark.parametrize("committed_count", [0, 1, 3, 6, 7])
def test_pending_yields_exactly_the_records_after_the_committed_offset(
    tmp_path: Path, committed_count: int
) -> None:
    items = records(7)
    old, positions = write_spool(tmp_path, items)
    committed = (
        {old.current_file: positions[committed_count - 1].end_offset} if committed_count else {}
    )

    spool = restart(tmp_path)
    pending = list(spool.pending(committed))
    spool.close()

    assert [r for r, _ in pending] == items[committed_count:]
    assert [p for _, p in pending] == positions[committed_count:]


def test_pending_on_an_unopened_spool_covers_every_file(tmp_path: Path) -> None:
    """Start-up replay runs before the new spool file is opened."""
    items = records(5)
    write_spool(tmp_path, items[:2])
    write_spool(tmp_path, items[2:])
    assert [r for r, _ in Spool(tmp_path).pending({})] == items


def test_pending_goes_through_files_oldest_first(tmp_path: Path) -> None:
    items = records(9)
    a, pos_a = write_spool(tmp_path, items[:3])
    b, pos_b = write_spool(tmp_path, items[3:5])
    c, pos_c = write_spool(tmp_path, items[5:])
    committed = {a.current_file: pos_a[-1].end_offset, b.current_file: pos_b[0].end_offset}
    spool = restart(tmp_path)
    pending = list(spool.pending(committed))
    spool.close()
    assert [r for r, _ in pending] == items[4:]
    assert [p.file for _, p in pending] == [b.current_file] + [c.current_file] * 4
    assert [p for _, p in pending][-4:] == pos_c


def test_pending_never_replays_the_current_file(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.open()
    for r in records(3):
        spool.append(encode(r))
    assert list(spool.pending({})) == []
    spool.close()


# --------------------------------------------------------------------------- torn writes


TORN = b'E{"seq":99,"site":"example.com","event_id":"17'


def test_torn_last_line_is_skipped(tmp_path: Path) -> None:
    items = records(4)
    old, positions = write_spool(tmp_path, items)
    with (tmp_path / old.current_file).open("ab") as f:
        f.write(TORN)

    spool = restart(tmp_path)
    assert [r for r, _ in spool.pending({})] == items
    assert [r for r, _ in spool.pending({old.current_file: positions[1].end_offset})] == items[2:]
    assert list(spool.pending({old.current_file: positions[-1].end_offset})) == []
    spool.close()


def test_file_with_torn_tail_is_dropped_once_its_complete_records_are_committed(
    tmp_path: Path,
) -> None:
    old, positions = write_spool(tmp_path, records(4))
    with (tmp_path / old.current_file).open("ab") as f:
        f.write(TORN)
    spool = restart(tmp_path)

    assert spool.drop_ingested({}) == []
    assert spool.drop_ingested({old.current_file: positions[2].end_offset}) == []
    assert (tmp_path / old.current_file).exists()

    assert spool.drop_ingested({old.current_file: positions[-1].end_offset}) == [old.current_file]
    assert not (tmp_path / old.current_file).exists()
    assert spool.files() == [spool.current_file]
    spool.close()


def test_file_with_only_a_torn_write_is_dropped(tmp_path: Path) -> None:
    old, _ = write_spool(tmp_path, [])
    (tmp_path / old.current_file).write_bytes(TORN)
    spool = restart(tmp_path)
    assert list(spool.pending({})) == []
    assert spool.drop_ingested({}) == [old.current_file]
    spool.close()


# --------------------------------------------------------------------------- drop_ingested


def test_drop_ingested_only_fully_committed_files(tmp_path: Path) -> None:
    a, pos_a = write_spool(tmp_path, records(3))
    b, pos_b = write_spool(tmp_path, records(3))
    c, _ = write_spool(tmp_path, records(2))
    spool = restart(tmp_path)
    committed = {a.current_file: pos_a[-1].end_offset, b.current_file: pos_b[1].end_offset}
    assert spool.drop_ingested(committed) == [a.current_file]
    assert spool.files() == sorted([b.current_file, c.current_file, spool.current_file])
    # dropping is idempotent
    assert spool.drop_ingested(committed) == []
    spool.close()


def test_current_file_is_dropped_only_with_include_current(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.open()
    last = None
    for r in records(3):
        last = spool.append(encode(r))
    assert last is not None
    committed = {spool.current_file: last.end_offset}

    assert spool.drop_ingested(committed) == []
    assert spool.drop_ingested({}, include_current=True) == []
    assert (tmp_path / spool.current_file).exists()

    assert spool.drop_ingested(committed, include_current=True) == [spool.current_file]
    assert spool.files() == []
    spool.close()


def test_empty_current_file_is_kept_without_include_current(tmp_path: Path) -> None:
    spool = Spool(tmp_path)
    spool.open()
    assert spool.drop_ingested({}) == []
    assert spool.files() == [spool.current_file]
    spool.close()


# --------------------------------------------------------------------------- rotation


def test_rotation_by_max_file_bytes(tmp_path: Path) -> None:
    items = records(12)
    lines = [encode(r) for r in items]
    limit = 2 * max(len(line) for line in lines)  # a file holds 2-3 records
    spool = Spool(tmp_path, max_file_bytes=limit)
    spool.open()
    positions = [spool.append(line) for line in lines]
    current = spool.current_file

    files = spool.files()
    assert len(files) >= 4
    assert len(set(files)) == len(files)
    assert files[-1] == current
    assert [p.file for p in positions] == sorted(p.file for p in positions)
    for name in files:
        size = (tmp_path / name).stat().st_size
        own = [line for line, p in zip(lines, positions, strict=True) if p.file == name]
        assert size == sum(len(line) for line in own)
        if name != current:
            assert size >= limit  # rotated only once full
            assert size - len(own[-1]) < limit  # ...and not later than that
    for line, p in zip(lines, positions, strict=True):
        if p.end_offset == len(line):
            continue  # first record of a file
        assert p.end_offset > len(line)

    # while running, everything but the current file can be replayed
    running = [r for r, _ in spool.pending({})]
    in_current = sum(1 for p in positions if p.file == current)
    assert running == items[: len(items) - in_current]
    spool.close()

    # after a restart, all of it, in order
    after = restart(tmp_path, max_file_bytes=limit)
    assert [r for r, _ in after.pending({})] == items
    committed = {p.file: p.end_offset for p in positions}
    assert list(after.pending(committed)) == []
    assert sorted(after.drop_ingested(committed)) == files
    after.close()


def test_a_single_record_larger_than_the_limit_is_still_written(tmp_path: Path) -> None:
    big = event(1, props={"blob": "x" * 5000})
    spool = Spool(tmp_path, max_file_bytes=100)
    spool.open()
    first = spool.append(encode(big))
    second = spool.append(encode(event(2)))
    spool.close()
    assert first.end_offset == len(encode(big))
    assert second.file != first.file
    assert [r for r, _ in Spool(tmp_path).pending({})] == [big, event(2)]


# --------------------------------------------------------------------------- short writes

SHORT_WRITE_SCRIPT = """
import resource, signal, sys
from pathlib import Path
from collector.model import EventRecord
from collector.spool import Spool, encode

def record(n):
    return EventRecord(seq=n, site="example.com", event_id=f"e{n}", user_id="1.2",
                       session_id=None, ts=1700000000000 + n, received_ms=1700000000000 + n,
                       title="t", props={"ti": "t", "pad": "x" * 200})

signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write over the limit fails with EFBIG
soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
spool = Spool(Path(sys.argv[1]))
spool.open()
first = spool.append(encode(record(1)))
resource.setrlimit(resource.RLIMIT_FSIZE, (first.end_offset + 50, hard))  # "disk full"
try:
    spool.append(encode(record(2)))
    print("no-short-write")
except OSError:
    print("short-write")  # the collector answers 503: record 2 is not acknowledged
resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))  # space is back
spool.append(encode(record(3)))  # acknowledged (2xx)
spool.close()
"""


def test_acknowledged_record_after_a_short_write_survives_a_restart(tmp_path: Path) -> None:
    resource = pytest.importorskip("resource")
    if not hasattr(resource, "RLIMIT_FSIZE"):
        pytest.skip("no RLIMIT_FSIZE on this platform")
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", SHORT_WRITE_SCRIPT, str(tmp_path)],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.strip() == "short-write", done.stdout + done.stderr
    replayed = [r.seq for r, _ in Spool(tmp_path).pending({})]
    assert replayed == [1, 3]  # both acknowledged records, the failed one not


def test_a_failed_file_switch_never_writes_through_a_stale_descriptor(tmp_path: Path) -> None:
    spool_dir = tmp_path / "spool"
    spool = Spool(spool_dir, max_file_bytes=1)
    spool.open()
    spool.append(b"Efirst\n")
    for name in spool.files():
        (spool_dir / name).unlink()
    spool_dir.rmdir()  # the next switch (size limit reached) cannot open a new file
    with pytest.raises(OSError):
        spool.append(b"Esecond\n")
    assert spool._fd == -1
    spool_dir.mkdir()
    position = spool.append(b"Ethird\n")
    assert (spool_dir / position.file).read_bytes() == b"Ethird\n"
    spool.close()
