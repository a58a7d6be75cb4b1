"""``hepatorisk promote``: the gate that fits the challenger, then the change record.

A retrained challenger goes through the training gate (``training.gate``). A recalibrated one
was gated against its parent on held-out local rows when it was made (``local_gate.json``):
that decision applies if the champion is still that parent, else it fails (recalibrate again
against the current champion). Every promotion that moves ``champion`` writes a change record.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hepatorisk import tracking
from hepatorisk.exceptions import HepatoriskError
from hepatorisk.monitoring import change_record
from hepatorisk.monitoring.challenger import LOCAL_GATE_FILE, RECALIBRATED_FROM
from hepatorisk.training import gate
from hepatorisk.training.gate import GateDecision

__all__ = ["promote"]


def promote(name: str) -> tuple[GateDecision, str, str | None]:
    """Move ``champion`` to the challenger if its gate passes; record the change."""
    challenger = tracking.alias_version(name, "challenger")
    tags = dict(getattr(challenger, "tags", None) or {})
    if challenger is None or RECALIBRATED_FROM not in tags:
        decision, new, old = gate.promote(name)
    else:
        decision, new, old = _promote_recalibrated(name, challenger, tags[RECALIBRATED_FROM])
    if decision.passed and old != new and challenger is not None and challenger.run_id:
        try:
            record = change_record.build(name, new, old, decision.reasons)
            change_record.store(record, challenger.run_id)
        except HepatoriskError as exc:  # promoted already: say loudly that the record is missing
            decision.reasons.append(f"WARNING: change record NOT written ({exc})")
        else:
            decision.reasons.append(
                f"change record: run {challenger.run_id}, {change_record.CHANGE_RECORD}"
            )
    return decision, new, old


def _promote_recalibrated(
    name: str, challenger: object, parent: str
) -> tuple[GateDecision, str, str | None]:
    version = str(getattr(challenger, "version"))  # noqa: B009 - MLflow's ModelVersion
    run_id = str(getattr(challenger, "run_id"))  # noqa: B009
    champion = tracking.alias_version(name, "champion")
    old = str(champion.version) if champion is not None else None
    if old == version:
        return GateDecision(True, [f"version {version} is already the champion"]), version, old
    with tempfile.TemporaryDirectory() as tmp:
        stored = json.loads(
            tracking.download_run_artifact(run_id, LOCAL_GATE_FILE, Path(tmp)).read_text()
        )
    decision = GateDecision(passed=True)
    decision.check(
        old == parent,
        f"the champion ({old or 'none'}) is the parent this recalibration was gated against "
        f"({parent})",
    )
    for reason in stored["reasons"]:
        decision.check(reason.startswith("pass"), f"local gate on held-out local rows: {reason}")
    if decision.passed:
        tracking.set_alias(name, "champion", version)
    return decision, version, old
