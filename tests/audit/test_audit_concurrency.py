"""Concurrent appenders in separate transactions never share or skip a sequence number,
including appenders that roll back; the log verifies afterwards."""

from __future__ import annotations

import threading

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from mamori.audit import service
from mamori.audit.models import AuditEntry

WORKERS = 6
PER_WORKER = 8


def test_concurrent_appenders_leave_no_gaps(engine: Engine) -> None:
    start = threading.Barrier(WORKERS)
    errors: list[BaseException] = []

    def work(worker: int) -> None:
        try:
            start.wait()
            for i in range(PER_WORKER):
                with Session(engine) as session:
                    service.record(session=session, actor=f"worker{worker}", action="x.append",
                                   object_type="Test", object_id=f"{worker}-{i}")
                    # Some work between the append and the commit, and some rollbacks.
                    session.execute(select(AuditEntry.seq).limit(1)).all()
                    if i % 4 == 3:
                        session.rollback()
                    else:
                        session.commit()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(w,)) for w in range(WORKERS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    with Session(engine) as session:
        rows = session.execute(
            select(AuditEntry.seq, AuditEntry.object_id).order_by(AuditEntry.seq)
        ).all()
        expected = WORKERS * PER_WORKER * 3 // 4
        assert [r.seq for r in rows] == list(range(expected))
        assert len({r.object_id for r in rows}) == expected
        service.issue_tree_head(session=session)
        session.commit()
        assert service.verify_log(session=session).ok
